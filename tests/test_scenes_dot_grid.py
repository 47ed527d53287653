"""ForwardDotGrid and ReverseDotGrid: helpers, layout, readouts, control frames, seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scene_utils import (
    BeatSnapshot,
    compare_control_frames,
    layout_problems,
    run_scene,
    run_scene_class,
)

from diffusion.schedule import NoiseSchedule
from scenes import theme
from scenes.dot_grid import (
    DATA_LIMIT,
    DEFAULT_STEPS,
    DEFAULT_T,
    PANEL_CENTER,
    PANEL_HALF,
    ForwardDotGrid,
    check_steps,
    dot_colour,
    noise_share,
    thin_indices,
    to_scene,
)
from scenes.registry import load_scene_class

SCENES = ["ForwardDotGrid", "ReverseDotGrid"]
Snapshots = Callable[[str], list[BeatSnapshot]]


# ------------------------------------------------------------------ helpers
def test_to_scene_maps_data_units_into_the_panel() -> None:
    pts = np.array([[0.0, 0.0], [DATA_LIMIT, -DATA_LIMIT], [2.0, 1.0]])
    got = to_scene(pts)
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got[0], PANEL_CENTER)
    np.testing.assert_allclose(got[1], PANEL_CENTER + [PANEL_HALF, -PANEL_HALF, 0])
    np.testing.assert_allclose(got[2], PANEL_CENTER + [0.75 * 2.0, 0.75 * 1.0, 0])


def test_to_scene_clamps_outliers_to_the_panel_edge() -> None:
    got = to_scene(np.array([[50.0, -0.5], [-9.0, 9.0]]))
    np.testing.assert_allclose(got[0, :2], PANEL_CENTER[:2] + [PANEL_HALF, -0.375])
    np.testing.assert_allclose(got[1, :2], PANEL_CENTER[:2] + [-PANEL_HALF, PANEL_HALF])


@pytest.mark.parametrize(
    ("count", "budget", "want"),
    [(4, 10, [0, 1, 2, 3]), (10, 4, [0, 3, 6, 9]), (10, 1, [9]), (11, 3, [0, 5, 10])],
)
def test_thin_indices_keeps_the_last_step(count: int, budget: int, want: list[int]) -> None:
    assert thin_indices(count, budget) == want


def test_colour_runs_from_data_blue_to_noise_red() -> None:
    assert dot_colour(0.0).to_hex() == theme.DATA.to_hex()
    assert dot_colour(1.0).to_hex() == theme.NOISE.to_hex()
    s = NoiseSchedule.linear_scaled(DEFAULT_T)
    shares = [noise_share(s, t) for t in sorted(DEFAULT_STEPS)]
    assert noise_share(s, None) == 0.0
    assert shares == sorted(shares)
    assert shares[-1] == pytest.approx(1.0, abs=1e-4)


def test_display_steps_must_reach_the_last_step() -> None:
    assert check_steps([0, 30, 59], 60) == [0, 30, 59]
    with pytest.raises(ValueError, match="must include T - 1 = 59"):
        check_steps([0, 30, 58], 60)


def test_bad_display_steps_fail_the_render(scene_media_dir: Path) -> None:
    with pytest.raises(ValueError, match="must include T - 1"):
        run_scene("ForwardDotGrid", params={"display_steps": [0, 10]}, media_dir=scene_media_dir)


# ------------------------------------------------------------- the scenes
@pytest.mark.parametrize("name", SCENES)
def test_layout_at_every_beat_end(name: str, scene_snapshots: Snapshots) -> None:
    snaps = scene_snapshots(name)
    assert [s.name for s in snaps] == load_scene_class(name).beat_names()
    assert layout_problems(snaps) == []


@pytest.mark.parametrize("name", SCENES)
def test_key_frames_match_control_data(
    name: str, scene_snapshots: Snapshots, request: pytest.FixtureRequest
) -> None:
    compare_control_frames(name, scene_snapshots(name), request)


def test_forward_readouts_agree_with_the_schedule_at_every_step(scene_media_dir: Path) -> None:
    """After every play, the shown alpha-bar is the schedule's value for the shown t."""
    T = 40
    steps = [0, 3, 9, 17, 26, 39]
    scene, snaps = run_scene_class(
        ForwardDotGrid,
        params={"T": T, "display_steps": steps},
        media_dir=scene_media_dir,
        every_play=True,
    )
    schedule = NoiseSchedule.linear_scaled(T)
    seen = [r for r in scene.play_readouts if r and r["t"].visible]
    assert seen, "no readouts were on screen"
    shown_t = []
    for r in seen:
        t = int(r["t"].shown)
        shown_t.append(t)
        assert r["alpha_bar"].decimals == 3
        assert r["alpha_bar"].shown == f"{schedule.alpha_bar(t):.3f}"
        assert r["alpha_bar"].glyphs == len(r["alpha_bar"].shown)
    assert set(steps) <= set(shown_t)
    assert shown_t == sorted(shown_t)
    end = {s.name: s.readouts for s in snaps}["noising"]
    assert end["t"].shown == "39" and end["alpha_bar"].shown == "0.000"


def test_reverse_counts_down_to_zero(scene_snapshots: Snapshots) -> None:
    snaps = {s.name: s for s in scene_snapshots("ReverseDotGrid")}
    assert snaps["denoising"].readouts["t"].shown == "0"
    assert snaps["denoising"].readouts["t"].visible
    assert not snaps["data"].readouts["t"].visible


@pytest.mark.parametrize("name", SCENES)
def test_another_seed_moves_the_dots_elsewhere(
    name: str, scene_snapshots: Snapshots, scene_media_dir: Path, request: pytest.FixtureRequest
) -> None:
    base = scene_snapshots(name)
    other = run_scene(name, seed=1, media_dir=scene_media_dir)
    # Reverse: the start is noise, so it already differs; forward: the clean grid agrees.
    first_differs = name == "ReverseDotGrid"
    assert (not np.array_equal(base[0].frame, other[0].frame)) == first_differs
    assert not np.array_equal(base[-1].frame, other[-1].frame)
    # ... and the control-frame comparison notices it.
    if not request.config.getoption("--set_test"):
        with pytest.raises(AssertionError, match="differs from"):
            compare_control_frames(name, other, request)
