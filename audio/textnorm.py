"""Text normalisation: the words a voice says for a line of lecture script (pure, no I/O).

Every speech source (Piper, espeak-ng, a recorded take's aligner) reads the same words,
so both voices say the same thing and a recorded take is aligned against what the
speaker was asked to say. Captions keep the script as written (digits, ``ᾱ``, ``x_t``).

The unit is the *token*: a whitespace-separated piece of the script as written
(``shown``), and the words spoken for it (``spoken``, with the token's trailing
punctuation kept for prosody). Joining the shown parts gives :func:`shown`, the caption
text; joining the spoken parts gives :func:`spoken`. A token may say several words
(``√ᾱ_t`` → "the square root of alpha bar t") or none (a lone dash).

Rules, in the order they apply inside a token:

* Markers ``<mark name="..."/>`` are neither shown nor said.
* Abbreviations: ``e.g.`` → "for example", ``i.e.`` → "that is", ``etc.``, ``vs.``,
  ``cf.``, ``approx.``, ``fig.``, ``eq.``, ``no.`` before a number (:data:`ABBREVIATIONS`).
* Known names are said as they are said aloud: ``MNIST`` → "em nist", ``PyTorch`` →
  "pie torch", ``TODO`` → "to do" (:data:`LEXICON`). Any other word of two to five
  capitals is spelled letter by letter (``DDPM`` → "D D P M").
* Numbers: integers as cardinals without "and" (``259`` → "two hundred fifty nine"),
  thousands separators (``1,000``), decimals digit by digit after "point" (``0.078`` →
  "zero point zero seven eight"), a sign (``-1``, ``−1`` → "minus one"), percentages,
  ordinals (``3rd``), scientific notation (``4e-5``, ``4×10⁻⁵`` → "four times ten to the
  minus five"), shapes (``28x28`` → "twenty eight by twenty eight").
* Greek letters by name (``ε`` → "epsilon"); a macron or overline says "bar" (``ᾱ``),
  a circumflex "hat", a tilde "tilde".
* Subscripts (``_t``, ``_{t-1}``, ``₀``): after a Latin letter "sub" (``x_t`` → "x sub t"),
  after a Greek letter nothing (``β_t`` → "beta t", as a lecturer says it). An underscore
  inside a longer name is a space (``q_sample`` → "q sample").
* Superscripts (``^2``, ``²``, ``⁻⁵``): "squared", "cubed", "transpose", "inverse",
  else "to the …".
* Operators and symbols: ``√`` "the square root of", ``=`` "equals", ``≈`` "is about",
  ``+`` "plus", ``−`` "minus", ``·``/``×``/``*`` "times", ``/`` "over", ``|`` "given",
  ``~`` "drawn from", ``∑`` "the sum of", ``∏`` "the product of", ``∈`` "in", ``≤``, ``≥``,
  ``<``, ``>``, ``±``, ``→``, ``∞``, ``∇``, ``%`` …; a single-letter function applied to
  brackets says "of" (``q(x_t)`` → "q of x sub t"). Other brackets and quotes are silent.
* A hyphen between letters is a space (``closed-form``), next to a digit it is "minus"
  (``t-1``); an en dash between numbers is "to". A dot inside a name is a space
  (``torch.linspace``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from num2words import num2words

__all__ = [
    "Token",
    "tokens",
    "spoken",
    "shown",
    "spoken_words",
    "Style",
    "STYLES",
    "readings",
    "spoken_readings",
    "number_words",
    "integer_words",
    "strip_marks",
    "ABBREVIATIONS",
    "LEXICON",
    "GREEK",
]

MARK = re.compile(r"<mark\s+name\s*=\s*\"([^\"]*)\"\s*/>")

_DIGIT = "zero one two three four five six seven eight nine".split()


@dataclass(frozen=True)
class Style:
    """One way of reading numbers and formulas aloud. ``Style()`` is the way every voice
    of the project reads them (:func:`spoken`); the others are ways a lecturer may.

    ``decimal``: ``"zero"`` ("zero point zero seven eight"), ``"point"`` ("point zero
    seven eight"), ``"oh"`` ("point oh seven eight"). ``integer``: ``"plain"`` ("two
    hundred fifty nine"), ``"and"`` ("two hundred and fifty nine"), ``"a"`` ("a
    thousand"), ``"pairs"`` (as a year is read: "two fifty nine", "nineteen ninety
    nine"). ``sub``: say "sub" between a letter and its subscript ("x sub t") or not
    ("x t"). ``root``, ``equals``: the words for ``√`` and ``=``.
    """

    decimal: str = "zero"
    integer: str = "plain"
    sub: bool = True
    root: str = "the square root of"
    equals: str = "equals"


_CASUAL = Style("oh", "pairs", False, "root", "is")
# The readings tried when aligning a take: the voices' own, each habit on its own, and
# two casual readers who have all of them at once.
STYLES: tuple[Style, ...] = (
    Style(),
    Style(decimal="point"), Style(decimal="oh"),
    Style(integer="and"), Style(integer="a"), Style(integer="pairs"),
    Style(sub=False), Style(root="square root of"), Style(root="root"),
    Style(equals="is"), Style(equals="equal to"),
    _CASUAL, replace(_CASUAL, decimal="point", integer="a", root="square root of"),
)
_PLAIN = STYLES[0]

ABBREVIATIONS: dict[str, str] = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "vs.": "versus",
    "cf.": "compare",
    "approx.": "approximately",
    "fig.": "figure",
    "figs.": "figures",
    "eq.": "equation",
    "eqs.": "equations",
    "sec.": "section",
    "resp.": "respectively",
    "viz.": "namely",
    "dr.": "doctor",
    "prof.": "professor",
    "al.": "al",
}

# Names said differently from how they are spelled (looked up lower-case).
LEXICON: dict[str, str] = {
    "mnist": "em nist",
    "cifar": "see far",
    "pytorch": "pie torch",
    "torchvision": "torch vision",
    "numpy": "num pie",
    "scipy": "sigh pie",
    "todo": "to do",
    "linspace": "lin space",
    "cumprod": "cumulative product",
    "arange": "a range",
    "randn": "rand n",
    "sqrt": "square root",
    "unet": "U net",
    "imagenet": "image net",
    "gan": "gan",
    "gans": "gans",
    "elbo": "el bo",
    "manim": "man im",
    "ok": "okay",
}

GREEK: dict[str, str] = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma",
    "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi",
    "ψ": "psi", "ω": "omega", "Γ": "gamma", "Δ": "delta", "Θ": "theta", "Λ": "lambda",
    "Ξ": "xi", "Π": "pi", "Φ": "phi", "Ψ": "psi", "Ω": "omega",
}
# Combining marks over a symbol, said after it.
_ACCENTS = {"\u0304": "bar", "\u0305": "bar", "\u0302": "hat", "\u0303": "tilde",
            "\u0307": "dot"}

SYMBOLS: dict[str, str] = {
    "√": "the square root of", "∑": "the sum of", "Σ": "the sum of",
    "∏": "the product of", "∫": "the integral of", "∇": "the gradient of",
    "∂": "partial", "=": "equals", "≈": "is about", "≠": "is not equal to",
    "≡": "is defined as", "≔": "is defined as", "+": "plus", "−": "minus", "±": "plus or minus",
    "·": "times", "×": "times", "*": "times", "∗": "times", "/": "over", "÷": "divided by",
    "|": "given", "~": "drawn from", "∼": "drawn from", "∈": "in", "≤": "at most",
    "≥": "at least", "<": "less than", ">": "greater than", "→": "to", "←": "from",
    "⇒": "implies", "∞": "infinity", "%": "percent", "&": "and", "@": "at", "°": "degrees",
    "∝": "is proportional to", "…": "",
}
_BIG_OPS = {"∑": "the sum", "Σ": "the sum", "∏": "the product", "∫": "the integral"}
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵀⁿᵗⁱ", "0123456789-+Tnti")
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉₋₊ₜᵢₙₖₓ", "0123456789-+tinkx")
_SUPER_CHARS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵀⁿᵗⁱ"
_SUB_CHARS = "₀₁₂₃₄₅₆₇₈₉₋₊ₜᵢₙₖₓ"

_PUNCT_TAIL = ",.;:!?"
_SILENT = "()[]{}\"'\u2018\u2019\u201c\u201d`$\\"
_NUMBER = re.compile(
    r"(?P<sign>[-−])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?"
)
_ORD_SUFFIX = re.compile(r"(st|nd|rd|th)\b")
_SCI = re.compile(r"[eE](?P<exp>[-+−]?\d+)")


@dataclass(frozen=True)
class Token:
    """One whitespace-separated piece of script: as written and as said."""

    shown: str
    spoken: str  # words, with trailing punctuation kept; "" when nothing is said

    @property
    def words(self) -> tuple[str, ...]:
        """The spoken words without punctuation (what a word aligner sees)."""
        return tuple(_bare_words(self.spoken))


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9" if c else False


def _bare_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", text)


# ------------------------------------------------------------------ numbers


def _library(n: int, to: str = "cardinal") -> str:
    """``num2words`` in English, as plain words: no hyphens, no commas."""
    return " ".join(num2words(n, lang="en", to=to).replace("-", " ").replace(",", " ").split())


def integer_words(n: int, style: Style = _PLAIN) -> str:
    """Cardinal words for an integer (``-3`` → "minus three"), from ``num2words``.

    The default is American style without "and" ("two hundred fifty nine"); ``style``
    may keep the "and", say "a thousand", or read a number of two to four digits in
    pairs, as a year is read ("two fifty nine", "nineteen ninety nine").
    """
    if n < 0:
        return "minus " + integer_words(-n, style)
    if style.integer == "pairs" and 100 <= n < 10_000 and n % 1000:
        return _library(n, "year")
    said = _library(n)
    if style.integer != "and":
        said = " ".join(w for w in said.split() if w != "and")
    if style.integer == "a" and n >= 100 and said.startswith("one "):
        said = "a " + said[4:]
    return said


def _ordinal(n: int, style: Style = _PLAIN) -> str:
    said = _library(n, "ordinal")
    return said if style.integer == "and" else " ".join(w for w in said.split() if w != "and")


def number_words(text: str) -> str:
    """Words for a number written in digits: ``"0.078"``, ``"-1"``, ``"1,000"``, ``"4e-5"``.

    Decimals are read digit by digit after "point", the way a lecturer reads a value
    off the screen. Raises ``ValueError`` for anything that is not such a number.
    """
    m = _NUMBER.fullmatch(text.strip().replace("−", "-").split("e")[0].split("E")[0])
    if not m or not (m.group("int") or m.group("frac")):
        raise ValueError(f"not a number: {text!r}")
    out = _number_from_match(m, _PLAIN)
    sci = _SCI.search(text)
    if sci:
        out += " times ten to the " + _exponent_words(sci.group("exp"))
    return out


def _number_from_match(m: re.Match[str], style: Style) -> str:
    parts = []
    if m.group("sign"):
        parts.append("minus")
    whole = m.group("int")
    frac = m.group("frac")
    if whole and not (frac is not None and style.decimal != "zero" and int(whole) == 0):
        parts.append(integer_words(int(whole.replace(",", "")), style))
    if frac is not None:
        if not whole and style.decimal == "zero":
            parts.append("zero")
        digits = [_DIGIT[int(d)] for d in frac]
        if style.decimal == "oh":
            digits = ["oh" if d == "zero" else d for d in digits]
        parts.append("point " + " ".join(digits))
    return " ".join(parts)


def _exponent_words(exp: str, style: Style = _PLAIN) -> str:
    exp = exp.replace("−", "-")
    sign = "minus " if exp.startswith("-") else ""
    return sign + integer_words(int(exp.lstrip("+-")), style)


# ------------------------------------------------------------------ one token


def _power_words(sup: str, style: Style) -> str:
    """Words for a superscript's content (already in ASCII)."""
    s = sup.strip()
    if s == "2":
        return "squared"
    if s == "3":
        return "cubed"
    if s == "T":
        return "transpose"
    if s in ("-1", "−1"):
        return "inverse"
    return "to the " + _inline(s, style)


def _group(text: str, i: int) -> tuple[str, int]:
    """The sub/superscript argument starting at ``text[i]``: ``{...}`` or one character."""
    if i < len(text) and text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
            j += 1
        return text[i + 1 :], len(text)
    if i < len(text) and text[i] in "-−+" and i + 1 < len(text) and _isdigit(text[i + 1]):
        j = i + 1
        while j < len(text) and _isdigit(text[j]):
            j += 1
        return text[i:j], j
    if i < len(text) and _isdigit(text[i]):
        j = i
        while j < len(text) and _isdigit(text[j]):
            j += 1
        return text[i:j], j
    return (text[i], i + 1) if i < len(text) else ("", i)


def _word(w: str) -> str:
    low = w.lower()
    if low in LEXICON:
        return LEXICON[low]
    if 2 <= len(w) <= 5 and w.isupper() and w.isalpha():
        return " ".join(w)  # an acronym: letter by letter
    return w


class _Reader:
    """Where :func:`_inline` is in one token, the words said so far, and the kind of the
    last thing said: ``"latin1"`` (a single Latin letter), ``"greek"``, ``"word"``,
    ``"num"``, ``"op"`` or ``""`` (nothing yet)."""

    def __init__(self, text: str, style: Style) -> None:
        self.text = text
        self.style = style
        self.n = len(text)
        self.i = 0
        self.out: list[str] = []
        self.prev_kind = ""

    def emit(self, words: str, kind: str) -> None:
        if words:
            self.out.append(words)
        self.prev_kind = kind

    def said(self) -> str:
        text_out = " ".join(self.out)
        text_out = re.sub(r"\s+([,.;:!?])", r"\1", text_out)
        return re.sub(r"\s+", " ", text_out).strip()


def _inline(text: str, style: Style = _PLAIN) -> str:
    """Words for the inside of a token (no surrounding whitespace), read in ``style``."""
    r = _Reader(text, style)
    while r.i < r.n:
        c = text[r.i]
        nxt = text[r.i + 1] if r.i + 1 < r.n else ""
        for read in _READERS:
            if read(r, c, nxt):
                break
    return r.said()


def _read_number(r: _Reader, c: str, nxt: str) -> bool:
    """A number (with sign, decimals, exponent, percent, ordinal)."""
    if not (_isdigit(c) or (c == "." and _isdigit(nxt)) or (
        c in "-−" and _isdigit(nxt) and r.prev_kind in ("", "op")
    )):
        return False
    text, n = r.text, r.n
    m = _NUMBER.match(text, r.i)
    assert m is not None and m.end() > r.i
    j = m.end()
    words = _number_from_match(m, r.style)
    sci = _SCI.match(text, j)
    if sci and (j + len(sci.group(0)) == n or not text[j + len(sci.group(0))].isalpha()):
        words += " times ten to the " + _exponent_words(sci.group("exp"), r.style)
        j = sci.end()
    ordm = _ORD_SUFFIX.match(text, j) if m.group("frac") is None else None
    if ordm and m.group("int"):
        words = ("minus " if m.group("sign") else "") + _ordinal(
            int(m.group("int").replace(",", "")), r.style)
        j = ordm.end()
    r.emit(words, "num")
    r.i = j
    return True


def _read_by(r: _Reader, c: str, nxt: str) -> bool:
    """The ``x`` of a shape (``28x28``: "by"), or of a power of ten ("times")."""
    if not (c in "xX×" and r.prev_kind == "num" and _isdigit(nxt)):
        return False
    text, n, i = r.text, r.n, r.i
    k = i + 1
    while k < n and _isdigit(text[k]):
        k += 1
    power = k < n and (text[k] in "^" or text[k] in _SUPER_CHARS)
    r.emit("times" if (power and text[i + 1 : k] == "10") else "by", "op")
    r.i += 1
    return True


def _read_dash(r: _Reader, c: str, nxt: str) -> bool:
    """A hyphen between letters (a space), an en or em dash, or a minus."""
    if c in "-−" and r.prev_kind in ("word", "latin1", "greek") and nxt.isalpha() and c == "-":
        r.emit("", "op")  # closed-form, U-Net: a space
    elif c in "\u2013\u2014":  # en/em dash: "to" between numbers, else a pause
        r.emit("to" if r.prev_kind == "num" and _isdigit(nxt) else ",", "op")
    elif c == "-":
        r.emit("minus", "op")
    else:
        return False
    r.i += 1
    return True


def _read_limits(r: _Reader, c: str, nxt: str) -> bool:
    """The limits of a big operator: "from ... to ... of"."""
    if not (c in "_^" and r.i and r.text[r.i - 1] in "∑∏Σ∫"):
        return False
    text, n = r.text, r.n
    arg, j = _group(text, r.i + 1)
    r.emit(("from " if c == "_" else "to ") + _inline(arg, r.style), "op")
    if j < n and text[j] in "_^":
        arg2, j = _group(text, j + 1)
        r.emit(("from " if text[j - len(arg2) - 1] == "_" else "to ") + _inline(arg2, r.style),
               "op")
    r.emit("of", "op")
    r.i = j
    return True


def _read_subscript(r: _Reader, c: str, nxt: str) -> bool:
    """``_t``, ``_{t-1}``, ``₀``: "sub" after a Latin letter, nothing after a Greek one;
    an underscore inside a longer name is a space."""
    text, n, i = r.text, r.n, r.i
    if c == "_":
        arg, j = _group(text, i + 1)
        one_char = j - i - 1 == 1 and not (j < n and text[j].isalnum())
        single = r.prev_kind in ("latin1", "greek") and (
            one_char or text[i + 1] == "{" or arg.lstrip("-+").isdigit()
        )
        if single:
            said = _inline(arg, r.style)
            sub = r.prev_kind != "greek" and r.style.sub
            r.emit("sub " + said if sub else said, "word")
            if j < n and text[j] == "(":  # p_θ(x): a function applied
                r.emit("of", "op")
                j += 1
        else:
            r.emit("", "op")  # q_sample: a space
        r.i = j if single else i + 1
        return True
    if c in _SUB_CHARS:
        j = i
        while j < n and text[j] in _SUB_CHARS:
            j += 1
        said = _inline(text[i:j].translate(_SUB), r.style)
        sub = r.prev_kind != "greek" and r.style.sub
        r.emit("sub " + said if sub else said, "word")
        r.i = j
        return True
    return False


def _read_superscript(r: _Reader, c: str, nxt: str) -> bool:
    """``^2``, ``²``, ``⁻⁵``: "squared", "to the minus five"."""
    text, n, i = r.text, r.n, r.i
    if c == "^":
        arg, j = _group(text, i + 1)
        r.emit(_power_words(arg, r.style), "word")
        r.i = j
        return True
    if c in _SUPER_CHARS:
        j = i
        while j < n and text[j] in _SUPER_CHARS:
            j += 1
        r.emit(_power_words(text[i:j].translate(_SUPER), r.style), "word")
        r.i = j
        return True
    return False


def _read_greek(r: _Reader, c: str, nxt: str) -> bool:
    """A Greek letter by name, with its accents ("alpha bar"); "of" if applied."""
    base = unicodedata.normalize("NFD", c)
    if not (base[0] in GREEK or c in GREEK):
        return False
    text, n = r.text, r.n
    names = [GREEK.get(c) or GREEK[base[0]]]
    marks = base[1:]
    j = r.i + 1
    while j < n and unicodedata.combining(text[j]):
        marks += text[j]
        j += 1
    names += [_ACCENTS[m] for m in marks if m in _ACCENTS]
    r.emit(" ".join(names), "greek")
    r.i = j
    if j < n and text[j] == "(":  # σ(x): a function applied
        r.emit("of", "op")
        r.i = j + 1
    return True


def _read_latin(r: _Reader, c: str, nxt: str) -> bool:
    """A Latin word (or letter, with its accents); "of" after a letter applied."""
    if not (c.isalpha() and c.isascii()):
        return False
    text, n = r.text, r.n
    j = r.i
    while j < n and (text[j].isascii() and text[j].isalpha() or (
        text[j] == "'" and j + 1 < n and text[j + 1].isalpha())):
        j += 1
    w = text[r.i:j]
    marks = ""
    while j < n and unicodedata.combining(text[j]):
        marks += text[j]
        j += 1
    said = _word(w)
    if marks:
        said = " ".join([said, *(_ACCENTS[m] for m in marks if m in _ACCENTS)])
    r.emit(said, "latin1" if len(w) == 1 else "word")
    r.i = j
    # a single-letter function applied: q(x), N(0, I)
    if len(w) == 1 and j < n and text[j] == "(":
        r.emit("of", "op")
        r.i = j + 1
    return True


def _read_other_letter(r: _Reader, c: str, nxt: str) -> bool:
    """Other letters (é, x̄ precomposed): accents stripped, the letter kept."""
    if not c.isalpha():
        return False
    plain = "".join(ch for ch in unicodedata.normalize("NFD", c) if ch.isascii())
    accents = [m for m in unicodedata.normalize("NFD", c)[1:] if m in _ACCENTS]
    if accents and plain:
        r.emit(" ".join([plain, *(_ACCENTS[m] for m in accents)]), "latin1")
    else:
        r.emit(plain or c, "word")
    r.i += 1
    return True


def _read_symbol(r: _Reader, c: str, nxt: str) -> bool:
    """Dots, operators, punctuation; silent brackets and quotes; anything else unsaid."""
    if c == ".":
        if r.prev_kind in ("word", "latin1", "greek") and nxt.isalpha():
            r.emit("", "op")  # torch.linspace: a space
        else:
            r.emit(".", "op")
    elif c in _BIG_OPS and nxt in "_^" and nxt:
        r.emit(_BIG_OPS[c], "op")  # limits follow: "the sum from s equals one to t of"
    elif c == "√":
        r.emit(r.style.root, "op")
    elif c == "=":
        r.emit(r.style.equals, "op")
    elif c in SYMBOLS:
        r.emit(SYMBOLS[c], "op")
    elif c in ",;:!?":
        r.emit(c, "op")
    elif c == "=" or c in _SILENT or unicodedata.combining(c):
        r.prev_kind = r.prev_kind if c in ")]}" else ("op" if c in "([{" else r.prev_kind)
    else:
        r.emit("", r.prev_kind)  # anything else (emoji, box drawing) is not said
    r.i += 1
    return True


# Tried in this order at each character; the last always reads one.
_READERS: tuple[Callable[[_Reader, str, str], bool], ...] = (
    _read_number, _read_by, _read_dash, _read_limits, _read_subscript, _read_superscript,
    _read_greek, _read_latin, _read_other_letter, _read_symbol,
)


def _token(shown_text: str, before: str | None, after: str | None,
           style: Style = _PLAIN) -> str:
    """What is said for one token in ``style``, given its neighbours (for "No. 5")."""
    core = shown_text
    tail = ""
    while core and core[-1] in _PUNCT_TAIL + "\"')]\u2019\u201d":
        if core.lower() in ABBREVIATIONS or core.lower() == "no.":
            break
        tail = core[-1] + tail
        core = core[:-1]
    lead = ""
    while core and core[0] in "\"'([\u2018\u201c":
        lead += core[0]
        core = core[1:]
    low = core.lower()
    if low == "no." and after is not None and _isdigit(after[:1]):
        return "number" + _tail_punct(tail)
    if low in ABBREVIATIONS:
        return ABBREVIATIONS[low] + _tail_punct(tail)
    if low + "." in ABBREVIATIONS and tail.startswith("."):
        return ABBREVIATIONS[low + "."] + _tail_punct(tail[1:])
    said = _inline(core, style)
    return (said + _tail_punct(tail)) if said else _tail_punct(tail).lstrip()


def _tail_punct(tail: str) -> str:
    kept = "".join(ch for ch in tail if ch in _PUNCT_TAIL)
    return kept[:1] if not kept.startswith("...") else "..."


# ------------------------------------------------------------------ public


def strip_marks(text: str) -> str:
    """The script without its ``<mark name="..."/>`` markers, whitespace collapsed."""
    return " ".join(MARK.sub(" ", text).split())


def tokens(text: str) -> list[Token]:
    """The script split into :class:`Token` s (markers removed), in order."""
    parts = strip_marks(text).split()
    out = []
    for k, part in enumerate(parts):
        before = parts[k - 1] if k else None
        after = parts[k + 1] if k + 1 < len(parts) else None
        out.append(Token(part, _token(part, before, after)))
    return out


def spoken(text: str) -> str:
    """What a voice says for ``text``: words only, punctuation kept for prosody."""
    said = " ".join(t.spoken for t in tokens(text) if t.spoken)
    said = re.sub(r"\s+([,.;:!?])", r"\1", said)
    said = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", said)
    return said.lstrip(",;: ").strip()


def spoken_words(text: str) -> list[str]:
    """The spoken words of ``text`` without punctuation, in order (for word alignment)."""
    return [w for t in tokens(text) for w in t.words]


# Other ways people say an abbreviation (the first reading is ABBREVIATIONS').
_ALSO_SAID: dict[str, tuple[str, ...]] = {
    "e.g.": ("e g",), "i.e.": ("i e",), "etc.": ("and so on",), "cf.": ("see",),
}


def readings(text: str) -> list[tuple[tuple[str, ...], ...]]:
    """Each token's readings as word tuples, for aligning a take that was read aloud.

    One entry per token that says something; its first reading is what the voices say
    (so the first readings, joined, are :func:`spoken_words`), then every other reading
    of :data:`STYLES`, and of an abbreviation, without repeats.
    """
    parts = strip_marks(text).split()
    out = []
    for k, part in enumerate(parts):
        before = parts[k - 1] if k else None
        after = parts[k + 1] if k + 1 < len(parts) else None
        said = [tuple(_bare_words(_token(part, before, after, style))) for style in STYLES]
        said += [tuple(_bare_words(a)) for a in _ALSO_SAID.get(part.lower().rstrip(",;:"), ())]
        unique = tuple(dict.fromkeys(said))
        if any(unique):
            out.append(unique)
    return out


def spoken_readings(text: str) -> list[str]:
    """Every distinct way of reading ``text`` aloud that :func:`readings` allows, one
    habit at a time (for tests and messages; the aligner uses :func:`readings`)."""
    parts = strip_marks(text).split()
    out = []
    for style in STYLES:
        said = (_token(p, parts[k - 1] if k else None,
                       parts[k + 1] if k + 1 < len(parts) else None, style)
                for k, p in enumerate(parts))
        out.append(" ".join(w for t in said for w in _bare_words(t)))
    return list(dict.fromkeys(out))


def shown(text: str) -> str:
    """What captions show for ``text``: the script as written, markers removed."""
    return strip_marks(text)
