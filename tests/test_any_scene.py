"""Any Manim scene in a lecture (issue 21): ``scene = "file.py:Class"`` or
``"module:Class"`` beside the lecture, tiny quality, silent narration.

A plain scene plays at its natural length (measured by a dry-run child and remembered
under its code), its last frame held while the narration goes on; its file may import
its neighbours and read assets relative to itself; the render key covers its import
closure; broken scenes exit 2 (or 1 for ``construct`` raising) with one line naming
the segment and the file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pipeline.lecture import build_lecture
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.planning.plan import plan_lecture

from helpers.scenes import decode_frames

ROOT = Path(__file__).resolve().parent.parent
TINY = QUALITIES["tiny"]
NATURAL = 15 + 8  # Plain: 1.0 s and 0.5 s at 15 fps

HELPER = """\
from manim import Square

def shape():
    return Square(color="#ff0000")
"""
SCENES = """\
from pathlib import Path

import numpy as np
from manim import Circle, Create, FadeIn, MovingCameraScene, Scene, Text

from helper import shape


class Plain(Scene):
    def construct(self):
        words = Path("words.txt").read_text().strip()  # beside this file
        self.play(Create(shape()), run_time=1.0)
        self.play(FadeIn(Text(words)), run_time=0.5)


class Cam(MovingCameraScene):
    def construct(self):
        c = Circle().shift(np.random.uniform(-1, 1) * np.array([1.0, 0, 0]))
        self.play(Create(c), run_time=0.6)
        self.play(self.camera.frame.animate.scale(0.5), run_time=0.6)
"""
OTHER = """\
from manim import Dot, FadeIn, Scene


class Other(Scene):
    def construct(self):
        self.play(FadeIn(Dot()), run_time=0.4)
"""
LONG = "A first sentence of some length. A second one, longer than the scene it explains."


def toml(segments: list[tuple[str, str, str]], *, lead_in: float = 0.5,
         tail: float = 0.8) -> str:
    lines = ['id = "own"', 'title = "Own scenes"', "seed = 4", 'quality = "tiny"',
             'voice = "silence"', f"lead_in = {lead_in}", f"tail = {tail}", ""]
    for sid, scene, narration in segments:
        lines += ["[[segments]]", f'id = "{sid}"', f'chapter = "{sid}"', f'scene = "{scene}"',
                  f"narration = '{narration}'", ""]
    return "\n".join(lines)


def write_folder(base: Path) -> Path:
    (base / "sub").mkdir(parents=True)
    (base / "sub" / "helper.py").write_text(HELPER)
    (base / "sub" / "my_scenes.py").write_text(SCENES)
    (base / "sub" / "words.txt").write_text("Hello\n")
    (base / "sub" / "unrelated.py").write_text("X = 1\n")
    (base / "pkg").mkdir()
    (base / "pkg" / "__init__.py").write_text("")
    (base / "pkg" / "other.py").write_text(OTHER)
    return base


def options(base: Path) -> RenderOptions:
    return RenderOptions(quality=TINY, out_root=base / "out", jobs=2,
                         speech_cache=base / "speech")


@pytest.fixture(scope="module")
def lecture(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = write_folder(tmp_path_factory.mktemp("own"))
    path = base / "own.toml"
    path.write_text(toml([("long", "sub/my_scenes.py:Plain", LONG),
                          ("cam", "sub/my_scenes.py:Cam", "Hi."),
                          ("mod", "pkg.other:Other", "Hi.")]))
    spec = load_lecture(path)
    result = build_lecture(spec, options(base), source=str(path))
    return {"base": base, "toml": path, "result": result, "spec": spec}


def cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def natural_render(folder: Path, cls: str, media: Path) -> np.ndarray:
    """The scene rendered by manim itself at the lecture's size and rate."""
    subprocess.run([sys.executable, "-m", "manim", "render", "my_scenes.py", cls,
                    "-r", f"{TINY.width},{TINY.height}", "--fps", str(TINY.fps),
                    "--media_dir", str(media), "--disable_caching", "-v", "WARNING"],
                   cwd=folder, check=True, capture_output=True)
    return decode_frames(next(media.rglob(f"{cls}.mp4")))


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_plain_scene_plays_whole_then_holds_its_last_frame(lecture: dict,
                                                           tmp_path: Path) -> None:
    plans = {p.spec.id: p for p in plan_lecture(lecture["spec"], options(lecture["base"]))}
    long = plans["long"]
    assert long.timing.frames > NATURAL + 10  # the narration is longer than the scene
    assert long.job.author is not None and long.job.author.hold_to == long.timing.frames
    video = decode_frames(lecture["base"] / "out" / "own" / "lecture.mp4")
    natural = natural_render(lecture["base"] / "sub", "Plain", tmp_path / "media")
    assert len(natural) == NATURAL
    # the scene's own frames, in order (the text appears: the asset was read) ...
    for k in (3, 12, NATURAL - 1):
        assert diff(video[k], natural[k]) < 2.0, k
        assert diff(video[k], natural[k - 3]) > diff(video[k], natural[k])
    # ... then its last frame until the narration and the tail end
    for k in range(NATURAL, long.timing.frames):
        assert diff(video[k], natural[-1]) < 2.0, k


def test_scene_longer_than_its_narration_is_followed_by_silence(tmp_path: Path) -> None:
    base = write_folder(tmp_path)
    path = base / "short.toml"
    path.write_text(toml([("short", "sub/my_scenes.py:Plain", "Hi.")], lead_in=0.1, tail=0.1))
    (plan,) = plan_lecture(load_lecture(path), options(base))
    assert plan.timing.frames == NATURAL  # never cut: the scene's length
    assert plan.timing.padding_seconds > 0  # silence after the narration and its tail


def test_moving_camera_scene_and_module_reference_render(lecture: dict) -> None:
    rows = {s.id: s for s in lecture["result"].record.segments}
    assert set(rows) == {"long", "cam", "mod"}
    assert lecture["result"].rendered == ["long", "cam", "mod"]


def test_unseeded_numpy_is_reproducible_per_segment(lecture: dict, tmp_path: Path) -> None:
    """``np.random`` unseeded by the author draws from the lecture's seed and the segment
    id: a second render, in another cache, is the same bytes."""
    spec = lecture["spec"]
    again = spec.model_copy(update={"segments": [spec.segment("cam")]})
    result = build_lecture(again, options(tmp_path), source=str(lecture["toml"]))
    assert result.rendered == ["cam"]
    first = {s.id: s.cache_key for s in lecture["result"].record.segments}["cam"]
    second = result.record.segments[0].cache_key
    assert first == second
    a = lecture["base"] / "out" / ".cache" / "renders" / f"{first}.mp4"
    b = tmp_path / "out" / ".cache" / "renders" / f"{second}.mp4"
    assert a.read_bytes() == b.read_bytes()


def test_cache_keys_follow_the_author_code(tmp_path: Path) -> None:
    base = write_folder(tmp_path)
    path = base / "keys.toml"
    path.write_text(toml([("p", "sub/my_scenes.py:Plain", "Hi."),
                          ("o", "pkg.other:Other", "Hi.")]))

    def keys() -> dict[str, str]:
        return {p.spec.id: p.job.key for p in plan_lecture(load_lecture(path), options(base))}

    first = keys()
    (base / "sub" / "unrelated.py").write_text("X = 2\n")  # imported by nothing
    assert keys() == first
    (base / "sub" / "helper.py").write_text(HELPER.replace("ff0000", "00ff00"))  # a neighbour
    second = keys()
    assert second["p"] != first["p"] and second["o"] == first["o"]
    (base / "pkg" / "other.py").write_text(OTHER.replace("0.4", "0.5"))
    third = keys()
    assert third["o"] != second["o"] and third["p"] == second["p"]
    (base / "sub" / "words.txt").write_text("Changed\n")  # an asset it names
    fourth = keys()
    assert fourth["p"] != third["p"] and fourth["o"] == third["o"]


def test_a_moved_folder_keeps_its_keys(tmp_path: Path) -> None:
    keys = []
    for name in ("a", "b"):
        base = write_folder(tmp_path / name)
        path = base / "k.toml"
        path.write_text(toml([("p", "sub/my_scenes.py:Plain", "Hi.")]))
        keys.append(plan_lecture(load_lecture(path), options(base))[0].job.key)
    assert keys[0] == keys[1]


def test_a_warm_plan_starts_no_child_and_imports_no_manim(lecture: dict) -> None:
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from pipeline.options import RenderOptions
        from pipeline.planning.manifest import QUALITIES, load_lecture
        from pipeline.planning.plan import plan_lecture
        t0 = time.perf_counter()
        spec = load_lecture({str(lecture["toml"])!r})
        plans = plan_lecture(spec, RenderOptions(quality=QUALITIES["tiny"],
                             out_root=Path({str(lecture["base"] / "out")!r})))
        took = time.perf_counter() - t0
        print(sorted(m for m in ("manim", "torch") if m in sys.modules), round(took, 3))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    heavy, took = proc.stdout.split("]")
    assert heavy == "["
    print(f"warm plan of three own scenes: {float(took):.3f} s")


BROKEN = {
    "bad.py": """\
import os

from manim import Circle, Create, Scene


class NotAScene:
    pass


class Boom(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.2)
        raise ValueError("kaboom")


class BoomInRender(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.2)
        if "LECTURE_AUTHOR_PROBE" not in os.environ:  # the render, not the dry run
            raise ValueError("late kaboom")


class Fine(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.2)
""",
    "syntax.py": "from manim import Scene\nclass X(Scene):\n"
                 "    def construct(self)\n        pass\n",
    "imports.py": "from manim import Scene\nimport neighbour\nclass X(Scene):\n    pass\n",
    "neighbour.py": "import no_such_module_here\n",
}

ERRORS = [
    # (name, scene, narration, exit status, the line must contain)
    ("missing_file", "nothing.py:X", "Hi.", 2, "nothing.py: no such file"),
    ("missing_module", "nopkg.mod:X", "Hi.", 2, "no such file"),
    ("missing_class", "bad.py:Nope", "Hi.", 2, "bad.py: no class 'Nope'"),
    ("not_a_scene", "bad.py:NotAScene", "Hi.", 2, "bad.py:6: 'NotAScene' is not a subclass"),
    ("syntax_error", "syntax.py:X", "Hi.", 2, "syntax.py:3: SyntaxError"),
    ("import_error", "imports.py:X", "Hi.", 2,
     "neighbour.py:1: ModuleNotFoundError: No module named 'no_such_module_here'"),
    ("mark_on_plain_scene", "bad.py:Fine", 'Hi <mark name="x"/> there.', 2,
     "marker 'x': scene bad.py:Fine has no beats"),
    ("construct_raises", "bad.py:Boom", "Hi.", 1, "bad.py:13: ValueError: kaboom"),
    ("construct_raises_in_render", "bad.py:BoomInRender", "Hi.", 1,
     "bad.py:20: ValueError: late kaboom"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_broken_scenes_fail_with_one_line(case: tuple[str, str, str, int, str],
                                          tmp_path: Path) -> None:
    _, scene, narration, status, expect = case
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "broken.toml"
    path.write_text(toml([("seg", scene, narration)]))
    proc = cli("--lecture", str(path), "--out", str(tmp_path / "out"), "--quality", "tiny",
               timeout=300)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == status, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "seg" in lines[0] and expect in lines[0], lines[0]
    if status == 2:  # bad input: nothing rendered, nothing written
        assert not (tmp_path / "out" / "own").exists()


PARAMS_SCENES = """\
from manim import Circle, Create, FadeIn, Scene, Square
from pydantic import BaseModel, ConfigDict, Field

from scenes.base import TimedScene
from scenes.timing import Beat


class Steps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(3, ge=1, le=10)
    label: str = "x"


class Plain(Scene):
    Params = Steps

    def construct(self):
        for _ in range(self.params["n"]):  # the length follows the parameter
            self.play(FadeIn(Circle()), run_time=0.2)


class Loose(Scene):  # no model: the params as written
    def construct(self):
        self.play(Create(Circle()), run_time=0.2 * self.params["k"])


class Timed(TimedScene):
    BEATS = (Beat("one", 1.0, 0.5), Beat("two", 1.0, 0.5))

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        size: float = Field(1.0, gt=0)

    def construct(self):
        if self.params != {"size": 2.0}:
            raise ValueError(f"params {self.params}")
        with self.beat("one") as b:
            self.play(Create(Square(side_length=self.params["size"])), run_time=b.frac(0.5))
        with self.beat("two") as b:
            self.play(FadeIn(Circle()), run_time=b.frac(0.5))
"""


def params_toml(path: Path, segments: list[tuple[str, str, str, str]]) -> Path:
    text = toml([(sid, scene, narration) for sid, scene, _, narration in segments],
                lead_in=0.1, tail=0.1)
    for sid, _, params, _ in segments:
        text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\nparams = {params}\n', 1)
    path.write_text(text)
    return path


def test_params_reach_an_own_scene_checked_by_its_model(tmp_path: Path) -> None:
    """``params`` reach ``self.params`` of a plain scene (its length follows them, so a
    render without them would not have the planned frames) and of a ``TimedScene``;
    the model's defaults fill in; placeholders quote them; they are in the key."""
    (tmp_path / "ps.py").write_text(PARAMS_SCENES)
    path = params_toml(tmp_path / "p.toml", [
        ("a", "ps.py:Plain", "{ n = 5 }", "Five {{param name=n}} steps."),
        ("b", "ps.py:Plain", "{}", "Default steps."),
        ("c", "ps.py:Loose", "{ k = 2 }", "Loose {{param name=k}}."),
        ("d", "ps.py:Timed", "{ size = 2.0 }", "One. Two."),
    ])
    spec = load_lecture(path)
    assert spec.segment("a").narration == "Five 5 steps."
    assert spec.segment("c").narration == "Loose 2."
    plans = {p.spec.id: p for p in plan_lecture(spec, options(tmp_path))}
    assert plans["a"].job.params == {"n": 5, "label": "x"}
    assert plans["b"].job.params == {"n": 3, "label": "x"}  # the model's defaults
    assert plans["c"].job.params == {"k": 2}
    assert plans["d"].timing.beat_names == ("one", "two")
    # the natural length was measured with the segment's own params
    assert plans["a"].timing.frames > plans["b"].timing.frames
    assert plans["a"].job.key != plans["b"].job.key
    result = build_lecture(spec, options(tmp_path), source=str(path))
    assert result.rendered == ["a", "b", "c", "d"]


PARAM_ERRORS = [
    # (name, scene, params, the line must contain)
    ("out_of_range", "ps.py:Plain", "{ n = 11 }",
     "segments[0] (seg).params.n: Input should be less than or equal to 10"),
    ("unknown", "ps.py:Plain", "{ m = 1 }", "segments[0] (seg).params.m: unknown parameter"),
    ("wrong_type", "ps.py:Timed", '{ size = "big" }', "segments[0] (seg).params.size: "),
]


@pytest.mark.parametrize("case", PARAM_ERRORS, ids=[c[0] for c in PARAM_ERRORS])
def test_bad_params_for_an_own_scene_fail_before_any_render(
        case: tuple[str, str, str, str], tmp_path: Path) -> None:
    _, scene, params, expect = case
    (tmp_path / "ps.py").write_text(PARAMS_SCENES)
    path = params_toml(tmp_path / "bad.toml", [("seg", scene, params, "Hi.")])
    proc = cli("--lecture", str(path), "--out", str(tmp_path / "out"), "--quality", "tiny",
               timeout=120)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), proc.stderr
    assert expect in lines[0], lines[0]
    assert not (tmp_path / "out" / "own").exists()


def test_unknown_registered_name_still_says_known_scenes(tmp_path: Path) -> None:
    path = tmp_path / "u.toml"
    path.write_text(toml([("u", "NoSuchScene", "Hi.")]))
    proc = cli("--lecture", str(path), "--out", str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2 and "known scenes: TitleCard" in proc.stderr
    assert "file.py:Class" in proc.stderr


TIMED = """\
from manim import Circle, Create, FadeIn, Square

from scenes.base import TimedScene
from scenes.timing import Beat


class Mine(TimedScene):
    BEATS = (Beat("circle", 1.0, 0.5), Beat("square", 1.0, 0.5))

    def construct(self):
        with self.beat("circle") as b:
            self.play(Create(Circle()), run_time=b.frac(0.5))
        with self.beat("square") as b:
            self.play(FadeIn(Square()), run_time=b.frac(0.5))
"""


def test_own_timed_scene_beats_follow_marks(tmp_path: Path) -> None:
    """A ``TimedScene`` of the author's with ``BEATS``: planning reads the beats from the
    dry run, a mark moves a beat to its word, the render has the planned frames."""
    (tmp_path / "timed.py").write_text(TIMED)
    path = tmp_path / "t.toml"
    narration = 'One two three <mark name="square"/> four five six. Seven eight nine.'
    path.write_text(toml([("t", "timed.py:Mine", narration)]))
    spec = load_lecture(path)
    (plan,) = plan_lecture(spec, options(tmp_path))
    assert plan.timing.beat_names == ("circle", "square")
    assert plan.job.author is not None and plan.job.author.hold_to is None
    starts = [s.start for s in plan.narration.sentences]
    # at its word, not on the second sentence where the beat would start unmarked
    assert plan.timing.beat_frames[1] < plan.timing.speech_frame + starts[1] * TINY.fps - 5
    result = build_lecture(spec, options(tmp_path), source=str(path))
    assert result.rendered == ["t"]
    bad = tmp_path / "bad.toml"
    bad.write_text(toml([("t", "timed.py:Mine", 'One <mark name="nope"/> two.')]))
    proc = cli("--lecture", str(bad), "--out", str(tmp_path / "out2"), timeout=120)
    assert proc.returncode == 2
    assert "marker 'nope' is not a beat of timed.py:Mine (beats: circle, square)" in proc.stderr


def test_a_scene_without_animations_is_its_picture_held(tmp_path: Path) -> None:
    (tmp_path / "still.py").write_text(
        "from manim import Circle, Scene\n\n\nclass Still(Scene):\n"
        "    def construct(self):\n        self.add(Circle(color='#00ff00'))\n")
    path = tmp_path / "s.toml"
    path.write_text(toml([("s", "still.py:Still", "Hello there.")]))
    result = build_lecture(load_lecture(path), options(tmp_path), source=str(path))
    assert result.rendered == ["s"]
    video = decode_frames(tmp_path / "out" / "own" / "lecture.mp4")
    assert len(video) > TINY.fps  # the narration's length
    assert video[:, :, :, 1].mean() > 2 * video[:, :, :, 0].mean()  # green on black
    assert diff(video[0], video[-1]) < 1.0


def test_editing_a_neighbour_renders_again_exactly_its_segments(lecture: dict,
                                                                tmp_path: Path) -> None:
    import shutil

    base = tmp_path / "copy"
    shutil.copytree(lecture["base"], base)  # the render cache under out/ comes along
    path = base / "own.toml"

    def run() -> list[str]:
        return list(build_lecture(load_lecture(path), options(base), source=str(path)).rendered)

    assert run() == []  # keys do not depend on where the folder is
    (base / "sub" / "unrelated.py").write_text("X = 3\n")
    assert run() == []
    (base / "sub" / "helper.py").write_text(HELPER.replace("ff0000", "0000ff"))
    assert run() == ["long", "cam"]


def test_a_length_drawn_from_np_random_is_measured_per_segment(tmp_path: Path) -> None:
    """The dry run draws the segment's own numbers, so the render has the planned frames."""
    (tmp_path / "rand.py").write_text(
        "import numpy as np\nfrom manim import Circle, Create, Scene\n\n\n"
        "class Rand(Scene):\n    def construct(self):\n"
        "        self.play(Create(Circle()), run_time=float(np.random.uniform(1.0, 3.0)))\n")
    path = tmp_path / "r.toml"
    path.write_text(toml([(sid, "rand.py:Rand", "Hi.") for sid in ("r1", "r2", "r3")],
                         lead_in=0.1, tail=0.1))
    spec = load_lecture(path)
    frames = [p.timing.frames for p in plan_lecture(spec, options(tmp_path))]
    assert len(set(frames)) > 1  # each segment its own draw
    result = build_lecture(spec, options(tmp_path), source=str(path))
    assert result.rendered == ["r1", "r2", "r3"]


def test_a_length_that_depends_on_the_canvas_is_measured_at_the_render_size(
        tmp_path: Path) -> None:
    """``Write`` takes its length from the number of glyph outlines, and Pango merges
    glyphs on a very small canvas: the dry run measures at the render's own size, so the
    render makes exactly the frames the plan counted (a 64x36 dry run planned 60 frames
    here, and the render then made 75)."""
    (tmp_path / "w.py").write_text(
        "from manim import Scene, Text, Write\n\n\nclass W(Scene):\n"
        "    def construct(self):\n        self.wait(1)\n"
        "        self.play(Write(Text('Result: Pure Gaussian Noise')))\n"
        "        self.wait(2)\n")
    path = tmp_path / "w.toml"
    path.write_text(toml([("w", "w.py:W", "Hi.")], lead_in=0.1, tail=0.1))
    result = build_lecture(load_lecture(path), options(tmp_path), source=str(path))
    assert result.rendered == ["w"]
    # 1 s + Write's 2 s (24 outlines at the render's size: 15 or more take 2 s) + 2 s
    assert result.plans[0].timing.frames == 5 * TINY.fps


def test_a_silent_lecture_is_up_to_date_on_a_rerun(lecture: dict) -> None:
    """Silent narration has no loudness (-inf LUFS): the record must still read back, so
    a re-run finds the outputs up to date (and the slides can read them)."""
    again = build_lecture(lecture["spec"], options(lecture["base"]),
                          source=str(lecture["toml"]))
    assert again.record is not None and again.record.loudness is not None
    assert again.record.loudness.integrated_lufs == float("-inf")
    assert not again.assembled and again.rendered == []


CAMERAS = """\
from manim import DEGREES, Create, Cube, Dot, FadeIn, Square, ThreeDAxes, ThreeDScene, ZoomedScene


class Solid(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)
        self.add(ThreeDAxes())
        self.play(Create(Cube(side_length=1.5, fill_opacity=0.6)), run_time=0.8)
        self.move_camera(theta=60 * DEGREES, run_time=0.6)


class Zoom(ZoomedScene):
    def construct(self):
        self.add(Square(), Dot())
        self.play(FadeIn(Dot().shift([1, 1, 0])), run_time=0.4)
        self.activate_zooming(animate=False)
        self.play(self.zoomed_camera.frame.animate.shift([0.5, 0, 0]), run_time=0.6)
"""


@pytest.mark.parametrize("cls", ["Solid", "Zoom"])
def test_three_d_and_zoomed_scenes_render_like_manim(cls: str, tmp_path: Path) -> None:
    """A ``ThreeDScene`` (its ``ThreeDCamera``, a camera move) and a ``ZoomedScene`` (its
    ``MultiCamera`` and the zoomed inset) render as narrated segments with manim's own
    frames."""
    (tmp_path / "my_scenes.py").write_text(CAMERAS)
    path = tmp_path / "c.toml"
    path.write_text(toml([("seg", f"my_scenes.py:{cls}", "Hi.")], lead_in=0.1, tail=0.1))
    result = build_lecture(load_lecture(path), options(tmp_path), source=str(path))
    assert result.rendered == ["seg"]
    video = decode_frames(tmp_path / "out" / "own" / "lecture.mp4")
    natural = natural_render(tmp_path, cls, tmp_path / "media")
    assert len(natural) > 10 and len(video) >= len(natural)
    for k in range(len(natural)):
        assert diff(video[k], natural[k]) < 2.0, k
    assert diff(natural[0], natural[-1]) > 1.0  # the camera or the inset moved
