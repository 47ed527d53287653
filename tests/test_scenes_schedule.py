"""ScheduleCurve: helpers, readouts against the schedules, layout, control frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from diffusion.schedule import NoiseSchedule
from scenes.schedule_curve import (
    ScheduleCurve,
    clamp_t,
    curve_samples,
    short_sci,
    tick_step,
)

from helpers.scenes import (
    BeatSnapshot,
    compare_control_frames,
    layout_problems,
    run_scene,
    run_scene_class,
)

Snapshots = Callable[[str], list[BeatSnapshot]]

# Published crossings of alpha_bar = 0.5 for T = 1000 (0-based t): Ho et al.'s linear
# schedule and Nichol & Dhariwal's cosine schedule.
LINEAR_HALF = 259
COSINE_HALF = 496


@pytest.fixture(scope="module")
def linear_only(scene_media_dir: Path) -> list[BeatSnapshot]:
    return run_scene("ScheduleCurve", params={"show_cosine": False}, media_dir=scene_media_dir)


# ------------------------------------------------------------------ helpers
def test_curve_samples_keep_the_last_step() -> None:
    ts, ys = curve_samples(np.linspace(1.0, 0.0, 10), every=4)
    assert ts.tolist() == [0, 4, 8, 9]
    np.testing.assert_allclose(ys, [1.0, 1 - 4 / 9, 1 - 8 / 9, 0.0])


@pytest.mark.parametrize(("T", "step"), [(1000, 200), (60, 20), (100, 20), (7, 2)])
def test_tick_step_gives_a_few_round_ticks(T: int, step: int) -> None:
    assert tick_step(T) == step
    assert 2 <= T // step <= 5


def test_clamp_t_and_short_sci() -> None:
    assert [clamp_t(v, 1000) for v in (-3.0, 12.4, 12.6, 5000.0)] == [0, 12, 13, 999]
    assert short_sci(4.0358e-05) == "4.0e-05"
    assert short_sci(0.4976) == "0.498"


# ------------------------------------------------------------------ readouts
def test_tracker_stops_at_the_linear_half_with_matching_readout(
    scene_snapshots: Snapshots,
) -> None:
    lin = NoiseSchedule.linear(1000)
    assert lin.first_below(0.5) == LINEAR_HALF
    end = {s.name: s.readouts for s in scene_snapshots("ScheduleCurve")}["tracker"]
    assert end["t"].shown == str(LINEAR_HALF)
    assert end["alpha_bar"].decimals == 3
    assert end["alpha_bar"].shown == f"{lin.alpha_bar(LINEAR_HALF):.3f}" == "0.498"
    assert end["alpha_bar"].glyphs == 5


def test_halfway_marks_both_published_crossings(scene_snapshots: Snapshots) -> None:
    end = {s.name: s.readouts for s in scene_snapshots("ScheduleCurve")}["halfway"]
    assert end["linear_half"].shown == str(LINEAR_HALF) and end["linear_half"].visible
    assert end["cosine_half"].shown == str(COSINE_HALF) and end["cosine_half"].visible
    assert NoiseSchedule.cosine(1000).first_below(0.5) == COSINE_HALF


def test_live_readouts_agree_after_every_play(scene_media_dir: Path) -> None:
    """t and alpha-bar on screen always belong together, for a short T too."""
    T = 200
    scene, _ = run_scene_class(
        ScheduleCurve, params={"T": T}, media_dir=scene_media_dir, every_play=True
    )
    lin = NoiseSchedule.linear(T)
    seen = [r for r in scene.play_readouts if "alpha_bar" in r and r["alpha_bar"].visible]
    assert len(seen) >= 3
    ts = {int(r["t"].shown) for r in seen}
    assert {0, T - 1, lin.first_below(0.5)} <= ts
    for r in seen:
        assert r["alpha_bar"].shown == f"{lin.alpha_bar(int(r['t'].shown)):.3f}"


def test_without_cosine_the_beats_still_play_and_no_cosine_is_marked(
    linear_only: list[BeatSnapshot],
) -> None:
    assert [s.name for s in linear_only] == ScheduleCurve.beat_names()
    end = linear_only[-1].readouts
    assert "cosine_half" not in end
    assert end["linear_half"].shown == str(LINEAR_HALF)


# ------------------------------------------------------------ layout, frames
def test_layout_at_every_beat_end(
    scene_snapshots: Snapshots, linear_only: list[BeatSnapshot]
) -> None:
    assert layout_problems(scene_snapshots("ScheduleCurve")) == []
    assert layout_problems(linear_only) == []


def test_key_frames_match_control_data(
    scene_snapshots: Snapshots, linear_only: list[BeatSnapshot], request: pytest.FixtureRequest
) -> None:
    compare_control_frames("ScheduleCurve", scene_snapshots("ScheduleCurve"), request)
    compare_control_frames("ScheduleCurve", linear_only, request, variant="linear-only")
    # The two variants differ only in the last beat.
    cos, lin = scene_snapshots("ScheduleCurve"), linear_only
    assert all(np.array_equal(a.frame, b.frame) for a, b in zip(cos[:-1], lin[:-1], strict=True))
    assert not np.array_equal(cos[-1].frame, lin[-1].frame)
