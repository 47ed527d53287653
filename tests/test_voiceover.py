"""manim-voiceover scenes, offline (issue 22): ``PiperService`` and voiceover scenes as
lecture segments.

Real Piper speech, real manim renders at tiny size, real ffmpeg. The bookmark checks
look for the frame where the screen turns red (the scene waits for the bookmark, then
fills the screen) and compare its time with the voice's own onset of the word after
the bookmark.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio.sentences import Word
from pipeline.lecture import build_lecture
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, InputError, load_lecture
from pipeline.voiceover.boundaries import AUDIO_OFFSET_RESOLUTION, word_boundaries

from helpers.scenes import decode_frames

ROOT = Path(__file__).resolve().parent.parent
TINY = QUALITIES["tiny"]

SCENES = """\
from manim import RED, BLUE, Circle, Create, FullScreenRectangle, FadeIn
from manim_voiceover import VoiceoverScene

from pipeline.voiceover.service import PiperService


class Cue(VoiceoverScene):
    def construct(self):
        self.set_speech_service(PiperService())
        with self.voiceover(text="A blue circle appears.") as tracker:
            self.play(Create(Circle(color=BLUE)), run_time=tracker.duration)
        with self.voiceover(text="Wait for the signal, <bookmark mark='red'/>now it is red.") as t:
            self.wait_until_bookmark("red")
            self.add(FullScreenRectangle(fill_color=RED, fill_opacity=1, stroke_width=0))
        with self.voiceover(text="No animation here."):
            pass
        with self.voiceover(text="Done."):
            self.play(FadeIn(Circle()), run_time=1.5)


class Unknown(VoiceoverScene):
    def construct(self):
        self.set_speech_service(PiperService())
        with self.voiceover(text="There is a <bookmark mark='a'/>mark here."):
            self.wait_until_bookmark("b")


class Nothing(VoiceoverScene):
    def construct(self):
        self.set_speech_service(PiperService())
        with self.voiceover(text="... <bookmark mark='a'/> !"):
            pass


class Long(VoiceoverScene):
    def construct(self):
        self.set_speech_service(PiperService())
        with self.voiceover(text="The forward process slowly turns every training image "
                                 "into pure Gaussian noise."):
            pass
        with self.voiceover(text="Sampling runs the learned reverse chain until it ends "
                                 "at a clean digit."):
            pass


class Stock(VoiceoverScene):
    def construct(self):
        from manim_voiceover.services.pyttsx3 import PyTTSX3Service

        self.set_speech_service(PyTTSX3Service())
        with self.voiceover(text="Hello."):
            pass


class Cloud(VoiceoverScene):
    def construct(self):
        from manim_voiceover.services.gtts import GTTSService

        self.set_speech_service(GTTSService())
        with self.voiceover(text="Hello."):
            pass
"""


def lecture_toml(scene: str, *, narration: str | None = None, sid: str = "cue") -> str:
    lines = ['id = "vo"', 'title = "Voiceover"', 'quality = "tiny"', "lead_in = 0.4",
             "tail = 0.5", "", "[[segments]]", f'id = "{sid}"', 'chapter = "Cue"',
             f'scene = "scenes_vo.py:{scene}"']
    if narration is not None:
        lines.append(f'narration = "{narration}"')
    return "\n".join(lines) + "\n"


def options(base: Path, **kw: object) -> RenderOptions:
    return RenderOptions(quality=TINY, out_root=base / "out", jobs=1,
                         speech_cache=base / "speech", **kw)  # type: ignore[arg-type]


def red_from(frames: np.ndarray) -> int:
    """Index of the first frame that is mostly red."""
    r, g = frames[..., 0].astype(int), frames[..., 1].astype(int)
    red = ((r > 180) & (g < 100)).mean(axis=(1, 2)) > 0.9
    return int(np.argmax(red)) if red.any() else -1


# ------------------------------------------------------------------ pure
def test_unit_matches_manim_voiceover() -> None:
    from manim_voiceover.tracker import AUDIO_OFFSET_RESOLUTION as theirs

    assert theirs == AUDIO_OFFSET_RESOLUTION


def test_bookmarks_interpolate_to_the_onset_of_the_spoken_word() -> None:
    """Text offsets are positions in the written text; "3" is said "three"."""
    from manim_voiceover.tracker import TimeInterpolator

    content = "We take 3 steps now."
    words = [Word("we", 0.1, 0.3), Word("take", 0.35, 0.6), Word("three", 0.7, 1.0),
             Word("steps", 1.05, 1.4), Word("now", 1.5, 1.8)]
    wb = word_boundaries(content, words, duration=2.0)
    f = TimeInterpolator(wb)  # type: ignore[arg-type]
    assert f.interpolate(content.index("3")) == pytest.approx(0.7)
    assert f.interpolate(content.index("now")) == pytest.approx(1.5)
    assert f.interpolate(0) == pytest.approx(0.1)
    assert f.interpolate(len(content)) == pytest.approx(1.8)  # after the last word: its end
    offsets = [b["text_offset"] for b in wb]
    assert offsets == sorted(set(offsets)) and offsets[-1] == len(content)


# ------------------------------------------------------------------ the service
def test_service_same_text_same_bytes_and_clear_errors(tmp_path: Path) -> None:
    from pipeline.voiceover.service import PiperService, VoiceoverTextError

    first = PiperService(cache_dir=str(tmp_path / "a"), speech_cache=tmp_path / "speech")
    second = PiperService(cache_dir=str(tmp_path / "b"), speech_cache=tmp_path / "other")
    text = "It costs 2 dollars, <bookmark mark='x'/>really."
    a = first._wrap_generate_from_text(text)
    b = second._wrap_generate_from_text(text)
    wav_a = (tmp_path / "a" / a["final_audio"]).read_bytes()
    assert wav_a == (tmp_path / "b" / b["final_audio"]).read_bytes()  # no shared cache
    assert a["word_boundaries"] == b["word_boundaries"]
    assert [w["text"] for w in a["word_boundaries"]][:3] == ["It", "costs", "2"]
    with pytest.raises(VoiceoverTextError, match="says nothing"):
        first._wrap_generate_from_text("... <bookmark mark='a'/> !")
    with pytest.raises(ValueError, match="wpm"):
        PiperService(global_speed=1.2, cache_dir=str(tmp_path / "c"))


# ------------------------------------------------------------------ manim-voiceover's calls
def test_tracker_calls_follow_the_voice(tmp_path: Path) -> None:
    """tracker.duration, time_until_bookmark (with buff and limit), wait_until_bookmark,
    get_remaining_duration and the block's closing wait_for_voiceover, run in-process
    against PiperService's word boundaries."""
    from manim import Circle, Create, tempconfig
    from manim_voiceover import VoiceoverScene

    from pipeline.voiceover.service import PiperService

    seen: dict[str, object] = {}

    class Probe(VoiceoverScene):
        def construct(self) -> None:
            self.set_speech_service(PiperService(speech_cache=tmp_path / "speech"))
            text = "One two <bookmark mark='A'/>three four, <bookmark mark='B'/>five six."
            with self.voiceover(text=text) as tr:
                seen.update(duration=tr.duration, until_a=tr.time_until_bookmark("A"),
                            limited=tr.time_until_bookmark("B", limit=0.2),
                            wb=tr.data["word_boundaries"])
                self.wait_until_bookmark("A")
                seen.update(at_a=self.renderer.time, left=tr.get_remaining_duration())
                self.play(Create(Circle()), run_time=tr.time_until_bookmark("B", buff=-0.1))
                seen["before_b"] = self.renderer.time
            seen["end"] = self.renderer.time

    fps = 15
    with tempconfig({"media_dir": str(tmp_path / "media"), "pixel_width": 128,
                     "pixel_height": 72, "frame_rate": fps, "disable_caching": True,
                     "write_to_movie": False, "progress_bar": "none", "verbosity": "ERROR"}):
        Probe().render()
    onset = {w["text"]: w["audio_offset"] / AUDIO_OFFSET_RESOLUTION
             for w in seen["wb"]}  # type: ignore[attr-defined]
    assert seen["until_a"] == pytest.approx(onset["three"], abs=1e-6)
    assert seen["limited"] == pytest.approx(0.2)
    assert seen["at_a"] == pytest.approx(onset["three"], abs=1.01 / fps)
    assert seen["left"] == pytest.approx(seen["duration"] - seen["at_a"], abs=1e-6)  # type: ignore[operator]
    assert seen["before_b"] == pytest.approx(onset["five"] - 0.1, abs=1.01 / fps)
    # the block lasts its speech: manim-voiceover's safe_wait leaves less than a frame
    assert 0 <= seen["duration"] - seen["end"] < 1 / fps  # type: ignore[operator]


# ------------------------------------------------------------------ standalone manim
def test_standalone_manim_render_puts_the_bookmark_on_its_word(tmp_path: Path) -> None:
    (tmp_path / "scenes_vo.py").write_text(SCENES)
    media = tmp_path / "media"
    subprocess.run([sys.executable, "-m", "manim", "render", "scenes_vo.py", "Cue",
                    "-r", f"{TINY.width},{TINY.height}", "--fps", str(TINY.fps),
                    "--media_dir", str(media), "--disable_caching", "-v", "WARNING"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300,
                   env={**_env(), "LECTURE_CACHE_DIR": str(tmp_path / "cache")})
    video = next(media.rglob("Cue.mp4"))
    first_red = red_from(decode_frames(video))
    entries = json.loads((media / "voiceovers" / "cache.json").read_text())
    block = next(e for e in entries if "signal" in e["input_text"])
    now = next(w for w in block["word_boundaries"] if w["text"] == "now")
    first = next(e for e in entries if "blue circle" in e["input_text"])
    from mutagen.wave import WAVE

    start = np.ceil(WAVE(media / "voiceovers" / first["final_audio"]).info.length * TINY.fps)
    mark = start / TINY.fps + now["audio_offset"] / AUDIO_OFFSET_RESOLUTION
    assert first_red / TINY.fps == pytest.approx(mark, abs=1.01 / TINY.fps)
    audio = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a",
                            "-show_entries", "stream=codec_type", "-of", "csv=p=0", str(video)],
                           capture_output=True, text=True, check=True).stdout
    assert "audio" in audio  # manim-voiceover mixed the speech into manim's sound track


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


# ------------------------------------------------------------------ a lecture segment
@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("vo")
    (base / "scenes_vo.py").write_text(SCENES)
    path = base / "vo.toml"
    path.write_text(lecture_toml("Cue"))
    spec = load_lecture(path)
    result = build_lecture(spec, options(base), source=str(path))
    return {"base": base, "result": result, "out": base / "out" / "vo"}


def test_lecture_segment_narration_captions_loudness(lecture: dict) -> None:
    out = lecture["out"]
    srt = (out / "captions.srt").read_text()
    assert "now it is red." in srt.replace("\n", " ") and "bookmark" not in srt
    assert "Done." in srt and "No animation here." in srt
    assert (out / "chapters.txt").read_text().startswith("0:00 Cue")
    seg = lecture["result"].record.segments[0]
    assert seg.narration.source == "piper" and "voiceover blocks" in seg.narration.detail
    texts = [s.text for s in seg.narration.sentences]
    assert texts == ["A blue circle appears.", "Wait for the signal, now it is red.",
                     "No animation here.", "Done."]
    log = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(out / "lecture.mp4"), "-af",
                          "ebur128=peak=true", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    lufs = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
    peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", log)[-1])
    assert lufs == pytest.approx(-14.0, abs=1.0) and peak <= -0.9


def test_lecture_segment_bookmark_follows_the_word(lecture: dict) -> None:
    """The red screen appears where the lecture's narration says "now" (its word time
    plus the lead-in), within a frame; the last block's animation outlasts its speech
    and leaves silence (speech is never cut)."""
    from pipeline.planning.plan import plan_lecture

    base = lecture["base"]
    spec = load_lecture(base / "vo.toml")
    (plan,) = plan_lecture(spec, options(base))
    now = next(w for w in plan.narration.words if w.text == "now")
    frames = decode_frames(lecture["out"] / "lecture.mp4")
    first_red = red_from(frames)
    mark = plan.timing.speech_offset + now.start
    assert first_red / TINY.fps == pytest.approx(mark, abs=1.01 / TINY.fps)
    assert plan.timing.frames >= plan.timing.speech_frame + round(
        plan.narration.duration * TINY.fps)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(("scene", "narration", "needle"), [
    ("Unknown", None, "There is no <bookmark mark='b'"),
    ("Nothing", None, "says nothing"),
    ("Cloud", None, "GTTSService"),
    pytest.param("Stock", None, "PyTTSX3Service: a lecture speaks voiceover scenes offline",
                 marks=pytest.mark.slow),
    pytest.param("Cue", "Some text.", "leave narration out", marks=pytest.mark.slow),
])
def test_voiceover_errors_are_one_line_naming_the_segment(
        tmp_path: Path, scene: str, narration: str | None, needle: str) -> None:
    from pipeline.planning.plan import plan_lecture

    (tmp_path / "scenes_vo.py").write_text(SCENES)
    path = tmp_path / "bad.toml"
    path.write_text(lecture_toml(scene, narration=narration, sid="bad-seg"))
    with pytest.raises(InputError) as err:
        plan_lecture(load_lecture(path), options(tmp_path))
    message = str(err.value)
    assert "bad-seg" in message and needle in message and "\n" not in message
    assert not (tmp_path / "out").exists()


def test_a_shipped_scene_still_needs_narration(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('id = "x"\ntitle = "X"\n[[segments]]\nid = "a"\nchapter = "A"\n'
                    'scene = "TitleCard"\n')
    with pytest.raises(InputError, match="narration"):
        load_lecture(path)


# ------------------------------------------------------------------ a recorded take
BLOCKS = ["A blue circle appears.", "Wait for the signal, now it is red.",
          "No animation here.", "Done."]


def make_take(path: Path, blocks: list[str], *, wpm: int, pause: float,
              cache: Path) -> list[tuple[float, float]]:
    """A stand-in for a lecturer's take: Piper at another pace, each block followed by a
    long pause; returns each block's (start, end) in the file."""
    from audio.clips import write_wav
    from audio.piper_voice import PiperEngine
    from audio.sources import synthesize

    engine, sr = PiperEngine(wpm), 48_000
    parts, spans, pos = [np.zeros(int(0.3 * sr), np.float32)], [], int(0.3 * sr)
    for text in blocks:
        x = np.asarray(synthesize(engine, text, cache_dir=cache).samples[:, 0]) * 0.5
        spans.append((pos / sr, (pos + len(x)) / sr))
        parts += [x, np.zeros(int(pause * sr), np.float32)]
        pos += len(x) + int(pause * sr)
    write_wav(path, np.concatenate(parts))
    return spans


@pytest.mark.slow
def test_a_take_replaces_the_voice_and_the_animation_follows_it(lecture: dict,
                                                                 tmp_path: Path) -> None:
    from pipeline.planning.plan import plan_lecture

    (tmp_path / "scenes_vo.py").write_text(SCENES)
    path = tmp_path / "vo.toml"
    path.write_text(lecture_toml("Cue"))
    takes = tmp_path / "takes"
    takes.mkdir()
    spans = make_take(takes / "cue.wav", BLOCKS, wpm=115, pause=1.2, cache=tmp_path / "tk")
    opts = options(tmp_path, narration_dir=takes)
    result = build_lecture(load_lecture(path), opts, source=str(path))
    (plan,) = plan_lecture(load_lecture(path), opts)
    assert plan.narration.source == "clip" and plan.narration.take is not None
    assert not plan.narration.take.approximate
    vo = plan.job.author.voiceover  # type: ignore[union-attr]
    assert vo is not None and vo.take is not None and len(vo.take) == 4
    # each block's slice spans its speech and the pause after it, so the scene's blocks
    # start where the lecturer's do (the take's lead trimmed away)
    trim = spans[0][0] - plan.narration.words[0].start
    starts = [s.start for s in plan.narration.sentences]
    for k in range(1, 4):
        assert starts[k] == pytest.approx(spans[k][0] - trim, abs=0.2), k
    synthetic = lecture["result"].record.segments[0]
    assert plan.timing.duration > synthetic.duration + 3.0  # slower, with pauses
    # the red screen waits for the take's "now"
    now = next(w for w in plan.narration.words if w.text == "now")
    frames = decode_frames(tmp_path / "out" / "vo" / "lecture.mp4")
    assert red_from(frames) / TINY.fps == pytest.approx(plan.timing.speech_offset + now.start,
                                                        abs=1.01 / TINY.fps)
    srt = (tmp_path / "out" / "vo" / "captions.srt").read_text()
    assert "now it is red." in srt.replace("\n", " ")
    assert result.record.segments[0].narration.source == "clip"


@pytest.mark.slow
def test_an_off_script_take_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "scenes_vo.py").write_text(SCENES)
    path = tmp_path / "vo.toml"
    path.write_text(lecture_toml("Long"))
    takes = tmp_path / "takes"
    takes.mkdir()
    make_take(takes / "cue.wav", ["Cats sleep on warm roofs in the summer.",
                                  "My grandmother bakes bread every Sunday morning."],
              wpm=150, pause=0.8, cache=tmp_path / "tk")
    with pytest.warns(UserWarning, match="does not follow its script"):
        result = build_lecture(load_lecture(path), options(tmp_path, narration_dir=takes),
                               source=str(path))
    assert result.record.segments[0].captions_approximate


@pytest.mark.slow
def test_the_timing_tour_example_plans(tmp_path: Path) -> None:
    """examples/voiceover: five blocks in a row (nested bookmarks, a block with no
    animation, safe_wait, an animation longer than its speech); each block starts after
    the last one's speech (within manim-voiceover's one-frame slack) and the segment
    outlasts the speech: the last animation leaves silence, nothing is cut."""
    from pipeline.planning.plan import plan_lecture

    spec = load_lecture(ROOT / "examples" / "voiceover" / "lecture.toml")
    (plan,) = plan_lecture(spec, options(tmp_path))
    assert plan.job.author is not None and plan.job.author.voiceover is not None
    starts = [s.start for s in plan.narration.sentences]
    assert len(starts) == 5 and starts == sorted(starts)
    words = {w.text: w for w in plan.narration.words}
    assert "Gone" in words
    speech_end = plan.timing.speech_offset + words["Gone"].end
    assert plan.timing.duration >= speech_end + 2.0  # FadeOut of 2.5 s after a short word
