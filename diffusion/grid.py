"""The 2-D toy data set: an evenly spaced square grid of dots."""

from __future__ import annotations

import math
from numbers import Integral

import torch


def dot_grid(n: int = 11, lo: float = -2.0, hi: float = 2.0) -> torch.Tensor:
    """``n * n`` points on a square grid spanning ``[lo, hi]^2``, float64, shape ``[n*n, 2]``.

    Row-major from the bottom-left corner: point ``i * n + j`` is ``(x_j, y_i)``.
    The default 11 x 11 grid on [-2, 2] has spacing 0.4.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
        raise ValueError(f"n must be an integer in [2, inf), got {n!r}")
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"lo and hi must be finite, got lo={lo!r}, hi={hi!r}")
    if not lo < hi:
        raise ValueError(f"lo must be < hi (range (-inf, hi)), got lo={lo!r}, hi={hi!r}")
    ticks = torch.linspace(lo, hi, int(n), dtype=torch.float64)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def grid_spacing(n: int = 11, lo: float = -2.0, hi: float = 2.0) -> float:
    """Distance between neighbouring dots of ``dot_grid(n, lo, hi)``."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
        raise ValueError(f"n must be an integer in [2, inf), got {n!r}")
    return (float(hi) - float(lo)) / (int(n) - 1)
