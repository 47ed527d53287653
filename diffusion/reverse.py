"""The reverse process with the *optimal* denoiser for a finite data set.

When the data distribution is uniform on a finite point set ``{p_1, ..., p_N}``,
``E[x_0 | x_t]`` has a closed form: a softmax-weighted mean of the points, with weights
``w_i ∝ exp(-|x_t - sqrt(alpha_bar_t) p_i|^2 / (2 (1 - alpha_bar_t)))``. Plugging it into
the DDPM posterior (or the DDIM update) gives a real sampler with no network to train,
which is what the dot-grid scenes animate.

Shapes: ``x_t`` is ``[M, *S]`` (M samples) and ``points`` is ``[N, *S]``; ``S`` can be
``(2,)`` for the dot grid or ``(1, 28, 28)`` for a handful of digits.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import torch

from diffusion.forward import as_float_tensor, noise_like
from diffusion.schedule import NoiseSchedule, at


def _check_shapes(x_t: torch.Tensor, points: torch.Tensor) -> None:
    if x_t.ndim < 2 or points.ndim < 2 or x_t.shape[1:] != points.shape[1:]:
        raise ValueError(
            "x_t and points must be [M, *S] and [N, *S] with the same S, got "
            f"x_t {tuple(x_t.shape)} and points {tuple(points.shape)}"
        )
    if points.shape[0] < 1:
        raise ValueError("points must hold at least one point (N in [1, inf)), got N = 0")


def _check_int_t(t: Any, schedule: NoiseSchedule) -> int:
    if isinstance(t, torch.Tensor) and t.ndim > 0:
        raise ValueError(f"t must be a single integer here, got a tensor of shape {tuple(t.shape)}")
    schedule.check_t(t)
    return int(t)


def optimal_x0(x_t: Any, t: int, points: Any, schedule: NoiseSchedule) -> torch.Tensor:
    """``E[x_0 | x_t]`` for x_0 uniform on ``points`` (computed in float64).

    Returns a tensor shaped like ``x_t`` in its dtype and device.
    """
    x_t = as_float_tensor(x_t, "x_t")
    points = as_float_tensor(points, "points")
    _check_shapes(x_t, points)
    t = _check_int_t(t, schedule)
    abar = schedule.alpha_bar(t)
    x = x_t.reshape(x_t.shape[0], -1).to(torch.float64)
    p = points.reshape(points.shape[0], -1).to(x.device, torch.float64)
    # Direct (not |a|^2 - 2ab + |b|^2) distances: exact even when 1 - abar is tiny.
    d2 = torch.cdist(x, abar**0.5 * p, compute_mode="donot_use_mm_for_euclid_dist") ** 2
    weights = torch.softmax(-d2 / (2.0 * (1.0 - abar)), dim=1)
    return (weights @ p).reshape(x_t.shape).to(x_t.dtype)


def posterior_mean_variance(
    x_t: Any, x0_hat: Any, t: int | torch.Tensor, schedule: NoiseSchedule
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``mu_tilde_t`` and variance ``beta_tilde_t`` of q(x_{t-1} | x_t, x_0 = x0_hat).

    mu_tilde = sqrt(abar_{t-1}) beta_t / (1 - abar_t) * x0_hat
             + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) * x_t

    ``t`` may be per-sample (integer tensor of shape ``[B]``); the variance then has
    shape ``[B, 1, ...]``, otherwise it is a 0-d tensor.
    """
    x_t = as_float_tensor(x_t, "x_t")
    x0_hat = as_float_tensor(x0_hat, "x0_hat").to(x_t.device, x_t.dtype)
    if x0_hat.shape != x_t.shape:
        raise ValueError(
            f"x0_hat must have the shape of x_t, {tuple(x_t.shape)}, got {tuple(x0_hat.shape)}"
        )
    schedule.check_t(t)
    s = schedule
    denom = 1.0 - s.alpha_bars
    coef_x0 = at(s.alpha_bars_prev.sqrt() * s.betas / denom, t, x_t)
    coef_xt = at(s.sqrt_alphas * (1.0 - s.alpha_bars_prev) / denom, t, x_t)
    mean = coef_x0 * x0_hat + coef_xt * x_t
    var = at(s.posterior_variance, t, x_t)
    return mean, var


def ddpm_step(
    x_t: Any,
    t: int,
    points: Any,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator,
) -> torch.Tensor:
    """One ancestral step x_t -> x_{t-1} ~ N(mu_tilde_t, beta_tilde_t I).

    At ``t = 0`` the variance is 0 and the step returns the denoised sample itself.
    """
    x_t = as_float_tensor(x_t, "x_t")
    t = _check_int_t(t, schedule)
    x0_hat = optimal_x0(x_t, t, points, schedule)
    mean, var = posterior_mean_variance(x_t, x0_hat, t, schedule)
    if t == 0:
        return mean
    return mean + var.sqrt() * noise_like(x_t, generator)


def ddim_step(
    x_t: Any,
    t: int,
    t_prev: int,
    points: Any,
    schedule: NoiseSchedule,
    *,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One DDIM step x_t -> x_{t_prev} (Song et al. 2021), ``t_prev`` in ``[-1, t-1]``.

    ``t_prev = -1`` means the clean data (alpha_bar = 1). ``eta = 0`` is deterministic;
    ``eta = 1`` matches DDPM's posterior variance and needs a ``generator``.
    """
    x_t = as_float_tensor(x_t, "x_t")
    t = _check_int_t(t, schedule)
    if isinstance(t_prev, bool) or not isinstance(t_prev, Integral) or not -1 <= t_prev <= t - 1:
        raise ValueError(f"t_prev must be an integer in [-1, t-1] = [-1, {t - 1}], got {t_prev!r}")
    eta = float(eta)
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be in [0, 1], got {eta!r}")
    abar = schedule.alpha_bar(t)
    abar_prev = 1.0 if t_prev == -1 else schedule.alpha_bar(int(t_prev))
    x0_hat = optimal_x0(x_t, t, points, schedule)
    eps_hat = (x_t - abar**0.5 * x0_hat) / (1.0 - abar) ** 0.5
    sigma = eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)) ** 0.5
    x_prev = abar_prev**0.5 * x0_hat + max(1.0 - abar_prev - sigma**2, 0.0) ** 0.5 * eps_hat
    if sigma > 0:
        x_prev = x_prev + sigma * noise_like(x_t, generator)
    return x_prev
