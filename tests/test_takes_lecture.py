"""A lecture from uneven recorded takes: even loudness, slate sounds kept, captions that
follow the words spoken and meet every limit. Rendered at tiny size with real ffmpeg."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from audio.level import speech_loudness
from pipeline import media
from pipeline.assembly import captions
from pipeline.cli import main as cli_main
from pipeline.lecture import build_lecture
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture

from helpers.audio import have_espeak, have_ffmpeg, tone, write_audio
from helpers.takes import SR, known_take

pytestmark = pytest.mark.skipif(
    not (have_espeak() and have_ffmpeg()), reason="needs espeak-ng and ffmpeg"
)
TINY = QUALITIES["tiny"]
SAID = {
    "hot": ["Noise is added a little at a time."],
    "plain": ["The image fades into noise.", "Nothing of the digit is left."],
    "quiet": ["A quiet take was recorded far away.", "It is brought up to the others."],
    "offscript": ["The speaker said something else here.", "Nobody wrote it down."],
    "transcribed": ["This take has its own transcript.", "The captions show its words."],
}
SCRIPT = {
    "hot": SAID["hot"][0],
    "plain": " ".join(SAID["plain"]),
    "quiet": " ".join(SAID["quiet"]),
    "offscript": "Sampling starts from pure noise. It ends at a clean digit.",
    "transcribed": "A script the speaker did not follow. It is replaced.",
}
GAIN = {"hot": 18.0, "quiet": -28.0}
SLATE_GAP = 0.5  # s between the slate tone's end and the quiet take's own start
TAKE_LEAD = 0.3  # s of silence each take has before its first word (known_take's lead)




def _write_manifest(path: Path, ids: list[str]) -> None:
    lines = ['id = "takes"', 'title = "Uneven takes"', "seed = 1", 'quality = "tiny"',
             "lead_in = 0.4", "tail = 0.6", ""]
    for i, sid in enumerate(ids):
        lines += ["[[segments]]", f'id = "{sid}"', f'chapter = "Part {i + 1}"',
                  'scene = "TitleCard"', 'params = { title = "Takes" }',
                  f'narration = "{SCRIPT[sid]}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("takes")
    clips = base / "clips"
    clips.mkdir()
    takes = {sid: known_take(s, seed=i, amp=0.5, lead=TAKE_LEAD)
             for i, (sid, s) in enumerate(SAID.items())}
    for sid, take in takes.items():
        x = np.clip(take.samples * 10 ** (GAIN.get(sid, 0.0) / 20), -1, 1)
        if sid == "quiet":  # a slate beep, then the words
            x = np.concatenate([np.zeros(int(0.6 * SR), np.float32),
                                tone(1000, 0.2, SR, amp=0.4 * 10 ** (-28 / 20)),
                                np.zeros(int(SLATE_GAP * SR), np.float32), x])
        ext = {"hot": ".wav", "plain": ".mp3", "quiet": ".flac", "offscript": ".ogg"}.get(
            sid, ".wav")
        codec = {".flac": ["-c:a", "flac"], ".ogg": ["-c:a", "libvorbis", "-q:a", "5"]}
        write_audio(clips / f"{sid}{ext}", x, SR, codec_args=codec.get(ext))
    (clips / "transcribed.srt").write_text(
        "1\n00:00:00,300 --> 00:00:02,000\n" + SAID["transcribed"][0] + "\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\n" + SAID["transcribed"][1] + "\n", encoding="utf-8")
    toml = base / "takes.toml"
    _write_manifest(toml, list(SAID))
    return {"base": base, "clips": clips, "toml": toml, "takes": takes}


@pytest.fixture(scope="module")
def lecture(folder: dict) -> dict:
    out = folder["base"] / "out"
    opts = RenderOptions(quality=TINY, out_root=out, narration_dir=folder["clips"], jobs=2,
                         strict=True, allow_clipped=True, allow_unaligned=True,
                         speech_cache=folder["base"] / "cache")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = build_lecture(load_lecture(folder["toml"]), opts, source=str(folder["toml"]))
    d = out / "takes"
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    return {"dir": d, "result": result, "manifest": manifest,
            "warnings": [str(w.message) for w in caught]}


def _audio(path: Path) -> np.ndarray:
    import subprocess

    proc = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f",
                           "f32le", "-ac", "2", "-ar", "48000", "-"],
                          capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2)


def test_uneven_takes_come_out_even(lecture: dict, folder: dict) -> None:
    audio = _audio(lecture["dir"] / "lecture.mp4")
    levels = {}
    for seg in lecture["manifest"]["segments"]:
        a = int(seg["speech_start"] * SR)
        b = a + int(seg["narration"]["duration"] * SR)
        levels[seg["id"]] = speech_loudness(audio[a:b])
    raw = [speech_loudness(np.clip(t.samples * 10 ** (GAIN.get(s, 0) / 20), -1, 1))
           for s, t in folder["takes"].items()]
    assert np.ptp(raw) > 25  # what went in
    assert np.ptp(list(levels.values())) <= 3.0, levels  # what came out
    loud = media.measure_loudness(lecture["dir"] / "lecture.mp4")
    assert abs(loud.integrated_lufs + 14) <= 1.0 and loud.true_peak_dbtp <= -1.0, loud
    hot = [w for w in lecture["warnings"] if "clipped take" in w]
    assert len(hot) == 1 and "hot.wav" in hot[0]
    take = lecture["manifest"]["segments"][0]["narration"]["take"]
    assert take["clipped"] and take["gain_db"] < -5  # turned down


def test_slate_tone_stays_in_place(lecture: dict) -> None:
    seg = next(s for s in lecture["manifest"]["segments"] if s["id"] == "quiet")
    audio = _audio(lecture["dir"] / "lecture.mp4")[:, 0]
    start = seg["speech_start"]
    win = audio[int(start * SR) : int((start + 1.5) * SR)]
    # 1 kHz energy in 10 ms frames: the tone is there, at the start of the narration
    t = np.arange(len(win)) / SR
    ref = np.exp(-2j * np.pi * 1000 * t)
    frame = SR // 100
    n = len(win) // frame
    e = np.abs((win[: n * frame] * ref[: n * frame]).reshape(n, frame).mean(axis=1))
    on = np.nonzero(e > 0.2 * e.max())[0]
    assert on[0] * 0.01 < 0.1  # kept at the head of the take, not trimmed away
    assert 0.15 <= (on[-1] - on[0] + 1) * 0.01 <= 0.25
    # the words follow the tone after the same silence as in the take
    rms = np.sqrt((win[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    after = on[-1] + 1 + np.nonzero(rms[on[-1] + 1 :] > 0.1 * rms.max())[0][0]
    assert abs((after - on[-1] - 1) * 0.01 - (SLATE_GAP + TAKE_LEAD)) < 0.05


def test_captions_follow_the_words_and_meet_every_limit(lecture: dict) -> None:
    d, m = lecture["dir"], lecture["manifest"]
    srt = captions.parse_srt((d / "captions.srt").read_text(encoding="utf-8"))
    vtt = captions.parse_vtt((d / "captions.vtt").read_text(encoding="utf-8"))
    assert srt == vtt
    assert captions.check_cues(srt, fps=TINY.fps, video_end=m["duration"]) == []
    assert m["captions_approximate"] == ["offscript"]
    off = [w for w in lecture["warnings"] if "does not follow" in w]
    assert len(off) == 1 and "offscript" in off[0] and "%" in off[0]
    seg = next(s for s in m["segments"] if s["id"] == "transcribed")
    assert seg["narration"]["take"]["transcript"].endswith("transcribed.srt")
    assert not seg["captions_approximate"]
    a, b = seg["start"], seg["start"] + seg["duration"]
    shown = " ".join(c.text.replace("\n", " ") for c in srt if a <= c.start < b)
    assert shown == " ".join(SAID["transcribed"])
    # cues start within half a second of their first aligned word
    first = seg["speech_start"] + seg["narration"]["sentences"][1]["start"]
    cue = next(c for c in srt if c.text.replace("\n", " ").startswith("The captions"))
    assert -0.5 <= first - cue.start <= 0.2


def test_strict_refuses_a_clipped_take(folder: dict, tmp_path: Path) -> None:
    code = cli_main(["--lecture", str(folder["toml"]), "--narration-dir", str(folder["clips"]),
                     "--strict", "--quality", "tiny", "--out", str(tmp_path), "--only", "hot"])
    assert code == 2
    assert not (tmp_path / "takes").exists() or not any((tmp_path / "takes").rglob("*.mp4"))
