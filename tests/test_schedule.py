"""Noise schedules: known values, shapes, derived tensors, and every ValueError path."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from diffusion import NoiseSchedule

# alpha_bar of the DDPM linear schedule (T=1000, 1e-4..0.02), as quoted in the issue (6 dp).
LINEAR_KNOWN = {0: 0.999900, 250: 0.521423, 500: 0.077797, 750: 0.003300, 999: 0.000040}
# The same values from exact rational arithmetic (fractions.Fraction over the exact betas),
# to 12 significant digits. The 6-dp quotes are rounded: at t=750 and t=999 the rounding
# alone is 4.8e-5 and 8.9e-3 relative, so the 1e-5 relative check uses these.
LINEAR_EXACT = {
    0: 0.999900000000,
    250: 0.521423030619,
    500: 0.0777966583650,
    750: 0.00330015836157,
    999: 4.03582976538e-05,
}


def _linear_beta(t: int, T: int = 1000, lo: float = 1e-4, hi: float = 0.02) -> float:
    return lo + (hi - lo) * t / (T - 1)


def test_linear_alpha_bar_known_values():
    s = NoiseSchedule.linear()
    for t, quoted in LINEAR_KNOWN.items():
        assert round(s.alpha_bar(t), 6) == quoted, t
        assert s.alpha_bar(t) == pytest.approx(LINEAR_EXACT[t], rel=1e-5), t


def test_linear_alpha_bar_matches_a_plain_python_product():
    s = NoiseSchedule.linear()
    for t in (0, 1, 137, 998, 999):
        by_hand = math.prod(1.0 - _linear_beta(k) for k in range(t + 1))
        assert s.alpha_bar(t) == pytest.approx(by_hand, rel=1e-12)


def test_linear_shapes_dtypes_and_first_below():
    s = NoiseSchedule.linear()
    assert s.kind == "linear" and s.T == 1000
    for name in (
        "betas",
        "alphas",
        "alpha_bars",
        "sqrt_alphas",
        "sqrt_alpha_bars",
        "sqrt_one_minus_alpha_bars",
        "alpha_bars_prev",
        "posterior_variance",
    ):
        value = getattr(s, name)
        assert value.dtype == torch.float64 and value.shape == (1000,), name
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert s.first_below(0.5) == 259
    assert s.alpha_bar(258) >= 0.5 > s.alpha_bar(259)


def test_derived_tensors_follow_their_definitions():
    s = NoiseSchedule.linear(T=50, beta_start=0.01, beta_end=0.2)
    for t in (0, 1, 17, 49):
        beta = _linear_beta(t, 50, 0.01, 0.2)
        abar = math.prod(1.0 - _linear_beta(k, 50, 0.01, 0.2) for k in range(t + 1))
        abar_prev = math.prod(1.0 - _linear_beta(k, 50, 0.01, 0.2) for k in range(t))
        assert s.alphas[t].item() == pytest.approx(1 - beta, rel=1e-12)
        assert s.sqrt_alphas[t].item() == pytest.approx(math.sqrt(1 - beta), rel=1e-12)
        assert s.sqrt_alpha_bars[t].item() == pytest.approx(math.sqrt(abar), rel=1e-12)
        assert s.sqrt_one_minus_alpha_bars[t].item() == pytest.approx(
            math.sqrt(1 - abar), rel=1e-12
        )
        assert s.alpha_bars_prev[t].item() == pytest.approx(abar_prev, rel=1e-12)
        tilde = beta * (1 - abar_prev) / (1 - abar)
        assert s.posterior_variance[t].item() == pytest.approx(tilde, rel=1e-12, abs=1e-300)
    assert s.alpha_bars_prev[0].item() == 1.0
    assert s.posterior_variance[0].item() == 0.0


def test_cosine_schedule_properties():
    s = NoiseSchedule.cosine()
    ab = s.alpha_bars
    assert s.kind == "cosine" and s.T == 1000
    assert bool((ab[1:] < ab[:-1]).all()), "alpha_bar must be strictly decreasing"
    assert ab[0].item() > 0.9999
    assert ab[-1].item() < 1e-3
    assert abs(s.first_below(0.5) - 496) <= 2
    assert bool(((s.betas > 0) & (s.betas <= 0.999)).all())
    assert s.betas[-1].item() == pytest.approx(0.999)  # the clipped last step


def test_cosine_alpha_bar_is_the_squared_cosine_ratio():
    T, s_off = 1000, 0.008
    s = NoiseSchedule.cosine(T, s=s_off)

    def f(t: float) -> float:
        return math.cos((t / T + s_off) / (1 + s_off) * math.pi / 2) ** 2

    for t in (0, 100, 496, 900):  # the clipping to max_beta only touches the last steps
        assert s.alpha_bar(t) == pytest.approx(f(t + 1) / f(0), rel=1e-9)


def test_linear_scaled_ends_in_noise_for_short_schedules():
    for T in (21, 40, 64, 100):
        s = NoiseSchedule.linear_scaled(T)
        assert s.T == T and s.kind == "linear"
        assert s.betas[0].item() == pytest.approx(1e-4 * 1000 / T)
        assert s.betas[-1].item() == pytest.approx(0.02 * 1000 / T)
        assert s.alpha_bar(T - 1) < 1e-4
    assert NoiseSchedule.linear_scaled(1000) == NoiseSchedule.linear()


def test_single_step_schedule():
    s = NoiseSchedule.linear(T=1, beta_start=0.3, beta_end=0.3)
    assert s.T == 1 and s.alpha_bar(0) == pytest.approx(0.7)


def test_check_t_message_and_paths():
    s = NoiseSchedule.linear()
    with pytest.raises(ValueError) as err:
        s.check_t(1000)
    assert str(err.value) == "t must be an integer in [0, T-1] = [0, 999], got 1000"
    for bad in (-1, 2.5, 3.0, True, "3", None):
        with pytest.raises(ValueError, match=r"t must be an integer in \[0, T-1\] = \[0, 999\]"):
            s.check_t(bad)
    for bad in (
        torch.tensor([0, 5, 1000]),
        torch.tensor([-1]),
        torch.tensor([1.0, 2.0]),
        torch.tensor(1000),
        torch.tensor([], dtype=torch.long),
        torch.tensor([True]),
    ):
        with pytest.raises(ValueError, match=r"t must be an integer in \[0, T-1\]"):
            s.check_t(bad)
    with pytest.raises(ValueError, match="got 1000 \\(in a batch of shape \\(3,\\)\\)"):
        s.check_t(torch.tensor([0, 5, 1000]))
    s.check_t(0)
    s.check_t(999)
    s.check_t(torch.tensor([0, 999]))
    s.check_t(torch.tensor(7))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        NoiseSchedule.linear(T=10).alpha_bar(10)


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (lambda: NoiseSchedule.linear(T=0), r"T must be an integer in \[1, inf\), got 0"),
        (lambda: NoiseSchedule.linear(T=-3), r"T must be an integer in \[1, inf\)"),
        (lambda: NoiseSchedule.linear(T=10.0), r"T must be an integer in \[1, inf\)"),
        (lambda: NoiseSchedule.cosine(T=0), r"T must be an integer in \[1, inf\)"),
        (lambda: NoiseSchedule.linear_scaled(0), r"T must be an integer in \[1, inf\)"),
        (lambda: NoiseSchedule.linear_scaled(20), r"T must be an integer in \[21, inf\)"),
        (lambda: NoiseSchedule.linear(beta_start=0.0), r"beta_start must be in \(0, 1\)"),
        (lambda: NoiseSchedule.linear(beta_start=-0.1), r"beta_start must be in \(0, 1\)"),
        (lambda: NoiseSchedule.linear(beta_end=1.0), r"beta_end must be in \(0, 1\)"),
        (lambda: NoiseSchedule.linear(beta_end=float("nan")), r"beta_end must be in \(0, 1\)"),
        (
            lambda: NoiseSchedule.linear(beta_start=0.02, beta_end=0.01),
            r"beta_start must be <= beta_end",
        ),
        (lambda: NoiseSchedule.cosine(s=0.0), r"s must be in \(0, inf\), got 0.0"),
        (lambda: NoiseSchedule.cosine(s=-0.008), r"s must be in \(0, inf\)"),
        (lambda: NoiseSchedule.cosine(max_beta=1.0), r"max_beta must be in \(0, 1\)"),
        (
            lambda: NoiseSchedule("linear", torch.tensor([0.1, 1.0])),
            r"betas must all be in \(0, 1\), got betas\[1\] = 1.0",
        ),
        (
            lambda: NoiseSchedule("linear", torch.tensor([0.0, 0.5])),
            r"betas must all be in \(0, 1\)",
        ),
        (
            lambda: NoiseSchedule("linear", torch.zeros(0)),
            r"betas must be a 1-D tensor with T >= 1",
        ),
        (lambda: NoiseSchedule("linear", torch.full((2, 2), 0.1)), r"betas must be a 1-D tensor"),
        (lambda: NoiseSchedule("sigmoid", torch.tensor([0.1])), r"kind must be one of"),
    ],
)
def test_bad_parameters_raise_value_error(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def test_first_below_range():
    s = NoiseSchedule.linear()
    assert s.first_below(1.0) == 0
    with pytest.raises(ValueError, match=r"level must be in \(alpha_bar_\{T-1\}, 1\]"):
        s.first_below(1e-6)
    with pytest.raises(ValueError, match=r"level must be in"):
        s.first_below(1.5)


def test_to_equality_hash_and_float64_conversion():
    s = NoiseSchedule.linear(T=100)
    moved = s.to("cpu")
    assert moved == s and hash(moved) == hash(s) and moved.device.type == "cpu"
    assert s != NoiseSchedule.linear(T=101) and s != NoiseSchedule.cosine(T=100)
    f32 = NoiseSchedule("linear", torch.linspace(1e-4, 0.02, 100, dtype=torch.float32))
    assert f32.betas.dtype == torch.float64
    assert s.numpy("alpha_bars").shape == (100,)
    with pytest.raises(ValueError, match="name must be one of"):
        s.numpy("nope")
    assert "T=100" in repr(s)


def test_importing_diffusion_does_not_import_manim():
    code = (
        "import sys, diffusion\n"
        "assert 'manim' not in sys.modules, 'diffusion imported manim'\n"
        "diffusion.NoiseSchedule.linear()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
