"""Script markup: bookmarks and value placeholders, and the exit-2 errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.script import ScriptError, find_placeholders, mark_time, parse_marks
from audio.sentences import Sentence, Word
from audio.textnorm import spoken_words
from diffusion.schedule import NoiseSchedule
from diffusion.worked import closed_form_example, one_step_moments
from pipeline import cli
from pipeline.planning.placeholders import expand_placeholders, format_value
from pipeline.planning.timing import apply_marks, plan_segment
from scenes.timing import Beat

SCRIPT = (
    'Here is a digit. Now <mark name="noise"/>noise arrives, step 0.5 by step. '
    'Finally <mark name="end"/>nothing is left.'
)


def test_parse_marks_counts_spoken_words_before_each_marker() -> None:
    marks = parse_marks(SCRIPT)
    assert [m.name for m in marks] == ["noise", "end"]
    words = spoken_words(SCRIPT)
    assert words[marks[0].word] == "noise" and words[marks[1].word] == "nothing"
    # "0.5" is three spoken words, so the second marker's index counts them
    assert marks[1].word == words.index("nothing")
    assert [m.sentence for m in marks] == [1, 2]


@pytest.mark.parametrize(
    "bad",
    ['<mark name=noise/>noise', '<mark name="noise">noise', '<mark name="a b"/>x',
     'Ends here. <mark name="late"/>'],
)
def test_malformed_or_trailing_markers_are_errors(bad: str) -> None:
    with pytest.raises(ScriptError, match="marker"):
        parse_marks(bad)


def test_mark_time_uses_words_then_falls_back_to_the_sentence() -> None:
    words = spoken_words(SCRIPT)
    timed = [Word(w, 0.3 * i, 0.3 * i + 0.25) for i, w in enumerate(words)]
    sentences = (Sentence("Here is a digit.", 0.0, 1.0),
                 Sentence("Now noise arrives, step 0.5 by step.", 1.4, 3.0),
                 Sentence("Finally nothing is left.", 3.4, 4.5))
    noise, end = parse_marks(SCRIPT)
    assert mark_time(noise, SCRIPT, timed, sentences) == (timed[noise.word].start, "word")
    # an aligner that lost a word before the marker: matched by the words around it
    lossy = timed[:2] + timed[3:]
    assert mark_time(noise, SCRIPT, lossy, sentences) == (timed[noise.word].start, "word")
    # no word times (silence, an unaligned take): its place in the sentence holding it,
    # "nothing" being the second of the sentence's four spoken words
    assert mark_time(end, SCRIPT, (), sentences) == (pytest.approx(3.4 + 1.1 / 4), "sentence")
    # a lone matching word elsewhere ("step" of another sentence) does not place it
    lost = timed[:4] + timed[9:]  # the words of "Now noise arrives, step 0" not found
    assert mark_time(noise, SCRIPT, lost, sentences) == (pytest.approx(1.4 + 1.6 / 9), "sentence")


def test_marked_beats_move_and_unmarked_beats_stay_in_order() -> None:
    # four beats, sentence rule puts beats 1..3 at 1, 2, 3 s; beat 2 is marked at 0.5 s
    assert apply_marks([1.0, 2.0, 3.0], {2: 0.5}, 4.0) == [0.25, 0.5, 3.0]
    assert apply_marks([1.0, 2.0, 3.0], {1: 1.5, 3: 3.5}, 4.0) == [1.5, 2.0, 3.5]
    with pytest.raises(ValueError, match="marked before"):
        apply_marks([1.0, 2.0, 3.0], {1: 2.5, 2: 1.0}, 4.0)
    beats = (Beat("a", 1.0, 0.1), Beat("b", 1.0, 0.1), Beat("c", 1.0, 0.1))
    t = plan_segment(beats=beats, narration_seconds=6.0, sentence_starts=[0.0, 2.0, 4.0],
                     marks={2: 5.0}, lead_in=0.5, tail=0.5, fps=30)
    assert t.beat_frames == (0, 15 + 60, 15 + 150)


def test_placeholders_are_the_math_cores_numbers() -> None:
    lin, cos = NoiseSchedule.linear(1000), NoiseSchedule.cosine(1000)
    text = ("{{alpha_bar t=500}} {{half_step}} {{half_step schedule=cosine}} "
            "{{alpha_bar t=999 sci=1}} {{beta_first digits=4}} {{steps}} {{last_step}}")
    assert expand_placeholders(text, {}).split() == [
        f"{lin.alpha_bar(500):.3f}", str(lin.first_below(0.5)), str(cos.first_below(0.5)),
        format_value(lin.alpha_bar(999), sci=1), f"{float(lin.betas[0]):.4f}", "1000", "999",
    ]
    assert format_value(lin.alpha_bar(999), sci=1) == "4.0×10⁻⁵"
    # arguments default to the segment's scene params: the scene's own numbers
    params = {"x_prev": 0.6, "beta": 0.04, "ts": [100, 600]}
    mean, std = one_step_moments(0.6, 0.04)
    assert expand_placeholders("{{one_step_mean}} {{one_step_std digits=1}}", params) == (
        f"{mean:.3f} {std:.1f}"
    )
    assert expand_placeholders("{{param name=ts index=1}} {{param name=x_prev}}", params) == (
        "600 0.6"
    )
    assert expand_placeholders("{{closed_form alpha_bar=0.5}}", {}) == (
        f"{closed_form_example(0.5, 0.8, 0.3):.3f}"
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{{alpha_bar t=5000}}", "t must be in 0..999"),
        ("{{nope}}", "unknown value 'nope'"),
        ("{{alpha_bar when=3}}", "unknown argument 'when'"),
        ("{{param name=gamma}}", "no 'gamma'"),
        ("{{alpha_bar t=5", "unclosed placeholder"),
        ("{{ }}", "expected"),
        ("{{alpha_bar t=1 digits=x}}", "digits must be an integer"),
    ],
)
def test_bad_placeholders_name_themselves(bad: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        expand_placeholders(bad, {})


def test_find_placeholders_parses_arguments() -> None:
    (p,) = find_placeholders("at {{alpha_bar t=500 schedule=cosine}} now")
    assert p.name == "alpha_bar" and p.args == (("t", "500"), ("schedule", "cosine"))


# ------------------------------------------------------------------ exit 2 from the CLI


def _manifest(tmp_path: Path, narration: str, *, cues: str = "") -> Path:
    toml = tmp_path / "bad.toml"
    toml.write_text(
        'id = "bad"\ntitle = "Bad"\nquality = "tiny"\nvoice = "silence"\n\n'
        '[[segments]]\nid = "intro"\nchapter = "Intro"\nscene = "TitleCard"\n'
        f'narration = """{narration}"""\n{cues}\n',
        encoding="utf-8",
    )
    return toml


@pytest.mark.parametrize(
    ("narration", "cues", "message"),
    [
        ('Hello <mark name="nope"/>there.', "", "marker 'nope' is not a beat of TitleCard"),
        ('Hello <mark name="chapter"/>there and <mark name="subtitle"/>here.', "",
         "marker 'subtitle' is out of order"),
        ('Hello <mark name="subtitle"/>there.', "cues = [0.0, 1.0]", "markers or cues"),
        ("At {{alpha_bar t=5000}} steps.", "", "placeholder '{{alpha_bar t=5000}}'"),
        ('Hello <mark name=subtitle>there.', "", "malformed marker"),
    ],
)
def test_bad_markup_exits_2_naming_segment_and_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], narration: str, cues: str, message: str
) -> None:
    toml = _manifest(tmp_path, narration, cues=cues)
    out = tmp_path / "out"
    code = cli.main(["--lecture", str(toml), "--out", str(out), "--quality", "tiny"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "(intro)" in err and message in err, err
    assert not (out / "bad").exists()  # nothing half-written
