"""Noise schedules: the betas of the forward process and everything derived from them.

Indexing is 0-based, as in the common tutorial code: step ``t`` in ``0..T-1`` uses
``beta_t`` and ``alpha_bars[t] = prod_{s<=t} (1 - beta_s)``, so ``alpha_bars[0] = 1 - beta_0``
and ``x_t`` is the state after ``t + 1`` noising steps. ``alpha_bars_prev[0] = 1`` stands
for the clean data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from numbers import Integral
from typing import Any

import torch

KINDS = ("linear", "cosine")


def _check_T(T: Any) -> int:
    if isinstance(T, bool) or not isinstance(T, Integral) or T < 1:
        raise ValueError(f"T must be an integer in [1, inf), got {T!r}")
    return int(T)


def _check_open_unit(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def _describe_t(t: Any) -> str:
    if isinstance(t, torch.Tensor):
        if t.numel() == 1:
            return repr(t.item())
        return f"a tensor of shape {tuple(t.shape)} and dtype {t.dtype}"
    return repr(t)


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """A discrete variance schedule ``beta_0 .. beta_{T-1}`` (float64, each in (0, 1)).

    Derived tensors (``alphas``, ``alpha_bars``, ...) are computed once and cached;
    treat them as read-only.

    Examples
    --------
    >>> s = NoiseSchedule.linear()
    >>> round(s.alpha_bar(999), 6)
    4e-05
    """

    kind: str
    betas: torch.Tensor

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        betas = torch.as_tensor(self.betas)
        if betas.ndim != 1 or betas.numel() < 1:
            raise ValueError(
                f"betas must be a 1-D tensor with T >= 1 entries, got shape {tuple(betas.shape)}"
            )
        betas = betas.to(torch.float64)
        bad = ~((betas > 0) & (betas < 1))
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise ValueError(f"betas must all be in (0, 1), got betas[{i}] = {betas[i].item()!r}")
        object.__setattr__(self, "betas", betas)

    # --- constructors -------------------------------------------------------------
    @classmethod
    def linear(
        cls, T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
    ) -> NoiseSchedule:
        """Ho et al. (2020): ``beta_t`` evenly spaced from ``beta_start`` to ``beta_end``."""
        T = _check_T(T)
        beta_start = _check_open_unit("beta_start", beta_start)
        beta_end = _check_open_unit("beta_end", beta_end)
        if beta_start > beta_end:
            raise ValueError(
                f"beta_start must be <= beta_end (range (0, beta_end]), "
                f"got beta_start={beta_start!r} > beta_end={beta_end!r}"
            )
        return cls("linear", torch.linspace(beta_start, beta_end, T, dtype=torch.float64))

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
        """Nichol & Dhariwal (2021): ``alpha_bar(t) = f(t) / f(0)``.

        With ``f(t) = cos^2(pi/2 * (t/T + s) / (1 + s))``,
        ``beta_t = min(1 - alpha_bar(t+1) / alpha_bar(t), max_beta)``, so the last beta is
        clipped to ``max_beta`` instead of reaching 1.
        """
        T = _check_T(T)
        s = float(s)
        if not (s > 0 and math.isfinite(s)):
            raise ValueError(f"s must be in (0, inf), got {s!r}")
        max_beta = _check_open_unit("max_beta", max_beta)
        steps = torch.arange(T + 1, dtype=torch.float64) / T
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
        return cls("cosine", betas)

    @classmethod
    def linear_scaled(cls, T: int) -> NoiseSchedule:
        """The default linear schedule with its betas scaled by ``1000 / T``.

        A short display schedule (T = 40..100) then still ends at
        ``alpha_bar_{T-1}`` of about 4e-5, i.e. in plain Gaussian noise.
        Needs ``T >= 21`` so that ``beta_end = 0.02 * 1000 / T`` stays below 1.
        """
        T = _check_T(T)
        if T < 21:
            raise ValueError(
                f"T must be an integer in [21, inf) for linear_scaled "
                f"(beta_end = 20 / T must stay below 1), got {T}"
            )
        scale = 1000.0 / T
        return cls.linear(T, beta_start=1e-4 * scale, beta_end=0.02 * scale)

    # --- derived quantities ---------------------------------------------------------
    @property
    def T(self) -> int:
        """Number of steps."""
        return int(self.betas.shape[0])

    @property
    def device(self) -> torch.device:
        return self.betas.device

    @cached_property
    def alphas(self) -> torch.Tensor:
        """``alpha_t = 1 - beta_t``."""
        return 1.0 - self.betas

    @cached_property
    def alpha_bars(self) -> torch.Tensor:
        """``alpha_bar_t = prod_{s<=t} alpha_s``; ``alpha_bars[0] = 1 - beta_0``."""
        return torch.cumprod(self.alphas, dim=0)

    @cached_property
    def sqrt_alphas(self) -> torch.Tensor:
        return self.alphas.sqrt()

    @cached_property
    def sqrt_alpha_bars(self) -> torch.Tensor:
        return self.alpha_bars.sqrt()

    @cached_property
    def sqrt_one_minus_alpha_bars(self) -> torch.Tensor:
        return (1.0 - self.alpha_bars).sqrt()

    @cached_property
    def alpha_bars_prev(self) -> torch.Tensor:
        """``alpha_bar_{t-1}``, with 1.0 at ``t = 0`` (the clean data)."""
        one = torch.ones(1, dtype=self.betas.dtype, device=self.betas.device)
        return torch.cat([one, self.alpha_bars[:-1]])

    @cached_property
    def posterior_variance(self) -> torch.Tensor:
        """``beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)`` (0 at ``t = 0``)."""
        return self.betas * (1.0 - self.alpha_bars_prev) / (1.0 - self.alpha_bars)

    # --- lookups ----------------------------------------------------------------------
    def check_t(self, t: Any) -> None:
        """Raise ``ValueError`` unless ``t`` is an integer (or integer tensor) in ``[0, T-1]``."""
        hi = self.T - 1
        prefix = f"t must be an integer in [0, T-1] = [0, {hi}], got "
        if isinstance(t, torch.Tensor):
            if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
                raise ValueError(prefix + _describe_t(t))
            if t.numel() == 0:
                raise ValueError(prefix + "an empty tensor")
            bad = (t < 0) | (t > hi)
            if bool(bad.any()):
                value = int(t[bad].flatten()[0])
                where = "" if t.ndim == 0 else f" (in a batch of shape {tuple(t.shape)})"
                raise ValueError(prefix + repr(value) + where)
            return
        if isinstance(t, bool) or not isinstance(t, Integral) or not 0 <= int(t) <= hi:
            raise ValueError(prefix + _describe_t(t))

    def alpha_bar(self, t: int) -> float:
        """``alpha_bar_t`` as a Python float."""
        self.check_t(t)
        return float(self.alpha_bars[int(t)])

    def first_below(self, level: float = 0.5) -> int:
        """The first ``t`` with ``alpha_bar_t < level``.

        ``level`` must lie in ``(alpha_bar_{T-1}, 1]`` so that such a ``t`` exists.
        """
        level = float(level)
        lowest = float(self.alpha_bars[-1])
        if not lowest < level <= 1.0:
            raise ValueError(
                f"level must be in (alpha_bar_{{T-1}}, 1] = ({lowest:.3g}, 1], got {level!r}"
            )
        return int(torch.nonzero(self.alpha_bars < level)[0])

    def to(self, device: torch.device | str) -> NoiseSchedule:
        """The same schedule with its betas on ``device``."""
        return NoiseSchedule(self.kind, self.betas.to(device))

    def numpy(self, name: str = "alpha_bars") -> Any:
        """A derived tensor (``"alpha_bars"``, ``"betas"``, ...) as a float64 numpy array."""
        if name not in _ARRAY_NAMES:
            raise ValueError(f"name must be one of {_ARRAY_NAMES}, got {name!r}")
        return getattr(self, name).detach().cpu().numpy().copy()

    # --- value semantics -----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoiseSchedule):
            return NotImplemented
        return self.kind == other.kind and torch.equal(self.betas.cpu(), other.betas.cpu())

    def __hash__(self) -> int:
        return hash((self.kind, self.betas.cpu().numpy().tobytes()))

    def __repr__(self) -> str:
        b = self.betas
        return (
            f"NoiseSchedule(kind={self.kind!r}, T={self.T}, "
            f"betas=[{b[0].item():.4g} .. {b[-1].item():.4g}], device={b.device})"
        )


_ARRAY_NAMES = (
    "betas",
    "alphas",
    "alpha_bars",
    "sqrt_alphas",
    "sqrt_alpha_bars",
    "sqrt_one_minus_alpha_bars",
    "alpha_bars_prev",
    "posterior_variance",
)


def at(values: torch.Tensor, t: Any, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` shaped to broadcast against ``like`` (dtype and device of ``like``).

    ``t`` is an int (one coefficient for the whole tensor) or an integer tensor of shape
    ``[B]`` with ``B = like.shape[0]`` (one coefficient per sample, broadcast over the
    remaining dimensions). Range checking is the caller's job (``NoiseSchedule.check_t``).
    """
    if isinstance(t, torch.Tensor) and t.ndim > 0:
        if t.ndim != 1 or like.ndim == 0 or t.shape[0] != like.shape[0]:
            n = like.shape[0] if like.ndim else 0
            raise ValueError(
                f"t must be an int or a 1-D integer tensor of length {n} (one t per sample), "
                f"got shape {tuple(t.shape)}"
            )
        picked = values[t.to(values.device).long()]
        return picked.to(like.device, like.dtype).reshape(-1, *([1] * (like.ndim - 1)))
    return values[int(t)].to(like.device, like.dtype)
