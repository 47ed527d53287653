"""The scene timing contract: plans, exact frame counts, errors, determinism.

Real renders run the pipeline's own render child as the pipeline does (``helpers.scenes``),
at 192x108 and 10 fps; the frame count is read back with ``ffprobe -count_frames``.
Other scene families add their scenes to the frame-count test in their own files
with the same helpers (see the ``helpers.scenes`` docstring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from manim import Square, Wait

from scenes.base import TimedScene, TimingError
from scenes.layout import split_frames
from scenes.registry import SCENES, load_scene_class
from scenes.timing import Beat, min_total, plan_beats, spread_total

from helpers.scenes import (
    decode_frames,
    expected_frames,
    probe_frames,
    render_scene,
    run_scene_class,
)

# Plans with awkward fractions on purpose: beat ends fall between frames.
PLANS: dict[str, dict[str, Any]] = {
    "TitleCard": {"total": 3.14},
    "KeyConcepts": {"beats": {"heading": 0.62, "concepts": 2.83, "recap": 0.71}},
    "Takeaways": {"total": 4.44},
    "ForwardDotGrid": {"beats": {"grid": 1.23, "noising": 2.61, "noise": 1.07}},
    "ReverseDotGrid": {"total": 6.37},
    "ScheduleCurve": {"beats": {"axes": 0.55, "linear": 1.26, "tracker": 1.74, "halfway": 1.55}},
}
MY_SCENES = list(PLANS)
FPS = 10


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, int], Path]:
    """Renders shared by the tests of this module, keyed by (scene, seed)."""
    return {}


def render_cached(renders: dict[tuple[str, int], Path], name: str, seed: int, tmp: Path) -> Path:
    if (name, seed) not in renders:
        renders[name, seed] = render_scene(name, plan=PLANS[name], seed=seed, fps=FPS, tmp_path=tmp)
    return renders[name, seed]


# --------------------------------------------------------------- real renders
@pytest.mark.parametrize("name", MY_SCENES)
def test_render_has_exact_frame_count(
    name: str, renders: dict[tuple[str, int], Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    video = render_cached(renders, name, 0, tmp_path_factory.mktemp(name))
    want = expected_frames(PLANS[name], name, FPS)
    cls = load_scene_class(name)
    total = sum(plan_beats(cls.BEATS, PLANS[name]).values())
    assert want == round(total * FPS)
    assert probe_frames(video) == want


def test_same_seed_gives_identical_frames(
    renders: dict[tuple[str, int], Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two separate renders with one seed decode to the same pixels, frame for frame.

    (That another seed gives other frames is checked in process, in
    ``test_scenes_dot_grid.py``.)
    """
    name = "ForwardDotGrid"
    first = decode_frames(render_cached(renders, name, 0, tmp_path_factory.mktemp("seed0")))
    again = decode_frames(
        render_scene(
            name, plan=PLANS[name], seed=0, fps=FPS, tmp_path=tmp_path_factory.mktemp("seed0-again")
        )
    )
    assert first.shape[0] == expected_frames(PLANS[name], name, FPS)
    assert first.shape == again.shape
    assert np.array_equal(first, again)
    # Not a blank video: the noised grid is on screen at the end.
    assert first[-1].std() > 5


def test_registered_scenes_are_timed_scenes_with_json_params() -> None:
    import json

    for name in MY_SCENES:
        assert name in SCENES
        cls = load_scene_class(name)
        assert issubclass(cls, TimedScene)
        assert 3 <= len(cls.BEATS) <= 6
        assert 15 <= cls.default_duration() <= 30
        assert all(0.5 <= b.minimum <= 1.5 for b in cls.BEATS)
        assert json.loads(json.dumps(cls.PARAMS)) == cls.PARAMS


# ------------------------------------------------- in-process: tightest plans
@pytest.mark.parametrize("name", MY_SCENES)
def test_scene_fits_its_minimum_plan(name: str, scene_media_dir: Path) -> None:
    """Every beat at its minimum, at 10 fps: the scene still fits and ends on the grid."""
    cls = load_scene_class(name)
    plan = {"beats": cls.min_durations()}
    scene, snaps = run_scene_class(cls, plan=plan, fps=FPS, media_dir=scene_media_dir)
    ends = np.cumsum([b.minimum for b in cls.BEATS])
    assert [s.frame_index for s in snaps] == [round(e * FPS) for e in ends]
    assert scene.frames_written() == round(min_total(cls.BEATS) * FPS)


# ------------------------------------------------------ TimedScene behaviour
class TwoBeats(TimedScene):
    BEATS = (Beat("a", 1.0, 0.5), Beat("b", 1.5, 0.5))
    PARAMS: dict[str, Any] = {"overrun": 0.0, "order": ["a", "b"]}

    def construct(self) -> None:
        sq = Square()
        for name in self.params["order"]:
            with self.beat(name) as b:
                self.play(sq.animate.shift([0.1, 0, 0]), run_time=b.frac(0.5))
                if self.params["overrun"]:
                    self.play(Wait(run_time=self.params["overrun"]))


@pytest.mark.parametrize(
    ("plan", "fps", "ends"),
    [
        (None, 15, [15, 38]),  # 1.0, 2.5 s
        ({"beats": {"a": 0.73, "b": 1.38}}, 15, [11, 32]),  # 10.95, 31.65 frames
        ({"total": 1.3}, 10, [5, 13]),  # 0.52 and 0.78 s
        ({"total": 1.0}, 30, [15, 30]),  # both at their minimum
    ],
)
def test_beats_end_on_the_frame_grid(
    plan: dict[str, Any] | None, fps: int, ends: list[int], scene_media_dir: Path
) -> None:
    scene, snaps = run_scene_class(
        TwoBeats, plan=plan, fps=fps, resolution=(64, 36), media_dir=scene_media_dir
    )
    assert [s.frame_index for s in snaps] == ends
    assert scene.frames_written() == ends[-1]


def test_beat_overrun_raises(scene_media_dir: Path) -> None:
    with pytest.raises(TimingError, match="beat 'a' ran .* plan allows 10"):
        run_scene_class(
            TwoBeats,
            params={"overrun": 1.2},
            fps=10,
            resolution=(64, 36),
            media_dir=scene_media_dir,
        )


def test_beats_out_of_order_raise(scene_media_dir: Path) -> None:
    with pytest.raises(TimingError, match="played out of order"):
        run_scene_class(
            TwoBeats,
            params={"order": ["b", "a"]},
            fps=10,
            resolution=(64, 36),
            media_dir=scene_media_dir,
        )


def test_missing_beat_raises(scene_media_dir: Path) -> None:
    with pytest.raises(TimingError, match=r"beats never played: \['b'\]"):
        run_scene_class(
            TwoBeats,
            params={"order": ["a"]},
            fps=10,
            resolution=(64, 36),
            media_dir=scene_media_dir,
        )


def test_unknown_param_raises(scene_media_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        run_scene_class(
            TwoBeats,
            params={"colour": "red"},
            fps=10,
            resolution=(64, 36),
            media_dir=scene_media_dir,
        )


# ------------------------------------------------------------ plan arithmetic
BEATS = (Beat("intro", 4.0, 1.0), Beat("body", 10.0, 1.5), Beat("outro", 2.0, 1.2))


def test_no_plan_gives_defaults() -> None:
    want = {"intro": 4.0, "body": 10.0, "outro": 2.0}
    assert plan_beats(BEATS, None) == want
    assert plan_beats(BEATS, {}) == want


def test_partial_beats_plan_keeps_other_defaults_in_order() -> None:
    got = plan_beats(BEATS, {"beats": {"body": 3.5}})
    assert list(got) == ["intro", "body", "outro"]
    assert got == {"intro": 4.0, "body": 3.5, "outro": 2.0}


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"beats": {"middle": 2.0}}, "unknown beat"),
        ({"beats": {"body": 1.0}}, "needs at least 1.5"),
        ({"beats": {"body": 3.0}, "total": 9.0}, "not both"),
        ({"seconds": 9.0}, "expected 'beats' or 'total'"),
        ({"total": 3.6}, "total must be >= 3.700"),
    ],
)
def test_bad_plans_raise(plan: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_beats(BEATS, plan)


def test_total_is_shared_in_proportion_when_no_minimum_binds() -> None:
    got = spread_total(BEATS, 32.0)
    assert got == pytest.approx({"intro": 8.0, "body": 20.0, "outro": 4.0})


def test_total_pins_beats_at_their_minimum() -> None:
    # Proportional shares of 6 s: 1.5, 3.75, 0.75 -- outro is below its 1.2 minimum.
    got = spread_total(BEATS, 6.0)
    assert got["outro"] == 1.2
    assert got["intro"] / got["body"] == pytest.approx(4.0 / 10.0)
    assert sum(got.values()) == pytest.approx(6.0)


def test_total_at_the_floor_gives_every_minimum() -> None:
    assert spread_total(BEATS, min_total(BEATS)) == pytest.approx(
        {"intro": 1.0, "body": 1.5, "outro": 1.2}
    )


def test_total_within_tolerance_below_the_floor_pins_every_beat() -> None:
    # Float sums of minima land a hair under the floor; every beat is then pinned.
    beats = (Beat("a", 2.0, 1.0), Beat("b", 2.0, 1.0))
    assert spread_total(beats, 2.0 - 5e-10) == pytest.approx({"a": 1.0, "b": 1.0})


@pytest.mark.parametrize("total", np.linspace(3.7, 40.0, 23).tolist())
def test_spread_total_invariants(total: float) -> None:
    got = spread_total(BEATS, total)
    assert list(got) == [b.name for b in BEATS]
    assert sum(got.values()) == pytest.approx(total, abs=1e-9)
    for b in BEATS:
        assert got[b.name] >= b.minimum - 1e-9
    free = [b for b in BEATS if got[b.name] > b.minimum + 1e-9]
    ratios = [got[b.name] / b.seconds for b in free]
    if len(ratios) > 1:
        assert max(ratios) - min(ratios) < 1e-9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x", "seconds": 0.0}, "seconds must be > 0"),
        ({"name": "x", "seconds": 1.0, "minimum": 2.0}, "minimum must be in"),
        ({"name": "x", "seconds": 1.0, "minimum": 0.0}, "minimum must be in"),
    ],
)
def test_bad_beats_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Beat(**kwargs)


def test_duplicate_beat_names_raise() -> None:
    with pytest.raises(ValueError, match="unique"):
        plan_beats((Beat("a", 1.0), Beat("a", 2.0)), None)


# ---------------------------------------------------------- frame budgets
@pytest.mark.parametrize(
    ("total", "weights", "want"),
    [
        (10, [1, 1], [5, 5]),
        (7, [1, 1, 1], [3, 2, 2]),
        (5, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]),
        (12, [3, 1], [9, 3]),
        (4, [100, 1], [3, 1]),
    ],
)
def test_split_frames(total: int, weights: list[float], want: list[int]) -> None:
    got = split_frames(total, weights)
    assert got == want
    assert sum(got) == total


def test_split_frames_needs_a_frame_per_part() -> None:
    with pytest.raises(ValueError, match="cannot give 4 parts"):
        split_frames(3, [1, 1, 1, 1])
