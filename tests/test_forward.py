"""Forward process, dot grid, forward trajectories and the worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from diffusion import (
    ForwardProcess,
    NoiseSchedule,
    closed_form_example,
    default_device,
    dot_grid,
    forward_trajectory,
    make_generator,
    one_step_moments,
    q_sample,
    q_step,
    step_by_step,
)

LINEAR = NoiseSchedule.linear()
ABAR_500 = 0.0777966583650  # exact-arithmetic alpha_bar_500 of the linear schedule


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def cpu_gen(seed: int) -> torch.Generator:
    return make_generator(seed, device="cpu")


# --- worked numbers -----------------------------------------------------------------------
def test_worked_numbers():
    mean, std = one_step_moments(0.8, 0.01)
    assert round(mean, 3) == 0.796 and round(std, 3) == 0.1
    assert mean == pytest.approx(0.8 * math.sqrt(0.99)) and std == pytest.approx(0.1)
    assert one_step_moments() == (mean, std)
    assert round(closed_form_example(0.5, 0.8, 0.3), 3) == 0.778
    assert closed_form_example() == pytest.approx((0.8 + 0.3) / math.sqrt(2))
    assert closed_form_example(alpha_bar=1.0, x0=0.8, eps=0.3) == pytest.approx(0.8)
    with pytest.raises(ValueError, match=r"beta must be in \(0, 1\)"):
        one_step_moments(0.8, 0.0)
    with pytest.raises(ValueError, match=r"alpha_bar must be in \(0, 1\]"):
        closed_form_example(alpha_bar=1.5)


# --- generators ------------------------------------------------------------------------------
def test_make_generator_is_seeded_and_validated():
    a = torch.randn(5, generator=cpu_gen(3))
    b = torch.randn(5, generator=cpu_gen(3))
    c = torch.randn(5, generator=cpu_gen(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert make_generator(0).device.type == default_device().type
    for bad in (-1, 2**63, 1.5, True, "7"):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63 - 1\]"):
            make_generator(bad)


# --- q_step / q_sample with given noise: the formulas themselves ------------------------------
def test_q_step_formula():
    x = torch.tensor([0.8, -0.5, 0.0], dtype=torch.float64)
    eps = torch.tensor([0.3, 1.0, -2.0], dtype=torch.float64)
    for t in (0, 500, 999):
        beta = 1e-4 + (0.02 - 1e-4) * t / 999
        expected = math.sqrt(1 - beta) * x + math.sqrt(beta) * eps
        assert torch.allclose(q_step(x, t, LINEAR, noise=eps), expected, rtol=1e-12, atol=0)


def test_q_sample_formula():
    x0 = torch.tensor([0.8, -0.5, 0.0], dtype=torch.float64)
    eps = torch.tensor([0.3, 1.0, -2.0], dtype=torch.float64)
    expected = math.sqrt(ABAR_500) * x0 + math.sqrt(1 - ABAR_500) * eps
    assert torch.allclose(q_sample(x0, 500, LINEAR, noise=eps), expected, rtol=1e-10, atol=0)
    half = NoiseSchedule("linear", torch.tensor([0.5]))  # alpha_bar_0 = 0.5: the worked example
    out = q_sample(torch.tensor([0.8]), 0, half, noise=torch.tensor([0.3]))
    assert round(out.item(), 3) == 0.778 and out.dtype == torch.float32


def test_q_sample_per_sample_t_broadcasts():
    gen = cpu_gen(0)
    x0 = torch.randn(4, 1, 3, 3, generator=gen)
    eps = torch.randn(4, 1, 3, 3, generator=gen)
    t = torch.tensor([0, 10, 500, 999])
    batched = q_sample(x0, t, LINEAR, noise=eps)
    for i in range(4):
        single = q_sample(x0[i : i + 1], int(t[i]), LINEAR, noise=eps[i : i + 1])
        assert torch.allclose(batched[i : i + 1], single, rtol=1e-6, atol=1e-7)
    assert batched.shape == x0.shape and batched.dtype == torch.float32
    stepped = q_step(x0, t, LINEAR, noise=eps)
    assert torch.allclose(stepped[2], q_step(x0[2], 500, LINEAR, noise=eps[2]))


def test_q_sample_rejects_bad_t_and_inputs():
    x0 = torch.zeros(3, 2)
    gen = cpu_gen(0)
    with pytest.raises(
        ValueError, match=r"t must be an integer in \[0, T-1\] = \[0, 999\], got 1000"
    ):
        q_sample(x0, 1000, LINEAR, generator=gen)
    with pytest.raises(
        ValueError, match=r"t must be an integer in \[0, T-1\] = \[0, 999\], got -1"
    ):
        q_sample(x0, torch.tensor([0, -1, 2]), LINEAR, generator=gen)
    with pytest.raises(ValueError, match=r"got 1000 \(in a batch"):
        q_step(x0, torch.tensor([0, 1000, 2]), LINEAR, generator=gen)
    with pytest.raises(ValueError, match=r"t must be an int or a 1-D integer tensor of length 3"):
        q_sample(x0, torch.tensor([0, 1]), LINEAR, generator=gen)
    with pytest.raises(ValueError, match=r"length 3"):
        q_sample(x0, torch.tensor([[0, 1, 2]]), LINEAR, generator=gen)
    with pytest.raises(ValueError, match="either generator or noise"):
        q_sample(x0, 3, LINEAR, generator=gen, noise=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        q_sample(x0, 3, LINEAR)
    with pytest.raises(ValueError, match=r"noise must have the shape of x, \(3, 2\), got \(2, 3\)"):
        q_sample(x0, 3, LINEAR, noise=torch.zeros(2, 3))
    with pytest.raises(
        ValueError, match="x0 must be a floating-point tensor, got dtype torch.uint8"
    ):
        q_sample(torch.zeros(3, dtype=torch.uint8), 3, LINEAR, generator=gen)


def test_same_seed_same_output_and_numpy_input():
    x0 = np.linspace(-1, 1, 12).reshape(3, 4)
    a = q_sample(x0, 250, LINEAR, generator=cpu_gen(7))
    b = q_sample(torch.from_numpy(x0), 250, LINEAR, generator=cpu_gen(7))
    c = q_sample(x0, 250, LINEAR, generator=cpu_gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.dtype == torch.float64


# --- step_by_step ---------------------------------------------------------------------------
def test_step_by_step_is_the_chain_of_q_steps():
    x0 = torch.linspace(-1, 1, 6, dtype=torch.float64)
    gen = cpu_gen(1)
    x = x0
    for t in range(21):
        x = q_step(x, t, LINEAR, generator=gen)
    assert torch.equal(step_by_step(x0, 20, LINEAR, generator=cpu_gen(1)), x)
    rec = step_by_step(x0, 20, LINEAR, generator=cpu_gen(1), record=[20, 0, 5])
    assert list(rec) == [20, 0, 5]
    assert torch.equal(rec[20], x)
    assert torch.equal(rec[0], q_step(x0, 0, LINEAR, generator=cpu_gen(1)))
    with pytest.raises(
        ValueError, match=r"record entries must be integers in \[0, t\] = \[0, 20\], got 21"
    ):
        step_by_step(x0, 20, LINEAR, generator=cpu_gen(1), record=[3, 21])
    with pytest.raises(ValueError, match="distinct"):
        step_by_step(x0, 20, LINEAR, generator=cpu_gen(1), record=[3, 3])
    with pytest.raises(ValueError, match=r"\[0, 999\], got 1000"):
        step_by_step(x0, 1000, LINEAR, generator=cpu_gen(1))


def test_x_T_is_standard_normal_by_both_routes():
    x0 = torch.full((20000,), 0.8, dtype=torch.float64)
    for x_T in (
        step_by_step(x0, 999, LINEAR, generator=cpu_gen(11)),
        q_sample(x0, 999, LINEAR, generator=cpu_gen(12)),
    ):
        se = 1 / math.sqrt(x_T.numel())
        assert abs(x_T.mean().item()) < 4 * se  # theory: sqrt(4e-5) * 0.8 = 0.005
        assert abs(x_T.std().item() - 1) < 4 * se
        assert stats.kstest(x_T.numpy(), "norm").pvalue > 1e-3


# --- ForwardProcess ---------------------------------------------------------------------------
def test_forward_process_class():
    fp = ForwardProcess(NoiseSchedule.linear(T=100), device="cpu")
    assert fp.T == 100 and fp.device.type == "cpu" and "T=100" in repr(fp)
    assert ForwardProcess(LINEAR).device == default_device()
    x0 = torch.randn(8, 2, generator=cpu_gen(0))
    assert torch.equal(
        fp.q_sample(x0, 40, generator=cpu_gen(5)),
        q_sample(x0, 40, fp.schedule, generator=cpu_gen(5)),
    )
    assert torch.equal(
        fp.step_by_step(x0, 40, generator=cpu_gen(5)),
        step_by_step(x0, 40, fp.schedule, generator=cpu_gen(5)),
    )
    eps = torch.ones(8, 2)
    assert torch.allclose(fp.q_step(x0, 0, noise=eps), q_step(x0, 0, fp.schedule, noise=eps))
    t = fp.sample_timesteps(5000, cpu_gen(2))
    assert t.dtype == torch.int64 and t.shape == (5000,)
    assert int(t.min()) == 0 and int(t.max()) == 99
    assert torch.equal(t, fp.sample_timesteps(5000, cpu_gen(2)))
    counts = torch.bincount(t, minlength=100).numpy()
    assert stats.chisquare(counts).pvalue > 1e-3  # uniform over 0..99
    batched = fp.q_sample(x0, fp.sample_timesteps(8, cpu_gen(3)), generator=cpu_gen(4))
    assert batched.shape == x0.shape
    for bad in (0, -2, 2.0, True):
        with pytest.raises(ValueError, match=r"batch must be an integer in \[1, inf\)"):
            fp.sample_timesteps(bad, cpu_gen(0))
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        fp.sample_timesteps(3, None)


# --- dot grid -------------------------------------------------------------------------------
def test_dot_grid():
    g = dot_grid()
    assert g.shape == (121, 2) and g.dtype == torch.float64
    xs = torch.unique(g[:, 0])
    assert torch.allclose(xs[1:] - xs[:-1], torch.full((10,), 0.4, dtype=torch.float64))
    assert torch.equal(torch.unique(g[:, 1]), xs)
    assert g.min().item() == -2.0 and g.max().item() == 2.0
    assert torch.equal(g[0], torch.tensor([-2.0, -2.0], dtype=torch.float64))
    assert torch.allclose(g[1], torch.tensor([-1.6, -2.0], dtype=torch.float64))
    assert len({tuple(p) for p in g.tolist()}) == 121
    assert dot_grid(3, 0, 1).shape == (9, 2)
    for kwargs, pattern in (
        ({"n": 1}, r"n must be an integer in \[2, inf\)"),
        ({"n": 4.0}, r"n must be an integer in \[2, inf\)"),
        ({"lo": 1.0, "hi": 1.0}, r"lo must be < hi"),
        ({"hi": float("inf")}, r"lo and hi must be finite"),
    ):
        with pytest.raises(ValueError, match=pattern):
            dot_grid(**kwargs)


# --- forward trajectory ------------------------------------------------------------------------
def test_forward_trajectory_is_one_seeded_chain():
    g = dot_grid()
    s = NoiseSchedule.linear_scaled(50)
    tr = forward_trajectory(g, s, [49, 0, 10], generator=cpu_gen(3))
    assert tr.steps == (0, 10, 49)
    assert tr.positions.shape == (3, 121, 2) and tr.positions.dtype == np.float64
    assert np.array_equal(tr.clean, g.numpy()) and tr.final is None
    rec = step_by_step(g, 49, s, generator=cpu_gen(3), record=[0, 10, 49])
    for t in (0, 10, 49):
        assert np.array_equal(tr.at(t), rec[t].numpy())
    again = forward_trajectory(g, s, [0, 10, 49], generator=cpu_gen(3))
    other = forward_trajectory(g, s, [0, 10, 49], generator=cpu_gen(4))
    assert np.array_equal(again.positions, tr.positions)
    assert not np.array_equal(other.positions, tr.positions)
    with pytest.raises(ValueError, match=r"t must be one of the recorded steps"):
        tr.at(5)
    with pytest.raises(ValueError, match=r"t must be an integer in \[0, T-1\] = \[0, 49\], got 50"):
        forward_trajectory(g, s, [0, 50], generator=cpu_gen(3))
    with pytest.raises(ValueError, match="distinct"):
        forward_trajectory(g, s, [3, 3], generator=cpu_gen(3))
    with pytest.raises(ValueError, match="at least one step"):
        forward_trajectory(g, s, [], generator=cpu_gen(3))
    with pytest.raises(ValueError, match=r"points must have shape \[N, D\]"):
        forward_trajectory(torch.zeros(5), s, [0], generator=cpu_gen(3))


def test_dot_grid_ends_statistically_standard_normal():
    s = NoiseSchedule.linear_scaled(50)
    points = dot_grid().repeat(8, 1)  # 968 dots, 8 independent chains per grid point
    x = forward_trajectory(points, s, [s.T - 1], generator=cpu_gen(21)).at(s.T - 1)
    n = x.shape[0]
    assert np.all(np.abs(x.mean(axis=0)) < 4 / math.sqrt(n))
    cov = np.cov(x.T)
    assert np.all(np.abs(np.diag(cov) - 1) < 4 * math.sqrt(2 / n))
    assert abs(cov[0, 1]) < 4 / math.sqrt(n)
    for d in range(2):
        assert stats.kstest(x[:, d], "norm").pvalue > 1e-3
    assert stats.kstest((x**2).sum(axis=1), stats.chi2(df=2).cdf).pvalue > 1e-3
    # The same tests see the grid when it is not yet noise (they are able to fail):
    mid = forward_trajectory(points, s, [5], generator=cpu_gen(21)).at(5)
    assert stats.kstest((mid**2).sum(axis=1), stats.chi2(df=2).cdf).pvalue < 1e-6
