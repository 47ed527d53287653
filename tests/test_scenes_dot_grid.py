"""ForwardDotGrid and ReverseDotGrid: helpers, layout, readouts, control frames, seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from diffusion import grid_coverage, keyframes, path_deviation
from diffusion.schedule import NoiseSchedule
from scenes import theme
from scenes.dot_grid import (
    DATA_LIMIT,
    DEFAULT_T,
    PANEL_CENTER,
    PANEL_HALF,
    ForwardDotGrid,
    ReverseDotGrid,
    dot_colour,
    noise_share,
    to_scene,
)
from scenes.registry import load_scene_class

from helpers.scenes import (
    BeatSnapshot,
    compare_control_frames,
    layout_problems,
    run_scene,
    run_scene_class,
)

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


def random_walk(steps: int, points: int, scale: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, scale, (steps, points, 2)), axis=0)


def test_every_state_is_drawn_when_the_frames_allow() -> None:
    path = random_walk(61, 30, 0.2)
    keep = keyframes(path, 0.06, budget=60)
    assert keep == list(range(61))
    assert path_deviation(path, keep) == 0.0


def test_thinned_path_stays_within_the_tolerance_when_it_can() -> None:
    # a smooth path with small jitter: few states suffice to stay within 0.06
    t = np.linspace(0, 1, 400)[:, None, None]
    path = np.concatenate([np.cos(3 * t), np.sin(3 * t)], axis=2) * np.ones((1, 5, 1))
    path = path + random_walk(400, 5, 0.002)
    keep = keyframes(path, 0.06, budget=120)
    assert keep[0] == 0 and keep[-1] == 399 and len(keep) - 1 <= 120
    assert path_deviation(path, keep) <= 0.06
    # ... and a straight cut through it would not
    assert path_deviation(path, [0, 399]) > 0.06


def test_too_few_frames_never_exceed_the_budget() -> None:
    path = random_walk(301, 20, 0.1)
    keep = keyframes(path, 0.06, budget=50)
    assert len(keep) - 1 <= 50 and keep[0] == 0 and keep[-1] == 300
    assert path_deviation(path, keep) > 0.06  # a rough walk cannot be drawn in 50 frames


def test_grid_coverage_verdict() -> None:
    grid = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    on = grid_coverage(grid[[0, 0, 1, 1, 2]] + 0.01, grid, tol=0.1)
    assert (on.n_close, on.n_reached, on.on_data) == (5, 3, True)
    off = grid_coverage(np.array([[0.5, 0.5], [0.5, 0.0], [0.02, 0.0]]), grid, tol=0.1)
    assert (off.n_close, off.n_reached, off.on_data) == (1, 1, False)  # a negative verdict


def test_colour_runs_from_data_blue_to_noise_red() -> None:
    assert dot_colour(0.0).to_hex() == theme.DATA.to_hex()
    assert dot_colour(1.0).to_hex() == theme.NOISE.to_hex()
    s = NoiseSchedule.linear_scaled(DEFAULT_T)
    shares = [noise_share(s, t) for t in range(DEFAULT_T)]
    assert noise_share(s, None) == 0.0
    assert shares == sorted(shares)
    assert shares[-1] == pytest.approx(1.0, abs=1e-4)


def test_bad_parameters_fail_the_render(scene_media_dir: Path) -> None:
    with pytest.raises(ValueError, match="T: .*greater than or equal to 21"):
        run_scene("ForwardDotGrid", params={"T": 1}, media_dir=scene_media_dir)
    with pytest.raises(ValueError, match="n_samples"):
        run_scene("ReverseDotGrid", params={"n_samples": 0}, media_dir=scene_media_dir)


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


def test_forward_dots_follow_every_sampled_step(scene_media_dir: Path) -> None:
    """With frames to spare, every step of the chain is drawn, in order, on its path."""
    T = 40
    scene, snaps = run_scene_class(
        ForwardDotGrid, params={"T": T}, fps=10, media_dir=scene_media_dir, every_play=True
    )
    assert scene.drawn == list(range(T + 1)) and scene.path_error == 0.0
    schedule = NoiseSchedule.linear_scaled(T)
    seen = [r for r in scene.play_readouts if r and r["t"].visible]
    shown_t = [int(r["t"].shown) for r in seen]
    for r, t in zip(seen, shown_t):
        assert r["alpha_bar"].shown == f"{schedule.alpha_bar(t):.3f}"
    assert set(range(T)) <= set(shown_t) and shown_t == sorted(shown_t)
    end = {s.name: s.readouts for s in snaps}["noising"]
    assert end["t"].shown == str(T - 1) and end["alpha_bar"].shown == "0.000"
    np.testing.assert_allclose(
        [d.get_center()[:2] for d in scene.dots], scene.path[-1], atol=1e-9
    )


@pytest.mark.parametrize("cls", [ForwardDotGrid, ReverseDotGrid])
def test_drawn_path_within_a_dot_radius_at_lecture_rate(cls: type) -> None:
    """The overview lecture's runs, at 60 fps with the default beat: the frames the scene
    has for the path (``step_budget``) draw it within a dot radius of the sampled one."""
    from diffusion import forward_trajectory, reverse_trajectory
    from pipeline.planning.manifest import load_lecture
    from scenes.base import BeatClock
    from scenes.dot_grid import grid_run, scene_path, step_budget

    spec = load_lecture("diffusion-overview")
    params = {**cls.PARAMS, **next(s.params for s in spec.segments if s.scene == cls.__name__)}
    if cls is ForwardDotGrid:
        _, _, traj = grid_run(params, spec.seed, forward_trajectory)
        path, beat, used = scene_path([traj.clean, *traj.positions]), "noising", 0.08
    else:
        n = params["n_samples"]
        _, _, traj = grid_run(params, spec.seed, reverse_trajectory, n=n)
        path, beat, used = scene_path([*traj.positions, traj.final]), "denoising", 0.06
    seconds = {b.name: b.seconds for b in cls.BEATS}[beat]
    clock = BeatClock(beat, seconds, 60.0)
    budget = step_budget(clock, used * seconds)
    keep = keyframes(path, theme.DOT_RADIUS, budget)
    assert path_deviation(path, keep) <= theme.DOT_RADIUS
    # the scene's own thinning would have been needed with a fifth of the frames
    assert path_deviation(path, keyframes(path, theme.DOT_RADIUS, budget // 5)) > 0


def test_reverse_says_what_it_shows(scene_snapshots: Snapshots) -> None:
    snaps = {s.name: s for s in scene_snapshots("ReverseDotGrid")}
    texts = " ".join(snaps["data"].texts)
    assert "new samples from the data distribution" in texts
    assert "grid points reached" in texts and "data recovered" not in texts


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
