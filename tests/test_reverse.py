"""Optimal denoiser, posterior, DDPM/DDIM steps and reverse trajectories of the dot grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from diffusion import (
    NoiseSchedule,
    Trajectory,
    ddim_step,
    ddpm_step,
    dot_grid,
    make_generator,
    nearest_point_distance,
    optimal_x0,
    posterior_mean_variance,
    reverse_trajectory,
)

LINEAR = NoiseSchedule.linear()
DISPLAY = NoiseSchedule.linear_scaled(100)
GRID = dot_grid()


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def cpu_gen(seed: int) -> torch.Generator:
    return make_generator(seed, device="cpu")


def brute_force_x0(x_t: np.ndarray, abar: float, points: np.ndarray) -> np.ndarray:
    """E[x0 | x_t] by Bayes' rule, one sample at a time, with the log-sum-exp trick."""
    out = []
    for x in x_t:
        logs = [-float(np.sum((x - math.sqrt(abar) * p) ** 2)) / (2 * (1 - abar)) for p in points]
        top = max(logs)
        w = np.array([math.exp(v - top) for v in logs])
        out.append((w[:, None] * points).sum(0) / w.sum())
    return np.array(out)


# --- optimal denoiser -------------------------------------------------------------------
def test_optimal_x0_matches_bayes_rule():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(7, 3))
    x_t = rng.normal(size=(5, 3))
    for t in (0, 30, 300, 999):
        got = optimal_x0(torch.from_numpy(x_t), t, torch.from_numpy(points), LINEAR).numpy()
        want = brute_force_x0(x_t, LINEAR.alpha_bar(t), points)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_optimal_x0_limits():
    g = GRID
    # Near t=0, a slightly perturbed scaled grid point is denoised to that point.
    x_t = math.sqrt(LINEAR.alpha_bar(0)) * g[:10] + 0.01
    assert torch.allclose(optimal_x0(x_t, 0, g, LINEAR), g[:10], atol=1e-9)
    # At t=T-1 the data is almost forgotten: E[x0 | x_t] is the data mean (0) plus, to first
    # order in sqrt(abar), sqrt(abar) Cov(p) x_t, with Cov(p) = 1.6 I for the grid.
    x_far = torch.randn(4, 2, dtype=torch.float64, generator=cpu_gen(0))
    far = optimal_x0(x_far, 999, g, LINEAR)
    assert torch.allclose(far, math.sqrt(LINEAR.alpha_bar(999)) * 1.6 * x_far, atol=2e-4)
    assert far.abs().max().item() < 0.05
    # One point: always that point. Midway between two: the midpoint.
    one = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    assert torch.allclose(
        optimal_x0(torch.randn(3, 2, dtype=torch.float64), 50, one, LINEAR), one.expand(3, 2)
    )
    two = torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(
        optimal_x0(torch.zeros(1, 2, dtype=torch.float64), 100, two, LINEAR),
        torch.zeros(1, 2, dtype=torch.float64),
        atol=1e-12,
    )


def test_optimal_x0_on_image_shaped_data_keeps_dtype():
    points = torch.rand(3, 1, 4, 4) * 2 - 1
    x_t = math.sqrt(LINEAR.alpha_bar(5)) * points[[2, 0]]
    out = optimal_x0(x_t, 5, points, LINEAR)
    assert out.shape == (2, 1, 4, 4) and out.dtype == torch.float32
    assert torch.allclose(out, points[[2, 0]], atol=1e-5)
    with pytest.raises(ValueError, match=r"x_t and points must be \[M, \*S\] and \[N, \*S\]"):
        optimal_x0(torch.zeros(2, 3), 5, torch.zeros(4, 2), LINEAR)
    with pytest.raises(ValueError, match=r"\[0, 999\], got 1000"):
        optimal_x0(torch.zeros(2, 2), 1000, GRID, LINEAR)
    with pytest.raises(ValueError, match="single integer"):
        optimal_x0(torch.zeros(2, 2), torch.tensor([1, 2]), GRID, LINEAR)


# --- posterior --------------------------------------------------------------------------
def test_posterior_matches_gaussian_conditioning():
    """q(x_{t-1} | x_t, x0) by Bayes: prior N(sqrt(abar_{t-1}) x0, 1 - abar_{t-1}),
    likelihood N(x_t; sqrt(alpha_t) x_{t-1}, beta_t)."""
    x_t = torch.tensor([[0.3, -1.2]], dtype=torch.float64)
    x0 = torch.tensor([[0.8, 0.4]], dtype=torch.float64)
    for t in (1, 10, 500, 999):
        beta = 1e-4 + (0.02 - 1e-4) * t / 999
        abar_prev = math.prod(1 - (1e-4 + (0.02 - 1e-4) * k / 999) for k in range(t))
        precision = 1 / (1 - abar_prev) + (1 - beta) / beta
        var = 1 / precision
        mean = var * (
            math.sqrt(abar_prev) * x0 / (1 - abar_prev) + math.sqrt(1 - beta) * x_t / beta
        )
        got_mean, got_var = posterior_mean_variance(x_t, x0, t, LINEAR)
        assert got_var.item() == pytest.approx(var, rel=1e-9)
        assert torch.allclose(got_mean, mean, rtol=1e-9, atol=1e-12)
    mean0, var0 = posterior_mean_variance(x_t, x0, 0, LINEAR)
    assert var0.item() == 0.0 and torch.allclose(mean0, x0)


def test_posterior_per_sample_t_and_errors():
    x_t = torch.randn(3, 2, dtype=torch.float64, generator=cpu_gen(0))
    x0 = torch.randn(3, 2, dtype=torch.float64, generator=cpu_gen(1))
    t = torch.tensor([0, 10, 999])
    mean, var = posterior_mean_variance(x_t, x0, t, LINEAR)
    assert var.shape == (3, 1)
    for i in range(3):
        m_i, v_i = posterior_mean_variance(x_t[i : i + 1], x0[i : i + 1], int(t[i]), LINEAR)
        assert torch.allclose(mean[i], m_i[0]) and torch.allclose(var[i, 0], v_i)
    with pytest.raises(ValueError, match=r"x0_hat must have the shape of x_t"):
        posterior_mean_variance(x_t, x0[:2], 5, LINEAR)
    with pytest.raises(ValueError, match=r"got 1000 \(in a batch"):
        posterior_mean_variance(x_t, x0, torch.tensor([0, 1, 1000]), LINEAR)


# --- single reverse steps ---------------------------------------------------------------
def test_ddpm_step():
    x_t = torch.randn(50, 2, dtype=torch.float64, generator=cpu_gen(0))
    a = ddpm_step(x_t, 40, GRID, DISPLAY, generator=cpu_gen(1))
    b = ddpm_step(x_t, 40, GRID, DISPLAY, generator=cpu_gen(1))
    c = ddpm_step(x_t, 40, GRID, DISPLAY, generator=cpu_gen(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    mean, var = posterior_mean_variance(x_t, optimal_x0(x_t, 40, GRID, DISPLAY), 40, DISPLAY)
    resid = (a - mean) / var.sqrt()  # the added noise, which must be standard normal
    assert abs(resid.mean().item()) < 0.4 and abs(resid.std().item() - 1) < 0.2
    last = ddpm_step(x_t, 0, GRID, DISPLAY, generator=cpu_gen(1))
    assert torch.equal(last, ddpm_step(x_t, 0, GRID, DISPLAY, generator=cpu_gen(9)))
    assert torch.allclose(last, optimal_x0(x_t, 0, GRID, DISPLAY))
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        ddpm_step(x_t, 5, GRID, DISPLAY, generator=None)


def test_ddim_step():
    x_t = torch.randn(20, 2, dtype=torch.float64, generator=cpu_gen(0))
    one = GRID[60:61]  # data set of a single point: x0_hat is exact, eps_hat is exact
    abar, abar_prev = DISPLAY.alpha_bar(50), DISPLAY.alpha_bar(30)
    eps = (x_t - math.sqrt(abar) * one) / math.sqrt(1 - abar)
    want = math.sqrt(abar_prev) * one + math.sqrt(1 - abar_prev) * eps
    assert torch.allclose(ddim_step(x_t, 50, 30, one, DISPLAY), want, rtol=1e-10)
    assert torch.allclose(ddim_step(x_t, 50, -1, GRID, DISPLAY), optimal_x0(x_t, 50, GRID, DISPLAY))
    assert torch.equal(ddim_step(x_t, 50, 49, GRID, DISPLAY), ddim_step(x_t, 50, 49, GRID, DISPLAY))
    noisy = ddim_step(x_t, 50, 49, GRID, DISPLAY, eta=1.0, generator=cpu_gen(3))
    assert torch.equal(noisy, ddim_step(x_t, 50, 49, GRID, DISPLAY, eta=1.0, generator=cpu_gen(3)))
    # eta = 1 has DDPM's posterior variance, so it draws from the same distribution:
    mean, var = posterior_mean_variance(x_t, optimal_x0(x_t, 50, GRID, DISPLAY), 50, DISPLAY)
    det = ddim_step(x_t, 50, 49, GRID, DISPLAY)  # eta = 0 part of the eta = 1 update
    assert not torch.allclose(noisy, det)
    assert var.item() == pytest.approx(DISPLAY.posterior_variance[50].item())
    with pytest.raises(
        ValueError, match=r"t_prev must be an integer in \[-1, t-1\] = \[-1, 49\], got 50"
    ):
        ddim_step(x_t, 50, 50, GRID, DISPLAY)
    with pytest.raises(ValueError, match=r"t_prev must be an integer in \[-1, t-1\]"):
        ddim_step(x_t, 50, -2, GRID, DISPLAY)
    with pytest.raises(ValueError, match=r"eta must be in \[0, 1\], got 1.5"):
        ddim_step(x_t, 50, 49, GRID, DISPLAY, eta=1.5)
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        ddim_step(x_t, 50, 49, GRID, DISPLAY, eta=0.5)


# --- reverse trajectories ---------------------------------------------------------------
def _landing(final: np.ndarray) -> tuple[float, int]:
    dist, idx = nearest_point_distance(final, GRID.numpy())
    return float((dist < 0.05).mean()), len(np.unique(idx[dist < 0.05]))


@pytest.mark.parametrize("method", ["ddpm", "ddim"])
def test_reverse_sampler_lands_on_the_grid(method):
    tr = reverse_trajectory(
        GRID, DISPLAY, [99, 50, 0], generator=cpu_gen(0), n=121 * 8, method=method
    )
    assert tr.steps == (99, 50, 0) and tr.positions.shape == (3, 968, 2)
    assert tr.clean is None and tr.final.shape == (968, 2)
    on_grid, reached = _landing(tr.final)
    assert on_grid >= 0.95, on_grid
    assert reached == 121
    dist, idx = nearest_point_distance(tr.final, GRID.numpy())
    counts = np.bincount(idx[dist < 0.05], minlength=121)
    assert stats.chisquare(counts).pvalue > 1e-3  # uniform over the 121 dots
    # The criterion can fail: the starting noise is nowhere near the grid.
    assert _landing(tr.at(99))[0] < 0.2
    start = tr.at(99)
    assert abs(start.mean()) < 0.1 and abs(start.std() - 1) < 0.05


def test_reverse_ddim_with_few_timesteps():
    steps = sorted({int(v) for v in np.linspace(0, 999, 20).round()}, reverse=True)
    tr = reverse_trajectory(
        GRID, LINEAR, [999, 0], generator=cpu_gen(1), n=121 * 8, method="ddim", timesteps=steps
    )
    on_grid, reached = _landing(tr.final)
    assert on_grid >= 0.95
    # Coarse DDIM visits the edge dots less often (about 6 hits each against 9 inside at
    # n = 968), so single edge dots may be missed; nearly all must still be reached.
    assert reached >= 115


def test_reverse_same_seed_same_trajectory():
    kwargs = {"n": 200, "method": "ddpm"}
    a = reverse_trajectory(GRID, DISPLAY, range(0, 100, 10), generator=cpu_gen(5), **kwargs)
    b = reverse_trajectory(GRID, DISPLAY, range(0, 100, 10), generator=cpu_gen(5), **kwargs)
    c = reverse_trajectory(GRID, DISPLAY, range(0, 100, 10), generator=cpu_gen(6), **kwargs)
    assert a.steps == tuple(range(90, -1, -10))
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.final, b.final)
    assert not np.array_equal(a.positions, c.positions)
    d = reverse_trajectory(GRID, DISPLAY, [99], generator=cpu_gen(5), n=10, method="ddim")
    e = reverse_trajectory(GRID, DISPLAY, [99], generator=cpu_gen(5), n=10, method="ddim")
    assert np.array_equal(d.final, e.final) and reverse_trajectory(
        GRID, DISPLAY, [99], generator=cpu_gen(5)
    ).final.shape == (121, 2)


def test_reverse_trajectory_validation():
    gen = cpu_gen(0)
    for kwargs, pattern in (
        ({"method": "euler"}, r"method must be one of \('ddpm', 'ddim'\), got 'euler'"),
        ({"eta": 0.5}, "eta and timesteps apply only to method='ddim'"),
        ({"n": 0}, r"n must be an integer in \[1, inf\), got 0"),
        (
            {"method": "ddim", "timesteps": [50, 0]},
            r"timesteps must contain T-1 = 99.*missing \[99\]",
        ),
        ({"method": "ddim", "timesteps": [99, 0, 100]}, r"\[0, 99\], got 100"),
    ):
        with pytest.raises(ValueError, match=pattern):
            reverse_trajectory(GRID, DISPLAY, [99], generator=gen, **kwargs)
    with pytest.raises(ValueError, match=r"\[0, T-1\] = \[0, 99\], got 100"):
        reverse_trajectory(GRID, DISPLAY, [100], generator=gen)
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        reverse_trajectory(GRID, DISPLAY, [99], generator=None)


def test_trajectory_validates_shapes():
    with pytest.raises(ValueError, match=r"positions must have shape \[len\(steps\), N, D\]"):
        Trajectory((0, 1), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"final must have shape \(4, 2\)"):
        Trajectory((0,), np.zeros((1, 4, 2)), final=np.zeros((3, 2)))
    tr = Trajectory([0], np.zeros((1, 4, 2)), clean=np.ones((4, 2)))
    assert tr.steps == (0,) and tr.n_points == 4
