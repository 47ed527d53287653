"""Summary statistics and the closed-form-versus-step-by-step check shown in the lecture."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import torch

from diffusion.forward import as_float_tensor, make_generator, q_sample, step_by_step
from diffusion.schedule import NoiseSchedule


@dataclass(frozen=True)
class TensorStats:
    """Mean, standard deviation (unbiased, as ``Tensor.std()``), minimum and maximum."""

    mean: float
    std: float
    min: float
    max: float


def tensor_stats(x: Any) -> TensorStats:
    """Statistics of all entries of ``x`` (tensor or array, at least 2 entries)."""
    x = as_float_tensor(x, "x").detach().to(torch.float64)
    if x.numel() < 2:
        raise ValueError(f"x must hold at least 2 entries, got {x.numel()}")
    return TensorStats(
        mean=float(x.mean()), std=float(x.std()), min=float(x.min()), max=float(x.max())
    )


@dataclass(frozen=True, eq=False)
class ClosedFormCheck:
    """One pixel of value ``x0`` noised ``n`` times to step ``t`` by both routes.

    ``theory_*`` are the moments of q(x_t | x_0): ``sqrt(abar_t) x0`` and
    ``sqrt(1 - abar_t)``. The KS test compares the two samples with each other.
    """

    t: int
    x0: float
    step_samples: np.ndarray
    closed_samples: np.ndarray
    step_mean: float
    step_std: float
    closed_mean: float
    closed_std: float
    theory_mean: float
    theory_std: float
    ks_statistic: float
    ks_pvalue: float


def closed_form_check(
    schedule: NoiseSchedule, x0: float, t: int, n: int = 4000, *, seed: int = 0
) -> ClosedFormCheck:
    """Noise ``n`` copies of ``x0`` step by step (t + 1 steps) and ``n`` by the closed form.

    Both draws come from one generator seeded with ``seed`` (step-by-step first), so the
    two samples are independent and the result is reproducible.
    """
    from scipy.stats import ks_2samp  # only this function needs scipy

    schedule.check_t(t)
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
        raise ValueError(f"n must be an integer in [2, inf), got {n!r}")
    x0 = float(x0)
    if not np.isfinite(x0):
        raise ValueError(f"x0 must be a finite number, got {x0!r}")
    generator = make_generator(seed, device="cpu")
    pixels = torch.full((int(n),), x0, dtype=torch.float64)
    stepped = step_by_step(pixels, t, schedule, generator=generator).numpy()
    closed = q_sample(pixels, t, schedule, generator=generator).numpy()
    ks = ks_2samp(stepped, closed)
    abar = schedule.alpha_bar(t)
    return ClosedFormCheck(
        t=int(t),
        x0=x0,
        step_samples=stepped,
        closed_samples=closed,
        step_mean=float(stepped.mean()),
        step_std=float(stepped.std(ddof=1)),
        closed_mean=float(closed.mean()),
        closed_std=float(closed.std(ddof=1)),
        theory_mean=abar**0.5 * x0,
        theory_std=(1.0 - abar) ** 0.5,
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
    )


# ------------------------------------------------------------------ verdicts
#: How close x_T's statistics must be to N(0, 1) before the lecture says "≈".
MEAN_TOL = 0.05  # |mean| at most this
STD_TOL = 0.05  # |std - 1| at most this
KS_TOL = 0.02  # largest gap between the empirical CDF and Φ at most this


@dataclass(frozen=True)
class NormalVerdict:
    """Whether sampled values pass for standard Gaussian noise, test by test.

    ``ks_distance`` is the Kolmogorov-Smirnov statistic against N(0, 1): the largest
    gap between the values' empirical CDF and Φ. Each ``*_ok`` compares one number
    with its tolerance; ``standard_normal`` needs all three.
    """

    stats: TensorStats
    ks_distance: float
    mean_tol: float
    std_tol: float
    ks_tol: float

    @property
    def mean_ok(self) -> bool:
        return abs(self.stats.mean) <= self.mean_tol

    @property
    def std_ok(self) -> bool:
        return abs(self.stats.std - 1.0) <= self.std_tol

    @property
    def shape_ok(self) -> bool:
        return self.ks_distance <= self.ks_tol

    @property
    def standard_normal(self) -> bool:
        return self.mean_ok and self.std_ok and self.shape_ok


def standard_normal_verdict(
    x: Any, mean_tol: float = MEAN_TOL, std_tol: float = STD_TOL, ks_tol: float = KS_TOL
) -> NormalVerdict:
    """Judge whether every entry of ``x`` together looks like N(0, 1) samples."""
    from scipy.stats import kstest  # only this function and closed_form_check need scipy

    for name, tol in (("mean_tol", mean_tol), ("std_tol", std_tol), ("ks_tol", ks_tol)):
        if not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"{name} must be a number in (0, 1), got {tol!r}")
    stats = tensor_stats(x)
    values = as_float_tensor(x, "x").detach().to(torch.float64).flatten().cpu().numpy()
    distance = float(kstest(values, "norm").statistic)
    return NormalVerdict(stats, distance, float(mean_tol), float(std_tol), float(ks_tol))
