"""Tensor statistics and the closed-form-versus-step-by-step check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from diffusion import NoiseSchedule, TensorStats, closed_form_check, tensor_stats

LINEAR = NoiseSchedule.linear()


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_tensor_stats_known_values():
    s = tensor_stats(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert s == TensorStats(mean=2.5, std=pytest.approx(math.sqrt(5 / 3)), min=1.0, max=4.0)
    assert isinstance(s.mean, float) and isinstance(s.std, float)
    s2 = tensor_stats(np.array([-1.0, 1.0]))
    assert s2.mean == 0.0 and s2.std == pytest.approx(math.sqrt(2)) and (s2.min, s2.max) == (-1, 1)
    with pytest.raises(ValueError, match="x must hold at least 2 entries, got 1"):
        tensor_stats(torch.tensor([3.0]))
    with pytest.raises(ValueError, match="x must be a floating-point tensor"):
        tensor_stats(torch.tensor([1, 2]))


@pytest.mark.parametrize("t", [0, 10, 100, 500, 999])
def test_closed_form_matches_step_by_step(t):
    c = closed_form_check(LINEAR, 0.8, t, n=4000, seed=t)
    abar = 1.0
    for k in range(t + 1):
        abar *= 1 - (1e-4 + (0.02 - 1e-4) * k / 999)
    assert c.theory_mean == pytest.approx(math.sqrt(abar) * 0.8, rel=1e-10)
    assert c.theory_std == pytest.approx(math.sqrt(1 - abar), rel=1e-10)
    assert c.step_samples.shape == c.closed_samples.shape == (4000,)
    se = c.theory_std / math.sqrt(4000)
    for mean, std in ((c.step_mean, c.step_std), (c.closed_mean, c.closed_std)):
        assert abs(mean - c.theory_mean) < 4.5 * se
        assert abs(std / c.theory_std - 1) < 4.5 / math.sqrt(2 * 4000)
    assert c.ks_pvalue > 1e-3
    ks = stats.ks_2samp(c.step_samples, c.closed_samples)
    assert (c.ks_statistic, c.ks_pvalue) == (pytest.approx(ks.statistic), pytest.approx(ks.pvalue))


def test_the_check_detects_a_wrong_t():
    """Power: step-by-step at t=100 against closed form at t=130 must be told apart."""
    a = closed_form_check(LINEAR, 0.8, 100, n=4000, seed=1)
    b = closed_form_check(LINEAR, 0.8, 130, n=4000, seed=2)
    assert stats.ks_2samp(a.step_samples, b.closed_samples).pvalue < 1e-6


def test_closed_form_check_is_reproducible_and_validated():
    a = closed_form_check(LINEAR, -0.5, 50, n=500, seed=3)
    b = closed_form_check(LINEAR, -0.5, 50, n=500, seed=3)
    c = closed_form_check(LINEAR, -0.5, 50, n=500, seed=4)
    assert np.array_equal(a.step_samples, b.step_samples)
    assert np.array_equal(a.closed_samples, b.closed_samples)
    assert not np.array_equal(a.step_samples, c.step_samples)
    assert not np.array_equal(a.step_samples, a.closed_samples)
    assert a.t == 50 and a.x0 == -0.5
    with pytest.raises(ValueError, match=r"\[0, 999\], got 1000"):
        closed_form_check(LINEAR, 0.8, 1000)
    with pytest.raises(ValueError, match=r"n must be an integer in \[2, inf\), got 1"):
        closed_form_check(LINEAR, 0.8, 5, n=1)
    with pytest.raises(ValueError, match="x0 must be a finite number"):
        closed_form_check(LINEAR, float("nan"), 5)
    with pytest.raises(ValueError, match=r"seed must be an integer"):
        closed_form_check(LINEAR, 0.8, 5, seed=-1)
