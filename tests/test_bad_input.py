"""Bad input, a catalogue: each kind exits 2 with one line naming the file and field or
flag, prints no traceback, and leaves an earlier render's files byte-identical.

The published lecture is the module fixture of ``test_reliability`` (odd folder name:
a space, an apostrophe, a non-ASCII letter). The cases run a few at a time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from helpers.audio import write_audio
from helpers.reliability import Lecture, cli, tree_digest


@dataclass
class Case:
    name: str
    expect: str  # text the one line must contain (file, field or flag)
    make: Callable[[Path, Lecture], list[str]]  # writes inputs into a folder, returns argv


def _toml(edit: Callable[[str], str], where: str = "") -> Callable[[Path, Lecture], list[str]]:
    def make(d: Path, lec: Lecture) -> list[str]:
        toml = d / "lecture.toml"
        toml.write_text(edit(lec.toml.read_text(encoding="utf-8")), encoding="utf-8")
        return ["--lecture", str(toml), "--narration-dir", str(d / "takes")]
    return make


def _takes(edit: Callable[[Path], None], *extra: str) -> Callable[[Path, Lecture], list[str]]:
    def make(d: Path, lec: Lecture) -> list[str]:
        edit(d / "takes")
        return ["--lecture", str(lec.toml), "--narration-dir", str(d / "takes"), *extra]
    return make


def _flags(*args: str) -> Callable[[Path, Lecture], list[str]]:
    def make(d: Path, lec: Lecture) -> list[str]:
        return ["--lecture", str(lec.toml), *[a.replace("{d}", str(d)) for a in args]]
    return make


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])


def _m4a(takes: Path) -> None:
    (takes / "b.wav").unlink()
    tone = 0.2 * np.sin(np.arange(48000, dtype=np.float32) / 10)
    write_audio(takes / "b.m4a", tone, codec_args=["-c:a", "aac", "-movflags", "+faststart"])
    _truncate(takes / "b.m4a")


def _video_only(takes: Path) -> None:
    (takes / "b.wav").unlink()
    import subprocess

    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x64:d=1",
                    "-c:v", "libx264", "-f", "mp4", str(takes / "b.m4a")], check=True)


def _latin1(d: Path, lec: Lecture) -> list[str]:
    toml = d / "latin1.toml"
    toml.write_bytes(lec.toml.read_text(encoding="utf-8").replace("Tiny", "Tïny").encode("latin-1"))
    return ["--lecture", str(toml)]


def _odd_segment(text: str) -> str:
    return text.replace('id = "b"', 'id = "b c"')


CASES = [
    Case("toml_syntax", "invalid TOML", _toml(lambda t: t.replace("seed = 5", "seed = = 5"))),
    Case("toml_not_utf8", "UTF-8", lambda d, lec: _latin1(d, lec)),
    Case("unknown_top_field", "colour", _toml(lambda t: "colour = 3\n" + t)),
    Case("unknown_segment_field", "segments[0] (a).colour",
         _toml(lambda t: t.replace('chapter = "First"', 'chapter = "First"\ncolour = 1'))),
    Case("lecture_out_of_range", "tail", _toml(lambda t: t.replace("tail = 0.3", "tail = -2"))),
    Case("lecture_wrong_type", "seed", _toml(lambda t: t.replace("seed = 5", 'seed = "five"'))),
    Case("bad_quality_name", "quality", _toml(lambda t: t.replace('"tiny"', '"8k"'))),
    Case("unknown_scene", "NoSuchScene",
         _toml(lambda t: t.replace('scene = "TitleCard"', 'scene = "NoSuchScene"', 1))),
    Case("unknown_scene_param", "bogus",
         _toml(lambda t: t.replace('params = { title = "First" }', "params = { bogus = 1 }"))),
    Case("scene_param_wrong_type", "title",
         _toml(lambda t: t.replace('params = { title = "First" }', "params = { title = 3 }"))),
    Case("duplicate_segment_id", "duplicate",
         _toml(lambda t: t.replace('id = "b"', 'id = "a"'))),
    Case("segment_id_with_space", "segments[1]", _toml(_odd_segment)),
    Case("missing_narration_field", "narration",
         _toml(lambda t: t.replace('narration = "One. Two."', ""))),
    Case("cues_not_ascending", "cues",
         _toml(lambda t: t.replace('narration = "One. Two."',
                                   'narration = "One. Two."\ncues = [1.0, 0.5]'))),
    Case("thumbnail_unknown_segment", "thumbnail",
         _toml(lambda t: t.replace("tail = 0.3", 'tail = 0.3\nthumbnail = { segment = "zz" }'))),
    Case("explicit_clip_missing", "nothing here.wav",
         _toml(lambda t: t.replace('narration = "One. Two."',
                                   'narration = "One. Two."\nclip = "nothing here.wav"'))),
    Case("empty_clip", "b.wav", _takes(lambda t: (t / "b.wav").write_bytes(b""))),
    Case("corrupt_clip", "b.wav",
         _takes(lambda t: (t / "b.wav").write_bytes(b"RIFF\0\0\0\0WAVEjunk" * 40))),
    Case("truncated_clip", "b.m4a", _takes(_m4a)),
    Case("silent_clip", "silent",
         _takes(lambda t: write_audio(t / "b.wav", np.zeros(48000, np.float32)))),
    Case("video_only_clip", "b.m4a", _takes(_video_only)),
    Case("text_named_mp3", "b.mp3", _takes(lambda t: (
        (t / "b.wav").unlink(), (t / "b.mp3").write_text("not audio\n" * 40)) and None)),
    Case("two_clips_one_segment", "b", _takes(lambda t: shutil.copy(t / "b.wav", t / "b.flac"))),
    Case("wrongly_named_clip_strict", "bb.wav",
         _takes(lambda t: (t / "b.wav").rename(t / "bb.wav") and None, "--strict")),
    Case("strict_missing_clip", "strict", _takes(lambda t: (t / "b.wav").unlink(), "--strict")),
    Case("unknown_flag", "--colour", _flags("--colour", "red")),
    Case("bad_quality_flag", "--quality", _flags("--quality", "8k")),
    Case("jobs_zero", "--jobs", _flags("--jobs", "0")),
    Case("jobs_not_number", "--jobs", _flags("--jobs", "two")),
    Case("cache_size_bad", "--cache-max-size", _flags("--cache-max-size", "lots")),
    Case("narration_dir_missing", "--narration-dir", _flags("--narration-dir", "{d}/nope")),
    Case("narration_dir_is_file", "--narration-dir", _flags("--narration-dir", "{d}/file.txt")),
    Case("out_is_file", "--out", _flags("--out", "{d}/file.txt")),
    Case("out_under_file", "--out", _flags("--out", "{d}/file.txt/sub")),
    Case("unknown_lecture_id", "no-such-lecture", _flags("--lecture", "no-such-lecture")),
    Case("lecture_file_missing", "missing lecture.toml",
         _flags("--lecture", "{d}/missing lecture.toml")),
    Case("only_unknown_segment", "--only", _flags("--only", "zz")),
]

# A lecture's own scenes (issue 21): checked by a dry run before any render.
OWN = {
    "own.py": "from manim import Circle, Create, Scene\n\n\nclass NotAScene:\n    pass\n\n\n"
              "class Plain(Scene):\n    def construct(self):\n"
              "        self.play(Create(Circle()), run_time=0.2)\n",
    "syntax.py": "from manim import Scene\nclass X(Scene)\n    pass\n",
    "imports.py": "from manim import Scene\nimport own_neighbour\n",
    "own_neighbour.py": "import no_such_module_here\n",
}


def _own(scene: str, narration: str = "One. Two.") -> Callable[[Path, Lecture], list[str]]:
    def make(d: Path, lec: Lecture) -> list[str]:
        for name, text in OWN.items():
            (d / name).write_text(text, encoding="utf-8")
        toml = d / "lecture.toml"
        text = lec.toml.read_text(encoding="utf-8")
        text = text.replace('scene = "TitleCard"\nparams = { title = "Second" }',
                            f'scene = "{scene}"')
        text = text.replace('narration = "Three. Four."', f"narration = '{narration}'")
        toml.write_text(text, encoding="utf-8")
        return ["--lecture", str(toml), "--narration-dir", str(d / "takes")]
    return make


CASES += [
    Case("own_scene_file_missing", "nothing.py: no such file", _own("nothing.py:X")),
    Case("own_scene_class_missing", "own.py: no class 'Nope'", _own("own.py:Nope")),
    Case("own_scene_not_a_scene", "own.py:4: 'NotAScene' is not a subclass",
         _own("own.py:NotAScene")),
    Case("own_scene_syntax_error", "syntax.py:2: SyntaxError", _own("syntax.py:X")),
    Case("own_scene_import_error", "own_neighbour.py:1: ModuleNotFoundError",
         _own("imports.py:X")),
    Case("own_scene_has_no_beats", "marker 'x': scene own.py:Plain has no beats",
         _own("own.py:Plain", 'Three <mark name="x"/> four.')),
]
def _unwritable(d: Path, lec: Lecture) -> list[str]:
    import os

    if os.geteuid() == 0:
        target = "/sys/lecture-out"  # root writes anywhere else; sysfs refuses new folders
    else:
        locked = d / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = str(locked / "out")
    return ["--lecture", str(lec.toml), "--out", target]


CASES.append(Case("out_unwritable", "--out", _unwritable))


def _run_case(case: Case, base: Path, lec: Lecture) -> tuple[Case, object]:
    d = base / case.name
    d.mkdir()
    shutil.copytree(lec.clips["A"], d / "takes")
    (d / "file.txt").write_text("a file, not a folder\n")
    argv = case.make(d, lec)
    if "--out" not in argv:
        argv += ["--out", str(lec.out)]
    return case, cli(*argv, timeout=300)


def test_bad_input_catalogue(reliability_lecture: Lecture, tmp_path: Path) -> None:
    lecture = reliability_lecture
    assert len(CASES) >= 25
    before = tree_digest(lecture.link.resolve())
    version = lecture.link.resolve()
    base = tmp_path / "cases ‘odd’ ü"
    base.mkdir()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: _run_case(c, base, lecture), CASES))
    problems = []
    for case, proc in results:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]  # type: ignore[attr-defined]
        ok = (proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr  # type: ignore[attr-defined]
              and case.expect in lines[0])
        if not ok:
            problems.append(f"{case.name}: exit {proc.returncode}: {proc.stderr.strip()[-600:]}")  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)
    assert lecture.link.resolve() == version
    assert tree_digest(version) == before
    print(f"bad-input kinds handled: {len(CASES)}")


@pytest.mark.parametrize("flag", ["--out"])
def test_out_checked_before_any_work(reliability_lecture: Lecture, tmp_path: Path,
                                     flag: str) -> None:
    lecture = reliability_lecture
    f = tmp_path / "a file"
    f.write_text("x")
    proc = cli("--lecture", str(lecture.toml), flag, str(f))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "is a file, not a folder" in proc.stderr
    assert f.read_text() == "x"
