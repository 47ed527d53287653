"""End to end: short lectures from generated narration, judged by ffprobe and ffmpeg filters.

One module-scoped lecture of 11 segments (10 joins) is built at tiny resolution from
tone-burst "speech" clips whose first sample is the onset, so the narration's position
in the final track can be measured from the audio itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import media
from pipeline.assembly import captions, chapters
from pipeline.lecture import build_lecture
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.records import read_record

from helpers.audio import speechlike, write_audio

ROOT = Path(__file__).resolve().parent.parent
TINY = QUALITIES["tiny"]
N_SEGMENTS = 11
# Three distinct clip shapes, so only a few distinct renders are needed.
SHAPES = [(2, 1), (3, 2), (2, 3)]


def clip_for(i: int):
    n, seed = SHAPES[i % len(SHAPES)]
    return speechlike(n, seed=seed, lead=0.0, tail=0.05, amp=0.5)


def manifest_text(ids: list[str], scripts: list[str], *, scene: str = "TitleCard") -> str:
    lines = ['id = "e2e"', 'title = "End to end"', "seed = 3", 'quality = "tiny"',
             "lead_in = 0.4", "tail = 0.6", ""]
    for i, (sid, script) in enumerate(zip(ids, scripts)):
        lines += [
            "[[segments]]", f'id = "{sid}"', f'chapter = "Chapter {i + 1}"', f'scene = "{scene}"',
            f'params = {{ title = "Part {i % 3}" }}', f'narration = "{script}"', "",
        ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("e2e")
    clips = base / "clips"
    clips.mkdir()
    ids, scripts = [], []
    for i in range(N_SEGMENTS):
        sid = f"s{i:02d}"
        sp = clip_for(i)
        write_audio(clips / f"{sid}.wav", sp.samples, sp.sr)
        ids.append(sid)
        scripts.append(" ".join(sp.texts))
    toml = base / "e2e.toml"
    toml.write_text(manifest_text(ids, scripts), encoding="utf-8")
    out = base / "out"
    opts = RenderOptions(quality=TINY, out_root=out, narration_dir=clips, jobs=2,
                         speech_cache=base / "speech")
    result = build_lecture(load_lecture(toml), opts, source=str(toml))
    return {"base": base, "toml": toml, "out": out, "clips": clips, "opts": opts,
            "result": result, "dir": out / "e2e", "ids": ids}


def _audio(path: Path) -> np.ndarray:
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "f32le", "-ac", "1",
         "-ar", "48000", "-"], capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype="<f4")


def test_lecture_meets_youtube_encoding(lecture: dict) -> None:
    mp4 = lecture["dir"] / "lecture.mp4"
    info = media.probe(mp4)
    v, a = media.stream(info, "video"), media.stream(info, "audio")
    assert v["codec_name"] == "h264" and v["profile"] == "High" and v["pix_fmt"] == "yuv420p"
    assert (v["width"], v["height"]) == (TINY.width, TINY.height)
    assert v["r_frame_rate"] == v["avg_frame_rate"] == f"{TINY.fps}/1"
    assert int(v.get("has_b_frames", 0)) <= 2
    assert a["codec_name"] == "aac" and a["profile"] == "LC"
    assert int(a["sample_rate"]) == 48000 and a["channels"] == 2
    assert media.moov_before_mdat(mp4)
    manifest = json.loads((lecture["dir"] / "manifest.json").read_text())
    frames = media.count_frames(mp4)
    assert frames == manifest["frames"] == sum(s["frames"] for s in manifest["segments"])
    # audio and video end together: within one AAC frame plus one video frame
    v_dur, a_dur = float(v["duration"]), float(a["duration"])
    assert abs(v_dur - a_dur) <= 1024 / 48000 + 1 / TINY.fps


def test_keyframes_every_half_second(lecture: dict) -> None:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "frame=key_frame", "-of", "csv=p=0", str(lecture["dir"] / "lecture.mp4")],
        capture_output=True, text=True, check=True)
    keys = [i for i, k in enumerate(proc.stdout.split()) if k.startswith("1")]
    assert keys[0] == 0
    assert max(np.diff(keys)) <= TINY.keyint


def test_each_narration_starts_on_time_without_drift(lecture: dict) -> None:
    manifest = json.loads((lecture["dir"] / "manifest.json").read_text())
    track = _audio(lecture["dir"] / "lecture.mp4")
    level = 0.1 * float(np.max(np.abs(track)))
    offsets = []
    for seg in manifest["segments"]:
        planned = seg["speech_start"]
        lo = int((planned - 0.2) * 48000)
        window = np.abs(track[lo: lo + int(0.5 * 48000)])
        onset = lo + int(np.argmax(window > level))
        offsets.append(onset / 48000 - planned)
    offsets = np.array(offsets)
    # ATSC IS-191 window: audio at most 15 ms early and 45 ms late
    assert offsets.min() >= -0.015, offsets
    assert offsets.max() <= 0.045, offsets
    assert abs(offsets[-1] - offsets[0]) <= 1 / TINY.fps  # no cumulative drift


def test_loudness_and_true_peak(lecture: dict) -> None:
    loud = media.measure_loudness(lecture["dir"] / "lecture.mp4")
    assert abs(loud.integrated_lufs + 14) <= 1.0, loud
    assert loud.true_peak_dbtp <= -1.0, loud


def test_captions_chapters_thumbnail_description(lecture: dict) -> None:
    d = lecture["dir"]
    manifest = json.loads((d / "manifest.json").read_text())
    duration = manifest["duration"]
    srt = captions.parse_srt((d / "captions.srt").read_text(encoding="utf-8"))
    vtt = captions.parse_vtt((d / "captions.vtt").read_text(encoding="utf-8"))
    assert len(srt) == len(vtt) == manifest["captions"] > 0
    assert captions.check_cues(srt, fps=TINY.fps, video_end=duration) == []
    chaps = [ln for ln in (d / "chapters.txt").read_text().splitlines() if ln]
    assert chaps[0].startswith("0:00 ")
    parsed = [chapters.Chapter(start=float(c["start"]), title=c["title"])
              for c in manifest["chapters"]]
    assert chapters.check_chapters(parsed, total=duration) == []
    assert len(chaps) >= 3
    assert "Chapters:" in (d / "description.txt").read_text()
    thumb = d / "thumbnail.png"
    img = Image.open(thumb)
    assert img.size == (1280, 720) and thumb.stat().st_size < 2 * 1024 * 1024
    arr = np.asarray(img.convert("L"), dtype=np.float32)
    assert arr.std() > 10  # a picture with a title on it, not a flat frame


def test_segment_clips_and_manifest(lecture: dict) -> None:
    d = lecture["dir"]
    manifest = json.loads((d / "manifest.json").read_text())
    assert [s["id"] for s in manifest["segments"]] == lecture["ids"]
    for seg in manifest["segments"]:
        clip = d / seg["files"]["segment"]
        assert clip.exists()
        assert media.count_frames(clip) == seg["frames"]
        assert seg["narration"]["source"] == "clip"
    frame = d / "probe.png"
    media.extract_frame(d / "lecture.mp4", manifest["segments"][1]["start"] + 1.0, frame)
    arr = np.asarray(Image.open(frame).convert("L"), dtype=np.float32)
    frame.unlink()
    assert arr.std() > 5  # the scene is drawn, not a black frame


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamps(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_rerun_renders_nothing_and_one_changed_clip_renders_one(lecture: dict) -> None:
    spec = load_lecture(lecture["toml"])
    before = _stamps(lecture["dir"])
    record = read_record(lecture["dir"] / "manifest.json")
    again = build_lecture(spec, lecture["opts"], source=str(lecture["toml"]))
    assert again.rendered == [] and not again.assembled
    assert len(again.cached) == N_SEGMENTS
    assert _stamps(lecture["dir"]) == before  # not one output written again
    assert again.record == record

    # A new take with the same pauses (inverted polarity): timing unchanged, no re-render.
    target = lecture["clips"] / "s04.wav"
    sp = clip_for(4)
    write_audio(target, -sp.samples, sp.sr)
    same = build_lecture(spec, lecture["opts"], source=str(lecture["toml"]))
    assert same.rendered == []

    # A longer take changes s04's timing: exactly that segment re-renders.
    longer = speechlike(len(sp.spans), seed=99, lead=0.0, tail=0.05)
    write_audio(target, longer.samples, longer.sr)
    changed = build_lecture(spec, lecture["opts"], source=str(lecture["toml"]))
    assert changed.rendered == ["s04"]
    # Segment clips are encoded again exactly where picture or sound changed: s04, and
    # others only if the lecture's one gain moved by a step.
    old = {s.id: s.clip_key for s in same.record.segments}
    new = changed.record
    assert "s04" in new.clips_made
    assert set(new.clips_made) == {s.id for s in new.segments if s.clip_key != old[s.id]}


def test_warm_rerun_in_a_fresh_process_imports_no_renderer(lecture: dict) -> None:
    """A user's re-run: a new interpreter, nothing changed, nothing redone, no manim."""
    opts = lecture["opts"]
    code = f"""
import sys
from pathlib import Path
from pipeline.options import RenderOptions
from pipeline.lecture import build_lecture
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.records import read_record
opts = RenderOptions(quality=QUALITIES["tiny"], out_root=Path({str(opts.out_root)!r}),
                     narration_dir=Path({str(opts.narration_dir)!r}), jobs=2,
                     speech_cache=Path({str(opts.speech_cache)!r}))
r = build_lecture(load_lecture({str(lecture["toml"])!r}), opts)
heavy = sorted(m for m in ("manim", "torch", "moviepy", "pyloudnorm") if m in sys.modules)
print(r.assembled, r.rendered, heavy)
"""
    build_lecture(load_lecture(lecture["toml"]), opts)  # whatever an earlier test changed
    before = _stamps(lecture["dir"])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "False [] []"
    assert _stamps(lecture["dir"]) == before


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize(
    "case", ["unknown_scene", "strict_missing", "empty_clip", "corrupt_clip", "unsupported_clip",
             "invalid_toml", "out_of_range", "scene_param_out_of_range"],
)
def test_bad_input_exits_2_with_one_line_and_leaves_outputs(lecture: dict, case: str,
                                                            tmp_path: Path) -> None:
    before = {p: _digest(p) for p in lecture["dir"].rglob("*") if p.is_file()}
    clips = tmp_path / "clips"
    shutil.copytree(lecture["clips"], clips)
    text = lecture["toml"].read_text()
    extra: list[str] = ["--narration-dir", str(clips)]
    if case == "unknown_scene":
        text = text.replace('scene = "TitleCard"', 'scene = "NoSuchScene"', 1)
    elif case == "strict_missing":
        (clips / "s03.wav").unlink()
        extra.append("--strict")
    elif case == "empty_clip":
        (clips / "s03.wav").write_bytes(b"")
    elif case == "corrupt_clip":
        (clips / "s03.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    elif case == "unsupported_clip":
        (clips / "s03.wav").unlink()
        (clips / "s03.mp3").write_bytes(b"this is plain text, not audio\n" * 50)
    elif case == "invalid_toml":
        text = text.replace("seed = 3", "seed = = 3")
    elif case == "out_of_range":
        text = text.replace("tail = 0.6", "tail = -2")
    elif case == "scene_param_out_of_range":  # caught by the scene itself, in its render
        text = text.replace('scene = "TitleCard"', 'scene = "ForwardDotGrid"', 1)
        text = text.replace('params = { title = "Part 0" }', "params = { T = 0 }", 1)
    toml = tmp_path / "e2e.toml"
    toml.write_text(text)
    proc = run_cli("--lecture", str(toml), "--out", str(lecture["out"]), *extra)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(toml) in lines[0] or "s03" in lines[0]
    after = {p: _digest(p) for p in lecture["dir"].rglob("*") if p.is_file()}
    assert after == before
