"""Off-script takes are captioned from what the recogniser heard, as drafts an author can
correct: real takes spoken by the project's Piper voice, encoded with real ffmpeg,
recognised with pocketsphinx, rendered at tiny size."""

from __future__ import annotations

import json
import logging
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from audio.narration import resolve_narration
from audio.piper_voice import piper_available
from audio.sentences import split_sentences
from audio.textnorm import spoken_words
from pipeline.assembly import captions
from pipeline.lecture import build_lecture
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.records import read_record

from helpers.audio import have_ffmpeg, write_audio
from helpers.takes import SR, voiced_take

pytestmark = pytest.mark.skipif(
    not have_ffmpeg() or piper_available() is not None, reason="needs ffmpeg and Piper"
)
TINY = QUALITIES["tiny"]
# What the lecturer said, and the (longer) script they were given
SAID = {
    "noise": "Today we watch a digit turn into noise. Step by step it fades away.",
    "steps": "Each step adds a little more noise. After many steps nothing is left.",
}
SCRIPT = {
    "noise": "Here is a clean handwritten digit from the MNIST data set. Moving right, a "
             "little Gaussian noise is added at every step, and the digit dissolves. By the "
             "last step only pure Gaussian noise is left, and nothing of the digit remains.",
    "steps": "One noising step is a Gaussian whose mean is the previous value times the "
             "square root of one minus beta. Its variance is beta, a small dose of fresh, "
             "independent noise. Repeated many times, the image is lost.",
}
EXT = {"noise": ".mp3", "steps": ".m4a"}
OVERLAP_FLOOR = 0.5  # share of the spoken words the recogniser must hear


def _manifest(path: Path, ids: list[str], script: dict[str, str]) -> None:
    lines = ['id = "drafts"', 'title = "Off-script takes"', "seed = 1", 'quality = "tiny"',
             "lead_in = 0.3", "tail = 0.4", ""]
    for i, sid in enumerate(ids):
        lines += ["[[segments]]", f'id = "{sid}"', f'chapter = "Part {i + 1}"',
                  'scene = "TitleCard"', 'params = { title = "Drafts" }',
                  f'narration = "{script[sid]}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _overlap(said: str, heard: str) -> float:
    words = set(spoken_words(said))
    return len(words & set(spoken_words(heard))) / len(words)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("drafts")
    clips = base / "clips"
    clips.mkdir()
    for sid, text in SAID.items():
        x = voiced_take(text)
        x = np.concatenate([np.zeros(int(0.3 * SR), np.float32), x,
                            np.zeros(int(0.4 * SR), np.float32)])
        write_audio(clips / f"{sid}{EXT[sid]}", x * 0.5, SR)
    toml = base / "drafts.toml"
    _manifest(toml, list(SAID), SCRIPT)
    return {"base": base, "clips": clips, "toml": toml}


def _build(folder: dict, clips: Path) -> tuple[object, list[str]]:
    opts = RenderOptions(quality=TINY, out_root=folder["base"] / "out", narration_dir=clips,
                         jobs=2, speech_cache=folder["base"] / "user-cache" / "speech")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = build_lecture(load_lecture(folder["toml"]), opts, source=str(folder["toml"]))
    return result, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def lecture(folder: dict) -> dict:
    result, said = _build(folder, folder["clips"])
    d = folder["base"] / "out" / "drafts"
    return {"dir": d, "result": result, "record": read_record(d / "manifest.json"),
            "manifest": json.loads((d / "manifest.json").read_text(encoding="utf-8")),
            "warnings": said}


def test_off_script_short_takes_render_with_recogniser_drafts(lecture: dict) -> None:
    d, rec = lecture["dir"], lecture["record"]
    srt = captions.parse_srt((d / "captions.srt").read_text(encoding="utf-8"))
    assert captions.check_cues(srt, fps=TINY.fps, video_end=rec.duration) == []
    assert rec.captions_approximate == list(SAID) and rec.captions_draft == list(SAID)
    for seg in rec.segments:
        take = seg.narration.take
        assert take is not None and take.approximate
        assert seg.captions_approximate and seg.captions_draft
        assert take.transcript_source == "recogniser"
        # the script could not be captioned in the take's time: the take says far less
        assert len(SCRIPT[seg.id]) / captions.MAX_CPS > 2 * seg.narration.duration
        heard = " ".join(s.text for s in seg.narration.sentences)
        shown = " ".join(c.text.replace("\n", " ") for c in srt
                         if seg.start <= c.start < seg.start + seg.duration)
        assert shown == heard  # the captions are what the recogniser heard
        assert _overlap(SAID[seg.id], heard) >= OVERLAP_FLOOR, (SAID[seg.id], heard)


def test_the_takes_table_is_in_the_record(lecture: dict, folder: dict) -> None:
    rows = lecture["manifest"]["takes"]
    assert [r["segment"] for r in rows] == list(SAID)
    for r in rows:
        assert r["file"].endswith(EXT[r["segment"]]) and EXT[r["segment"]][1:] in r["format"]
        assert r["off_script"] and r["transcript_source"] == "recogniser"
        assert r["words_found"] < 0.6 * r["words_expected"]
        assert abs(r["levelled_lufs"] + 15) < 1.5 and r["speech_lufs"] < r["levelled_lufs"]
        assert Path(r["draft"]).is_file()


def test_each_warning_names_its_segment_and_files(lecture: dict, folder: dict) -> None:
    for sid in SAID:
        [msg] = [w for w in lecture["warnings"] if "does not follow" in w and f"'{sid}'" in w]
        take = folder["clips"] / f"{sid}{EXT[sid]}"
        assert str(take) in msg and str(take.with_suffix(".txt")) in msg
        draft = next(r["draft"] for r in lecture["manifest"]["takes"] if r["segment"] == sid)
        assert draft in msg and "recogniser draft" in msg


def test_a_saved_draft_captions_exactly(lecture: dict, folder: dict, tmp_path: Path) -> None:
    row = lecture["manifest"]["takes"][0]
    draft = Path(row["draft"])
    text = draft.read_text(encoding="utf-8")
    sentences = [s.text for s in lecture["record"].segments[0].narration.sentences]
    assert text.splitlines() == sentences  # one sentence a line, readable as written
    assert split_sentences(" ".join(text.split())) == sentences
    take = folder["clips"] / f"{row['segment']}{EXT[row['segment']]}"
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(take, clips / take.name)
    shutil.copy(draft, clips / f"{row['segment']}.txt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = resolve_narration(segment_id=row["segment"], script=SCRIPT[row["segment"]],
                              narration_dir=clips, cache_dir=tmp_path / "cache")
    assert n.take is not None and n.take.transcript_source == "transcript"
    assert not n.take.approximate and n.take.draft is None
    assert [s.text for s in n.sentences] == sentences
    assert not [w for w in caught if "does not follow" in str(w.message)]


def test_a_transcript_beside_a_take_is_captioned_unchanged(folder: dict, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(folder["clips"] / "steps.m4a", clips / "steps.m4a")
    written = "Each step adds a little more noise.\nAfter many steps, nothing is left!\n"
    (clips / "steps.txt").write_text(written, encoding="utf-8")
    n = resolve_narration(segment_id="steps", script=SCRIPT["steps"], narration_dir=clips,
                          cache_dir=tmp_path / "cache")
    assert [s.text for s in n.sentences] == written.splitlines()
    assert n.take is not None and n.take.transcript_source == "transcript"


def test_a_rerun_with_nothing_changed_runs_no_recogniser(
    lecture: dict, folder: dict, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import audio.recognise

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the recogniser ran on an unchanged take")

    monkeypatch.setattr(audio.recognise, "recognise_words", refuse)
    t0 = time.perf_counter()
    result, said = _build(folder, folder["clips"])
    assert not result.assembled  # type: ignore[attr-defined]
    assert time.perf_counter() - t0 < 10  # generous: the machine is shared
    assert sum("does not follow" in w for w in said) == len(SAID)  # still warned


def test_lecture_check_shows_every_off_script_take(
    folder: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.cli import main

    # the render's user cache: the takes' analysis is read back, not redone
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(folder["base"] / "user-cache"))
    # logging hooks Python's warnings only once per process: after an earlier test's
    # command, pytest's per-test warning capture has unhooked it; hook it again
    logging.captureWarnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown again, though an earlier test saw them
        assert main(["check", str(folder["toml"]), "--narration-dir", str(folder["clips"])],
                    prog_name="lecture") == 0
    out, err = capsys.readouterr()
    rows = [ln.split() for ln in out.splitlines() if ln.split()[:1] in (["noise"], ["steps"])]
    assert [r[0] for r in rows] == list(SAID)
    assert all(r[1] in ("mp3", "m4a") and r[-2:] == ["draft", "off-script"] for r in rows)
    err = " ".join(err.split())
    for sid in SAID:
        assert f"(segment '{sid}'): the take does not follow its script" in err


@pytest.mark.slow  # loads the shipped lectures: their placeholders start the math core
def test_lecture_list_marks_an_off_script_take(
    folder: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.cli import main

    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path / "cache"))
    takes = tmp_path / "takes"
    takes.mkdir()
    shutil.copy(folder["clips"] / "noise.mp3", takes / "01_00_intro.mp3")
    assert main(["list", "--narration-dir", str(takes)], prog_name="lecture") == 0
    out = capsys.readouterr().out
    [line] = [ln for ln in out.splitlines() if "off-script take" in ln]
    assert "01_00_intro" in line


def test_saved_drafts_caption_the_next_render_exactly(lecture: dict, folder: dict,
                                                      tmp_path: Path) -> None:
    """The author's two-minute job: save each draft as ``<segment-id>.txt`` beside its
    take; the next render captions from it, word for word, and nothing is a draft."""
    clips = tmp_path / "clips"
    shutil.copytree(folder["clips"], clips)
    drafts = {r["segment"]: Path(r["draft"]) for r in lecture["manifest"]["takes"]}
    for sid, draft in drafts.items():
        shutil.copy(draft, clips / f"{sid}.txt")
    opts = RenderOptions(quality=TINY, out_root=tmp_path / "out", narration_dir=clips, jobs=2,
                         speech_cache=folder["base"] / "user-cache" / "speech")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_lecture(load_lecture(folder["toml"]), opts, source=str(folder["toml"]))
    assert not [w for w in caught if "does not follow" in str(w.message)]
    d = tmp_path / "out" / "drafts"
    rec = read_record(d / "manifest.json")
    assert rec.captions_draft == [] and rec.captions_approximate == []
    assert [r.transcript_source for r in rec.takes] == ["transcript"] * len(SAID)
    srt = captions.parse_srt((d / "captions.srt").read_text(encoding="utf-8"))
    assert captions.check_cues(srt, fps=TINY.fps, video_end=rec.duration) == []
    for seg in rec.segments:
        shown = " ".join(c.text.replace("\n", " ") for c in srt
                         if seg.start <= c.start < seg.start + seg.duration)
        assert shown == " ".join(drafts[seg.id].read_text(encoding="utf-8").split())
