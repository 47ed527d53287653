"""The forward (noising) process q, one step at a time or in closed form.

One step:    x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps
Closed form: x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,   eps ~ N(0, I)

Randomness always comes from an explicit ``torch.Generator`` (``make_generator(seed)``)
or from a ``noise`` tensor the caller passes in; the same seed gives the same output.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np
import torch

from diffusion.schedule import NoiseSchedule, at

SEED_MAX = 2**63 - 1


def default_device() -> torch.device:
    """CUDA when available, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """A ``torch.Generator`` seeded with ``seed`` on ``device`` (default: ``default_device()``)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be an integer in [0, 2**63 - 1], got {seed!r}")
    generator = torch.Generator(device=device if device is not None else default_device())
    generator.manual_seed(int(seed))
    return generator


def as_float_tensor(x: Any, name: str = "x") -> torch.Tensor:
    """``x`` as a floating-point tensor (numpy arrays and lists are converted, ints refused)."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    elif not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=torch.float64)
    if not x.dtype.is_floating_point:
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def noise_like(
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    noise: Any = None,
) -> torch.Tensor:
    """Standard normal noise shaped like ``x``: the given ``noise``, or drawn from ``generator``.

    Drawn on the generator's device and moved to ``x``'s device, so a CPU generator
    works for CUDA tensors and vice versa (the numbers depend only on the generator).
    """
    if noise is not None:
        if generator is not None:
            raise ValueError("pass either generator or noise, not both")
        noise = torch.as_tensor(noise).to(x.device, x.dtype)
        if noise.shape != x.shape:
            raise ValueError(
                f"noise must have the shape of x, {tuple(x.shape)}, got {tuple(noise.shape)}"
            )
        return noise
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            "generator must be a torch.Generator (e.g. make_generator(seed)) when no noise "
            f"is given, got {generator!r}"
        )
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=generator.device)
    return eps.to(x.device)


def q_step(
    x_prev: Any,
    t: int | torch.Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    noise: Any = None,
) -> torch.Tensor:
    """One step of q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)."""
    x_prev = as_float_tensor(x_prev, "x_prev")
    schedule.check_t(t)
    eps = noise_like(x_prev, generator, noise)
    keep = at(schedule.sqrt_alphas, t, x_prev)
    add = at(schedule.betas, t, x_prev).sqrt()
    return keep * x_prev + add * eps


def q_sample(
    x0: Any,
    t: int | torch.Tensor,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    noise: Any = None,
) -> torch.Tensor:
    """Jump straight to x_t: q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).

    ``t`` is an int, or an integer tensor of shape ``[B]`` giving each sample its own t.
    """
    x0 = as_float_tensor(x0, "x0")
    schedule.check_t(t)
    eps = noise_like(x0, generator, noise)
    signal = at(schedule.sqrt_alpha_bars, t, x0)
    spread = at(schedule.sqrt_one_minus_alpha_bars, t, x0)
    return signal * x0 + spread * eps


def _check_record(record: Iterable[int], t: int) -> list[int]:
    steps = list(record)
    for r in steps:
        if isinstance(r, bool) or not isinstance(r, Integral) or not 0 <= r <= t:
            raise ValueError(f"record entries must be integers in [0, t] = [0, {t}], got {r!r}")
    if len(set(steps)) != len(steps):
        raise ValueError(f"record entries must be distinct, got {steps}")
    return [int(r) for r in steps]


def step_by_step(
    x0: Any,
    t: int,
    schedule: NoiseSchedule,
    *,
    generator: torch.Generator | None = None,
    record: Iterable[int] | None = None,
) -> torch.Tensor | dict[int, torch.Tensor]:
    """Apply ``q_step`` for steps ``0, 1, ..., t`` (t + 1 steps) and return ``x_t``.

    With ``record=[t1, t2, ...]`` return ``{t_i: x_{t_i}}`` instead.
    """
    x = as_float_tensor(x0, "x0")
    if isinstance(t, torch.Tensor) and t.ndim > 0:
        raise ValueError("t must be a single integer for step_by_step, got a batched tensor")
    schedule.check_t(t)
    t = int(t)
    wanted = set(_check_record(record, t)) if record is not None else set()
    states: dict[int, torch.Tensor] = {}
    for step in range(t + 1):
        x = q_step(x, step, schedule, generator=generator)
        if step in wanted:
            states[step] = x
    if record is None:
        return x
    return {r: states[r] for r in _check_record(record, t)}


class ForwardProcess:
    """The forward process as one reusable object: a schedule on a device."""

    def __init__(self, schedule: NoiseSchedule, device: torch.device | str | None = None):
        self.device = torch.device(device) if device is not None else default_device()
        self.schedule = schedule.to(self.device)

    @property
    def T(self) -> int:
        return self.schedule.T

    def q_step(
        self,
        x_prev: Any,
        t: int | torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        noise: Any = None,
    ) -> torch.Tensor:
        """x_t from x_{t-1} (one step)."""
        x_prev = as_float_tensor(x_prev, "x_prev").to(self.device)
        return q_step(x_prev, t, self.schedule, generator=generator, noise=noise)

    def q_sample(
        self,
        x0: Any,
        t: int | torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        noise: Any = None,
    ) -> torch.Tensor:
        """x_t from x_0 in one jump."""
        x0 = as_float_tensor(x0, "x0").to(self.device)
        return q_sample(x0, t, self.schedule, generator=generator, noise=noise)

    def step_by_step(
        self,
        x0: Any,
        t: int,
        *,
        generator: torch.Generator | None = None,
        record: Iterable[int] | None = None,
    ) -> torch.Tensor | dict[int, torch.Tensor]:
        """x_t from x_0 by t + 1 single steps (or ``{t_i: x_{t_i}}`` with ``record``)."""
        x0 = as_float_tensor(x0, "x0").to(self.device)
        return step_by_step(x0, t, self.schedule, generator=generator, record=record)

    def sample_timesteps(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """``batch`` timesteps drawn uniformly from ``0..T-1`` (int64, on this device)."""
        if isinstance(batch, bool) or not isinstance(batch, Integral) or batch < 1:
            raise ValueError(f"batch must be an integer in [1, inf), got {batch!r}")
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator, got {generator!r}")
        t = torch.randint(0, self.T, (int(batch),), generator=generator, device=generator.device)
        return t.to(self.device)

    def __repr__(self) -> str:
        return f"ForwardProcess({self.schedule!r}, device={self.device})"
