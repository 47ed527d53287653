"""Text normalisation: what every voice says for the script, and what captions show."""

from __future__ import annotations

import pytest

from audio.textnorm import (
    Token,
    integer_words,
    number_words,
    shown,
    spoken,
    spoken_words,
    strip_marks,
    tokens,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (28, "twenty eight"),
        (100, "one hundred"),
        (259, "two hundred fifty nine"),
        (999, "nine hundred ninety nine"),
        (1000, "one thousand"),
        (4000, "four thousand"),
        (60_000, "sixty thousand"),
        (1_000_001, "one million one"),
        (2_500_000_000, "two billion five hundred million"),
        (-3, "minus three"),
    ],
)
def test_integer_words(n: int, words: str) -> None:
    assert integer_words(n) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0.078", "zero point zero seven eight"),
        ("0.0001", "zero point zero zero zero one"),
        ("12.5", "twelve point five"),
        (".5", "zero point five"),
        ("-1", "minus one"),
        ("−0.5", "minus zero point five"),
        ("1,000", "one thousand"),
        ("4e-5", "four times ten to the minus five"),
        ("4.0e-05", "four point zero times ten to the minus five"),
        ("1E3", "one times ten to the three"),
    ],
)
def test_number_words(text: str, words: str) -> None:
    assert number_words(text) == words


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "--1"])
def test_number_words_rejects_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        number_words(bad)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # the closed form, as the lecture writes it
        (
            "x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε",
            "x sub t equals the square root of alpha bar t times x sub zero plus "
            "the square root of one minus alpha bar t times epsilon",
        ),
        # Greek with a subscript is said without "sub", Latin letters with it
        ("β_t and x_{t-1} and x₀", "beta t and x sub t minus one and x sub zero"),
        ("α̅_t", "alpha bar t"),  # combining overline
        ("x̂_0", "x hat sub zero"),
        ("ε_θ(x_t, t)", "epsilon theta of x sub t, t"),
        ("q(x_t | x_{t-1})", "q of x sub t given x sub t minus one"),
        ("x² and σ^{2} and A^T and W^{-1}", "x squared and sigma squared and A transpose "
                                             "and W inverse"),
        ("∑_{s=1}^{t} β_s", "the sum from s equals one to t of beta s"),
        # numbers in prose
        ("At t = 500, ᾱ is 0.078.", "At t equals five hundred, alpha bar is zero point zero "
                                     "seven eight."),
        ("50% of 1,000 steps", "fifty percent of one thousand steps"),
        ("the 3rd and 21st and 100th", "the third and twenty first and one hundredth"),
        ("about 4×10⁻⁵", "about four times ten to the minus five"),
        ("shape 1x28x28", "shape one by twenty eight by twenty eight"),
        ("steps 1–10", "steps one to ten"),
        ("from -1 to 1", "from minus one to one"),
        ("t-1", "t minus one"),
        # abbreviations and names
        ("e.g. MNIST, i.e. DDPM", "for example em nist, that is D D P M"),
        ("(e.g., this) etc.", "for example, this et cetera"),
        ("No. 5 in Fig. 2", "number five in figure two"),
        ("PyTorch TODO", "pie torch to do"),
        # code identifiers
        ("load_mnist and q_sample via torch.linspace", "load em nist and q sample via torch "
                                                      "lin space"),
        # words are left alone, hyphens between letters become spaces
        ("Let's look: closed-form, step-by-step.", "Let's look: closed form, step by step."),
    ],
)
def test_spoken(text: str, said: str) -> None:
    assert spoken(text) == said


def test_plain_prose_is_unchanged() -> None:
    prose = "Here is a clean handwritten digit, and it dissolves into noise."
    assert spoken(prose) == prose
    assert shown(prose) == prose


def test_markers_are_neither_shown_nor_said() -> None:
    text = 'Now <mark name="noise"/>noise arrives, <mark name="end" />  then it ends.'
    assert shown(text) == "Now noise arrives, then it ends."
    assert "mark" not in spoken(text) and "noise arrives" in spoken(text)
    assert strip_marks('<mark name="a"/>') == ""


def test_tokens_pair_what_is_shown_with_what_is_said() -> None:
    toks = tokens("ᾱ_t is 0.078 — e.g. MNIST.")
    assert [t.shown for t in toks] == ["ᾱ_t", "is", "0.078", "—", "e.g.", "MNIST."]
    assert toks[0] == Token("ᾱ_t", "alpha bar t")
    assert toks[2].words == ("zero", "point", "zero", "seven", "eight")
    assert toks[3].words == ()  # a dash is a pause, not a word
    assert toks[5].spoken == "em nist." and toks[5].words == ("em", "nist")
    # captions are the shown parts, the aligner's words the spoken ones
    assert " ".join(t.shown for t in toks) == shown("ᾱ_t is 0.078 — e.g. MNIST.")
    assert spoken_words("ᾱ_t is 0.078") == [
        "alpha", "bar", "t", "is", "zero", "point", "zero", "seven", "eight",
    ]


def test_spoken_words_are_plain_ascii_words() -> None:
    text = "x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, about 4×10⁻⁵ (e.g. 50%) — ∑_{s=1}^{t} β_s!"
    words = spoken_words(text)
    assert words and all(w.isascii() and w.replace("'", "").isalpha() for w in words)


def test_unknown_symbols_are_dropped_not_spelled() -> None:
    assert spoken("noise ✨ here") == "noise here"


# ------------------------------------------------------------------ readings for alignment


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("x_t", "x t"),
        ("0.078", "point oh seven eight"),
        ("0.078", "point zero seven eight"),
        ("√ᾱ_t", "root alpha bar t"),
        ("√ᾱ_t", "square root of alpha bar t"),
        ("1,000", "a thousand"),
        ("t=500", "t is five hundred"),
        ("1999", "nineteen ninety nine"),
        ("259", "two fifty nine"),
        ("259", "two hundred and fifty nine"),
        ("e.g.", "e g"),
    ],
)
def test_readings_hold_the_ways_people_say_it(text: str, reading: str) -> None:
    from audio.textnorm import readings

    (slot,) = readings(text)
    assert slot[0] == tuple(spoken_words(text))  # the voices' own reading comes first
    assert tuple(reading.split()) in slot
    assert len(set(slot)) == len(slot)


def test_first_readings_are_the_spoken_words() -> None:
    from audio.textnorm import readings, spoken_readings

    text = "At t=500, √ᾱ_t is 0.078 — the 3rd of 1,000 steps, e.g. x_{t-1}."
    assert [w for slot in readings(text) for w in slot[0]] == spoken_words(text)
    assert spoken_readings(text)[0] == " ".join(spoken_words(text))
    assert any(r.startswith("At t is five hundred root alpha bar t") for r in
               spoken_readings(text))


def test_number_words_come_from_num2words() -> None:
    assert integer_words(10**16) == "ten quadrillion"
    assert integer_words(101) == "one hundred one"
    assert spoken("the 21st step") == "the twenty first step"
