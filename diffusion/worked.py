"""The worked numbers the lecture puts on screen (round to 3 decimals for display)."""

from __future__ import annotations

import math


def one_step_moments(x_prev: float = 0.8, beta: float = 0.01) -> tuple[float, float]:
    """Mean and standard deviation of q(x_t | x_{t-1}): ``(sqrt(1 - beta) x_prev, sqrt(beta))``.

    >>> [round(v, 3) for v in one_step_moments()]
    [0.796, 0.1]
    """
    beta = float(beta)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1), got {beta!r}")
    return math.sqrt(1.0 - beta) * float(x_prev), math.sqrt(beta)


def closed_form_example(alpha_bar: float = 0.5, x0: float = 0.8, eps: float = 0.3) -> float:
    """``sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps``.

    >>> round(closed_form_example(), 3)
    0.778
    """
    alpha_bar = float(alpha_bar)
    if not 0.0 < alpha_bar <= 1.0:
        raise ValueError(f"alpha_bar must be in (0, 1], got {alpha_bar!r}")
    return math.sqrt(alpha_bar) * float(x0) + math.sqrt(1.0 - alpha_bar) * float(eps)
