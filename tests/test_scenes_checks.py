"""Statistics scenes: readouts equal a fresh computation to the displayed precision."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from manim import Text
from scipy.stats import norm

from diffusion import (
    NoiseSchedule,
    closed_form_check,
    load_mnist,
    make_generator,
    pick_digits,
    q_sample,
    standard_normal_verdict,
    tensor_stats,
)
from scenes.checks import axis_range, density_histogram, normal_pdf
from scenes.registry import load_scene_class
from scenes.timing import min_total

from helpers.scenes import (
    expected_frames,
    layout_problems,
    probe_frames,
    read_readouts,
    render_scene,
)

SCENES = ["ClosedFormCheck", "XTStats"]
FPS = 10


@pytest.fixture
def runs(min_plan_runs: Any) -> Any:
    return min_plan_runs


def shown_as(value: float, decimals: int) -> str:
    """How a DecimalNumber prints ``value``: fixed decimals, no sign on a rounded zero."""
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


# ------------------------------------------------------------------ helpers
def test_density_histogram_has_unit_area_and_matches_numpy() -> None:
    values = np.random.default_rng(0).normal(size=5000)
    edges, dens = density_histogram(values, -4, 4, 40)
    assert dens.sum() * (edges[1] - edges[0]) == pytest.approx(1.0)
    ref, _ = np.histogram(values[(values >= -4) & (values <= 4)], bins=40, range=(-4, 4),
                          density=True)
    np.testing.assert_allclose(dens, ref)


def test_normal_pdf_and_axis_range() -> None:
    xs = np.linspace(-3, 5, 17)
    np.testing.assert_allclose(normal_pdf(xs, 0.7, 1.3), norm.pdf(xs, 0.7, 1.3))
    lo, hi, step = axis_range(0.757, 0.324)
    assert lo <= 0.757 - 4 * 0.324 and hi >= 0.757 + 4 * 0.324
    assert (hi - lo) / step <= 10 and math.isclose(lo / step, round(lo / step))


# ------------------------------------------------------------------ timing, layout
@pytest.mark.parametrize("name", SCENES)
def test_minimum_plan_fits_and_layout_is_clean(name: str, runs: Any) -> None:
    scene, snaps = runs(name)
    cls = load_scene_class(name)
    assert 3 <= len(cls.BEATS) <= 6 and 15 <= cls.default_duration() <= 30
    assert scene.frames_written() == round(min_total(cls.BEATS) * FPS)
    assert layout_problems(snaps) == []


def test_real_render_has_the_planned_frame_count(tmp_path: Path) -> None:
    plan = {"beats": {"noisy_batch": 1.27, "statistics": 1.93, "histogram": 2.05,
                      "conclusion": 1.18}}
    video = render_scene("XTStats", plan=plan, fps=FPS, tmp_path=tmp_path)
    assert probe_frames(video) == expected_frames(plan, "XTStats", FPS) == 64


# ------------------------------------------------------------------ readouts
@pytest.mark.parametrize(
    ("seed", "params"), [(0, {}), (2, {"ts": [250], "x0": -0.4, "n": 1500})]
)
def test_closed_form_check_readouts(runs: Any, seed: int, params: dict[str, Any]) -> None:
    scene, _ = runs("ClosedFormCheck", seed, **params)
    ts, x0, n = params.get("ts", [100, 600]), params.get("x0", 0.8), params.get("n", 4000)
    readouts = read_readouts(scene)
    schedule = NoiseSchedule.linear()
    assert len(readouts) == 7 * len(ts)
    for i, t in enumerate(ts):
        fresh = closed_form_check(schedule, x0, t, n, seed=seed + i)
        for route in ("step", "closed", "theory"):
            for stat in ("mean", "std"):
                ro = readouts[f"t={t} {route} {stat}"]
                assert ro.visible and ro.decimals == 3
                assert ro.shown == shown_as(getattr(fresh, f"{route}_{stat}"), 3)
        p = readouts[f"t={t} ks p"]
        assert p.shown == shown_as(fresh.ks_pvalue, 2)
    # the verdict line agrees with the p-value
    words = [m.original_text for m in scene.get_mobject_family_members() if isinstance(m, Text)]
    verdicts = [w for w in words if "no difference detected" in w or "the samples differ" in w]
    fresh_ps = [closed_form_check(schedule, x0, t, n, seed=seed + i).ks_pvalue
                for i, t in enumerate(ts)]
    assert sorted("no difference" in w for w in verdicts) == sorted(p >= 0.05 for p in fresh_ps)


@pytest.mark.parametrize(("seed", "params"), [(0, {}), (3, {"n_digits": 20, "t": 700})])
def test_xt_stats_readouts(runs: Any, seed: int, params: dict[str, Any]) -> None:
    scene, _ = runs("XTStats", seed, **params)
    n, t = params.get("n_digits", 64), params.get("t", 999)
    data = load_mnist(split="test")
    batch = data.images[pick_digits(data, n, seed=seed, distinct=False)].to(torch.float64)
    x_t = q_sample(batch, t, NoiseSchedule.linear(), generator=make_generator(seed, "cpu"))
    fresh = tensor_stats(x_t)
    readouts = read_readouts(scene)
    for key, decimals in (("mean", 3), ("std", 3), ("min", 2), ("max", 2)):
        assert readouts[key].visible and readouts[key].decimals == decimals
        assert readouts[key].shown == shown_as(getattr(fresh, key), decimals)
    if t == 999:  # what the scene claims on screen
        assert abs(fresh.mean) < 0.05 and abs(fresh.std - 1) < 0.05


# ------------------------------------------------------------ computed verdicts
@pytest.mark.parametrize(("seed", "params"), [(0, {}), (3, {"n_digits": 20, "t": 700}),
                                              (0, {"t": 300})])
def test_xt_stats_verdicts_are_computed(runs: Any, seed: int, params: dict[str, Any]) -> None:
    """≈ / ≠ and the conclusion follow the numbers beside them, with their thresholds."""
    scene, snaps = runs("XTStats", seed, **params)
    n, t = params.get("n_digits", 64), params.get("t", 999)
    data = load_mnist(split="test")
    batch = data.images[pick_digits(data, n, seed=seed, distinct=False)].to(torch.float64)
    x_t = q_sample(batch, t, NoiseSchedule.linear(), generator=make_generator(seed, "cpu"))
    fresh = standard_normal_verdict(x_t)
    texts = snaps[-1].texts
    assert (r"\approx 0" in texts) == fresh.mean_ok and (r"\neq 0" in texts) != fresh.mean_ok
    assert (r"\approx 1" in texts) == fresh.std_ok and (r"\neq 1" in texts) != fresh.std_ok
    conclusion = [w for w in texts if "trace" in w]
    assert len(conclusion) == 1
    assert ("is not yet" in conclusion[0]) != fresh.standard_normal
    assert read_readouts(scene)["ks"].shown == shown_as(fresh.ks_distance, 3)
    if t == 300:  # a case the screen must call negative
        assert not fresh.standard_normal and "is not yet" in conclusion[0]
    if t == 999 and seed == 0:
        assert fresh.standard_normal and r"x_T \approx" in conclusion[0]


def test_standard_normal_verdict_thresholds() -> None:
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(50_000, generator=gen, dtype=torch.float64)
    assert standard_normal_verdict(noise).standard_normal
    shifted = standard_normal_verdict(noise + 0.1)
    assert not shifted.mean_ok and shifted.std_ok and not shifted.standard_normal
    wide = standard_normal_verdict(noise * 1.2)
    assert wide.mean_ok and not wide.std_ok
    uniform = torch.rand(50_000, generator=gen, dtype=torch.float64) * 12**0.5 - 3**0.5
    flat = standard_normal_verdict(uniform)  # mean 0, std 1, wrong shape
    assert flat.mean_ok and flat.std_ok and not flat.shape_ok and not flat.standard_normal
    with pytest.raises(ValueError, match="mean_tol"):
        standard_normal_verdict(noise, mean_tol=0)
