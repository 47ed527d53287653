"""Helpers for testing lecture scenes: real renders, frame counts, layout, control frames.

Import them as ``from helpers.scenes import ...`` (``tests/`` is on ``sys.path`` under
pytest, as for ``helpers.audio``). Nothing here is mocked: renders run manim, LaTeX and
ffmpeg for real, at tiny resolution.

Two ways to run a scene
-----------------------
:func:`render_scene`
    Runs the pipeline's own render child (``python -m pipeline.rendering.scene_process``: manim's
    Cairo renderer piping frames to x264) with the job in ``LECTURE_SCENE_JOB``;
    returns the mp4. Use it for what only a real file can
    show: the frame count (:func:`probe_frames`) and decoded pixels
    (:func:`decode_frames`). Costs a process start (torch + manim imports, LaTeX).
:func:`run_scene` / :func:`run_scene_class`
    Runs the scene in this process under ``tempconfig({"dry_run": True, ...})`` (no
    file is written) through :func:`probe_class`, a subclass whose ``beat`` takes a
    :class:`BeatSnapshot` as each beat ends: the frame index, the picture, the layout
    issues (``scenes.layout.check_layout``) and the scene's ``readouts``. Cheap enough
    to run for every scene; the ``scene_snapshots`` fixture in ``conftest.py`` caches
    the default run of each registered scene for the whole session.

Checks built on snapshots
-------------------------
:func:`layout_problems`
    Every layout issue at every beat end, as readable strings (assert it is empty).
:func:`compare_control_frames`
    Graphical regression: the key frame (last frame) of each beat against stored
    control data ``tests/control_data/<Scene>.npz``, with the tolerance of manim's own
    ``frames_comparison`` (its ``_FramesTester``). ``pytest --set_test`` (re)writes
    the control data; ``--show_diff`` writes generated/expected/difference PNGs on a
    mismatch. Both flags are registered in ``tests/conftest.py``.

For another scene family, a test file typically reads::

    from helpers.scenes import compare_control_frames, layout_problems, render_scene, probe_frames

    @pytest.mark.parametrize("name", ["MyScene"])
    def test_layout(name, scene_snapshots):
        assert layout_problems(scene_snapshots(name)) == []

    def test_frames(scene_snapshots, request):
        compare_control_frames("MyScene", scene_snapshots("MyScene"), request)

    def test_plan(tmp_path):
        plan = {"beats": {"intro": 1.2, "body": 2.35}}
        video = render_scene("MyScene", plan=plan, tmp_path=tmp_path)
        assert probe_frames(video) == expected_frames(plan, "MyScene", fps=10)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import media
from scenes.base import JOB_ENV, TimedScene
from scenes.layout import LayoutIssue, check_layout, text_items
from scenes.registry import SCENES, load_scene_class
from scenes.timing import plan_beats

#: Default render size and rate of scene tests: tiny, 16:9, even dimensions.
TINY = (192, 108)
TINY_FPS = 10

CONTROL_DIR = Path(__file__).resolve().parent.parent / "control_data"


# ------------------------------------------------------------------ the job
def job_payload(
    plan: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> str:
    """The ``LECTURE_SCENE_JOB`` JSON for a plan (``{"beats": ...}``/``{"total": ...}``)."""
    return json.dumps(
        {"plan": dict(plan) if plan else None, "params": dict(params or {}), "seed": int(seed)}
    )


def expected_frames(plan: Mapping[str, Any] | None, scene_name: str, fps: int) -> int:
    """``round(total * fps)``: the frame count a plan must give (the timing contract)."""
    cls = load_scene_class(scene_name)
    total = sum(plan_beats(cls.BEATS, plan).values())
    return round(total * fps)


@contextmanager
def scene_job(
    plan: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Iterator[None]:
    """Set ``LECTURE_SCENE_JOB`` for an in-process run and restore it afterwards."""
    old = os.environ.get(JOB_ENV)
    os.environ[JOB_ENV] = job_payload(plan, params, seed)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(JOB_ENV, None)
        else:
            os.environ[JOB_ENV] = old


# ------------------------------------------------------------ subprocess render
class SceneRenderError(AssertionError):
    """``manim render`` failed; the message carries the end of its output."""


def render_scene(
    scene_name: str,
    *,
    plan: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    resolution: tuple[int, int] = TINY,
    fps: int = TINY_FPS,
    tmp_path: Path,
    first: int = 0,
    last: int | None = None,
    keyframes: tuple[int, ...] = (),
) -> Path:
    """Render registered scene ``scene_name`` exactly as the pipeline does; return the mp4.

    Runs the pipeline's child process (``pipeline.rendering.scene_render.render_command``) with
    the job in ``LECTURE_SCENE_JOB`` and the target in ``LECTURE_RENDER_TARGET``, in a
    fresh folder under ``tmp_path``; ``first``/``last``/``keyframes`` as in
    ``pipeline.rendering.scene_process.Target``. Raises :class:`SceneRenderError` with the
    child's output when the render fails.
    """
    from dataclasses import asdict

    from pipeline.planning.manifest import Quality
    from pipeline.rendering.scene_process import TARGET_ENV, Target
    from pipeline.rendering.scene_render import render_command

    if scene_name not in SCENES:
        raise KeyError(f"{scene_name!r} is not in scenes.registry.SCENES")
    width, height = resolution
    n = len(list(Path(tmp_path).glob("render-*")))
    media_dir = Path(tmp_path) / f"render-{n}"
    media_dir.mkdir(parents=True)
    out = media_dir / "scene.mp4"
    target = Target(scene=scene_name, out=str(out),
                    quality=asdict(Quality("test", width, height, fps, 28)),
                    first=first, last=last, keyframes=list(keyframes))
    env = {**os.environ, JOB_ENV: job_payload(plan, params, seed),
           TARGET_ENV: target.model_dump_json()}
    proc = subprocess.run(render_command(), env=env, cwd=media_dir, capture_output=True,
                          text=True)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SceneRenderError(f"render of {scene_name} failed:\n{tail}")
    return out


def probe_frames(path: Path) -> int:
    """Frames decoded from the first video stream (the pipeline's own ffprobe check)."""
    return media.count_frames(path)


def probe_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of the first video stream."""
    v = media.stream(media.probe(path), "video")
    assert v is not None, f"{path} has no video stream"
    return int(v["width"]), int(v["height"])


def decode_frames(path: Path) -> np.ndarray:
    """Every frame of the video as ``uint8 [n, height, width, 3]`` RGB (via ffmpeg)."""
    width, height = probe_size(path)
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    data = np.frombuffer(proc.stdout, dtype=np.uint8)
    return data.reshape(-1, height, width, 3)


# ------------------------------------------------------------ in-process runs
@dataclass
class Readout:
    """A number shown on screen: its value, decimals, the shown string and visibility."""

    value: float
    decimals: int
    shown: str
    glyphs: int
    visible: bool


@dataclass
class BeatSnapshot:
    """The state of a scene when one beat has ended (after its hold)."""

    name: str
    frame_index: int
    frame: np.ndarray
    issues: list[LayoutIssue]
    readouts: dict[str, Readout] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


def screen_texts(mobjects: Any) -> list[str]:
    """The words and formulas on screen: ``Text`` as typed, ``MathTex``/``Tex`` as LaTeX."""
    out = []
    for mob, _ in text_items(mobjects):
        words = getattr(mob, "original_text", None)
        if words is None:
            words = getattr(mob, "tex_string", None)
        if words is not None:
            out.append(str(words))
    return out


def read_readouts(scene: TimedScene) -> dict[str, Readout]:
    """The scene's ``readouts`` (name -> DecimalNumber/Integer) as :class:`Readout` s."""
    family = {id(m) for m in scene.get_mobject_family_members()}
    out = {}
    for key, mob in getattr(scene, "readouts", {}).items():
        out[key] = Readout(
            value=float(mob.get_value()),
            decimals=int(mob.num_decimal_places),
            shown=mob._get_num_string(mob.number),
            glyphs=len(mob.submobjects),
            visible=id(mob) in family,
        )
    return out


def probe_class(cls: type[TimedScene], *, every_play: bool = False) -> type[TimedScene]:
    """A subclass of ``cls`` that records a :class:`BeatSnapshot` at the end of each beat.

    With ``every_play`` it also appends, after every ``play``, the readouts to
    ``scene.play_readouts`` (to check that live readouts agree frame by frame) and the
    visible text items to ``scene.play_texts`` (to check that every item was shown).
    """

    class Probe(cls):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            super().setup()
            self.snapshots: list[BeatSnapshot] = []
            self.play_readouts: list[dict[str, Readout]] = []
            self.play_texts: list[list[Any]] = []

        def play(self, *args: Any, **kwargs: Any) -> None:
            super().play(*args, **kwargs)
            if every_play:
                self.play_readouts.append(read_readouts(self))
                self.play_texts.append([m for m, _ in text_items(self.mobjects)])

        @contextmanager
        def beat(self, name: str) -> Iterator[Any]:
            with super().beat(name) as clock:
                yield clock
            self.snapshots.append(
                BeatSnapshot(
                    name=name,
                    frame_index=self.frames_written(),
                    frame=np.array(self.renderer.get_frame()),
                    issues=check_layout(self.mobjects),
                    readouts=read_readouts(self),
                    texts=screen_texts(self.mobjects),
                )
            )

    Probe.__name__ = cls.__name__
    Probe.__qualname__ = cls.__qualname__
    return Probe


def run_scene_class(
    cls: type[TimedScene],
    *,
    plan: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    resolution: tuple[int, int] = TINY,
    fps: int = 5,
    media_dir: Path,
    every_play: bool = False,
) -> tuple[TimedScene, list[BeatSnapshot]]:
    """Run ``cls`` in this process (dry run: every frame drawn, none written).

    Returns the finished scene and one snapshot per beat. Manim's global config is
    changed only inside ``tempconfig`` and ``LECTURE_SCENE_JOB`` only inside
    :func:`scene_job`, so both are restored afterwards, also on errors.
    """
    from manim import tempconfig

    width, height = resolution
    settings = {
        "dry_run": True,
        "pixel_width": width,
        "pixel_height": height,
        "frame_rate": fps,
        "disable_caching": True,
        "media_dir": str(media_dir),
        "progress_bar": "none",
        "verbosity": "WARNING",
    }
    with scene_job(plan, params, seed), tempconfig(settings):
        scene = probe_class(cls, every_play=every_play)()
        scene.render()
    return scene, scene.snapshots


def run_scene(scene_name: str, **kwargs: Any) -> list[BeatSnapshot]:
    """:func:`run_scene_class` for a registered scene name; returns the snapshots."""
    _, snaps = run_scene_class(load_scene_class(scene_name), **kwargs)
    return snaps


# ------------------------------------------------------------------- checks
def layout_problems(snapshots: list[BeatSnapshot]) -> list[str]:
    """``"<beat>: <issue>"`` for every layout issue at every beat end (empty = clean)."""
    return [f"{s.name}: {issue}" for s in snapshots for issue in s.issues]


def control_path(scene_name: str, variant: str = "") -> Path:
    suffix = f"-{variant}" if variant else ""
    return CONTROL_DIR / f"{scene_name}{suffix}.npz"


def compare_control_frames(
    scene_name: str,
    snapshots: list[BeatSnapshot],
    request: Any,
    *,
    variant: str = "",
) -> None:
    """Compare each beat's key frame with ``tests/control_data/<Scene>[-variant].npz``.

    Uses manim's ``_FramesTester`` (absolute tolerance 1.01 per channel, up to 1e-5 of
    values off) so the rule is exactly manim's ``frames_comparison``. With
    ``--set_test`` the control file is (re)written from ``snapshots`` instead; with
    ``--show_diff`` a mismatch writes ``<Scene>-<beat>-{generated,expected,diff}.png``
    into pytest's ``tmp_path`` for the test and names them in the failure.
    """
    from manim.utils.testing._frames_testers import _ControlDataWriter, _FramesTester

    path = control_path(scene_name, variant)
    frames = [s.frame for s in snapshots]
    if request.config.getoption("--set_test"):
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = _ControlDataWriter(path, size_frame=frames[0].shape[:2])
        with writer.testing():
            for i, frame in enumerate(frames):
                writer.check_frame(i, frame)
        return
    if not path.is_file():
        raise AssertionError(f"no control frames at {path}; create them with pytest --set_test")
    tester = _FramesTester(path, show_diff=False)
    with tester.testing():
        for i, (snap, frame) in enumerate(zip(snapshots, frames, strict=True)):
            try:
                tester.check_frame(i, frame)
            except AssertionError as err:
                note = ""
                if request.config.getoption("--show_diff"):
                    note = "\n" + write_diff_pngs(
                        scene_name,
                        snap.name,
                        frame,
                        tester._frames[i],
                        request.getfixturevalue("tmp_path"),
                    )
                raise AssertionError(
                    f"{scene_name}: key frame of beat {snap.name!r} differs from {path.name}"
                    f"{note}\n{err}"
                ) from None


def write_diff_pngs(
    scene_name: str, beat: str, frame: np.ndarray, expected: np.ndarray, folder: Path
) -> str:
    """Save generated, expected and a red-on-grey difference image; return their paths."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    diff = np.abs(frame.astype(int) - expected.astype(int)).max(axis=-1) > 1
    grey = (frame[..., :3].mean(axis=-1) * 0.4).astype(np.uint8)
    diff_img = np.stack([np.where(diff, 255, grey), grey, grey], axis=-1).astype(np.uint8)
    for tag, img in (
        ("generated", frame[..., :3]),
        ("expected", expected[..., :3]),
        ("diff", diff_img),
    ):
        p = folder / f"{scene_name}-{beat}-{tag}.png"
        Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8)).save(p)
        paths.append(str(p))
    return "diff images: " + ", ".join(paths)
