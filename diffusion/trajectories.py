"""Recorded paths of many points through the forward and reverse processes.

Scenes animate these arrays; nothing here knows about drawing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import torch

from diffusion.forward import as_float_tensor, noise_like, q_step
from diffusion.reverse import ddim_step, ddpm_step
from diffusion.schedule import NoiseSchedule

METHODS = ("ddpm", "ddim")


@dataclass(frozen=True, eq=False)
class Trajectory:
    """States ``x_t`` of ``N`` points in ``D`` dimensions, recorded at ``steps``.

    ``steps`` is in the order the process visits them: ascending for the forward
    process, descending for the reverse one.
    """

    steps: tuple[int, ...]
    positions: np.ndarray
    clean: np.ndarray | None = None
    final: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        pos = np.asarray(self.positions, dtype=np.float64)
        if pos.ndim != 3 or pos.shape[0] != len(self.steps):
            raise ValueError(
                f"positions must have shape [len(steps), N, D] = [{len(self.steps)}, N, D], "
                f"got {pos.shape}"
            )
        object.__setattr__(self, "positions", pos)
        for name in ("clean", "final"):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value, dtype=np.float64)
                if arr.shape != pos.shape[1:]:
                    raise ValueError(f"{name} must have shape {pos.shape[1:]}, got {arr.shape}")
                object.__setattr__(self, name, arr)

    @property
    def n_points(self) -> int:
        return int(self.positions.shape[1])

    def at(self, t: int) -> np.ndarray:
        """Positions ``[N, D]`` recorded at step ``t``."""
        if t not in self.steps:
            raise ValueError(f"t must be one of the recorded steps {self.steps}, got {t!r}")
        return self.positions[self.steps.index(t)]


def _check_steps(display_steps: Iterable[int], schedule: NoiseSchedule, name: str) -> list[int]:
    steps = list(display_steps)
    if not steps:
        raise ValueError(f"{name} must hold at least one step in [0, {schedule.T - 1}]")
    for s in steps:
        if isinstance(s, bool) or not isinstance(s, Integral):
            raise ValueError(f"{name} entries must be integers in [0, {schedule.T - 1}], got {s!r}")
        schedule.check_t(s)
    if len(set(steps)) != len(steps):
        raise ValueError(f"{name} entries must be distinct, got {steps}")
    return [int(s) for s in steps]


def _as_points(points: Any) -> torch.Tensor:
    p = as_float_tensor(points, "points").to(torch.float64)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"points must have shape [N, D] with N >= 1, got {tuple(p.shape)}")
    return p


def forward_trajectory(
    points: Any,
    schedule: NoiseSchedule,
    display_steps: Iterable[int],
    *,
    generator: torch.Generator,
) -> Trajectory:
    """One seeded chain: ``q_step`` at every t from 0 up to ``max(display_steps)``.

    Records ``x_t`` at each display step (sorted ascending); ``clean`` is the input.
    """
    steps = sorted(_check_steps(display_steps, schedule, "display_steps"))
    p = _as_points(points)
    device = generator.device if isinstance(generator, torch.Generator) else p.device
    x = p.to(device)
    sched = schedule.to(device)
    wanted = set(steps)
    recorded = []
    for t in range(steps[-1] + 1):
        x = q_step(x, t, sched, generator=generator)
        if t in wanted:
            recorded.append(x.cpu().numpy())
    return Trajectory(tuple(steps), np.stack(recorded), clean=p.cpu().numpy(), final=None)


def reverse_trajectory(
    points: Any,
    schedule: NoiseSchedule,
    display_steps: Iterable[int],
    *,
    generator: torch.Generator,
    n: int | None = None,
    method: str = "ddpm",
    eta: float = 0.0,
    timesteps: Iterable[int] | None = None,
) -> Trajectory:
    """Sample ``n`` points (default ``len(points)``) from the data set ``points``.

    Starts from ``x_{T-1} ~ N(0, I)`` and runs real sampling with the optimal denoiser
    (``optimal_x0``): ``method="ddpm"`` is ancestral sampling through every t;
    ``method="ddim"`` takes DDIM steps with noise scale ``eta`` through ``timesteps``
    (default every t; a subset must contain ``T-1`` and every display step, and should
    contain 0: a last step from t > 0 returns a blend of data points, not one of them).
    Records ``x_t`` at each display step (sorted descending); ``final`` is the output
    after the last step.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "ddpm" and (eta != 0.0 or timesteps is not None):
        raise ValueError("eta and timesteps apply only to method='ddim'")
    steps = sorted(_check_steps(display_steps, schedule, "display_steps"), reverse=True)
    p = _as_points(points)
    if n is None:
        n = p.shape[0]
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be an integer in [1, inf), got {n!r}")
    T = schedule.T
    if timesteps is None:
        visit = list(range(T - 1, -1, -1))
    else:
        visit = sorted(_check_steps(timesteps, schedule, "timesteps"), reverse=True)
        missing = sorted({T - 1, *steps} - set(visit))
        if missing:
            raise ValueError(
                f"timesteps must contain T-1 = {T - 1} and every display step; missing {missing}"
            )
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {generator!r}")

    device = generator.device
    sched = schedule.to(device)
    p = p.to(device)
    x = noise_like(torch.empty(int(n), p.shape[1], dtype=torch.float64, device=device), generator)
    wanted = set(steps)
    recorded = []
    for i, t in enumerate(visit):
        if t in wanted:
            recorded.append(x.cpu().numpy())
        if method == "ddpm":
            x = ddpm_step(x, t, p, sched, generator=generator)
        else:
            t_prev = visit[i + 1] if i + 1 < len(visit) else -1
            x = ddim_step(x, t, t_prev, p, sched, eta=eta, generator=generator)
    return Trajectory(tuple(steps), np.stack(recorded), clean=None, final=x.cpu().numpy())


def nearest_point_distance(
    samples: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each sample, the distance to and index of its nearest point."""
    samples = np.asarray(samples, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    d = np.linalg.norm(samples[:, None, :] - points[None, :, :], axis=-1)
    idx = d.argmin(axis=1)
    return d[np.arange(len(samples)), idx], idx


@dataclass(frozen=True)
class GridCoverage:
    """How well samples land on a set of data points.

    ``n_close``: samples within ``tol`` of their nearest point; ``n_reached``: data
    points that have at least one such sample. ``on_data`` is the verdict the lecture
    shows: at least ``share`` of the samples sit on a data point.
    """

    n_samples: int
    n_points: int
    n_close: int
    n_reached: int
    tol: float
    share: float

    @property
    def close_share(self) -> float:
        return self.n_close / self.n_samples

    @property
    def on_data(self) -> bool:
        return self.close_share >= self.share


def grid_coverage(
    samples: np.ndarray, points: np.ndarray, tol: float, share: float = 0.9
) -> GridCoverage:
    """Count samples on the data (within ``tol``) and the data points they reach."""
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    dist, idx = nearest_point_distance(samples, points)
    close = dist <= tol
    return GridCoverage(
        n_samples=len(dist),
        n_points=int(np.asarray(points).shape[0]),
        n_close=int(close.sum()),
        n_reached=len(set(idx[close].tolist())),
        tol=float(tol),
        share=float(share),
    )


def path_deviation(path: np.ndarray, keep: list[int]) -> float:
    """How far the sampled path strays from the polyline drawn through ``keep``.

    ``path`` is ``[S, N, D]``: ``N`` points over ``S`` recorded states; ``keep`` the
    sorted state indices a renderer shows (first and last included). Returns the
    largest distance from any skipped state of any point to the drawn segment that
    replaces it (0 when every state is kept).
    """
    worst = 0.0
    for a, b in zip(keep, keep[1:]):
        if b - a > 1:
            worst = max(worst, float(_segment_distance(path, a, b).max()))
    return worst


def _segment_distance(path: np.ndarray, a: int, b: int) -> np.ndarray:
    """Distances ``[b-a-1, N]`` of states a+1..b-1 to the segment from state a to b."""
    p0, p1 = path[a], path[b]
    mid = path[a + 1 : b]
    d = p1 - p0
    length2 = np.maximum((d * d).sum(axis=-1), 1e-18)
    u = np.clip(((mid - p0) * d).sum(axis=-1) / length2, 0.0, 1.0)
    nearest = p0 + u[..., None] * d
    return np.linalg.norm(mid - nearest, axis=-1)


def keyframes(path: np.ndarray, tol: float, budget: int) -> list[int]:
    """State indices to draw so the polyline through them stays within ``tol`` of ``path``.

    Douglas-Peucker over the states (largest deviation over all points decides a
    split). If that needs more than ``budget`` + 1 states (``budget`` segments, e.g.
    the frames available), the tolerance is raised until it fits: the result never
    exceeds the budget, and :func:`path_deviation` reports what was reached.
    """
    S = path.shape[0]
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if S - 1 <= budget:
        return list(range(S))

    def simplify(eps: float) -> list[int]:
        keep = {0, S - 1}
        stack = [(0, S - 1)]
        while stack:
            a, b = stack.pop()
            if b - a < 2:
                continue
            dev = _segment_distance(path, a, b).max(axis=1)
            k = int(dev.argmax())
            if dev[k] > eps:
                keep.add(a + 1 + k)
                stack += [(a, a + 1 + k), (a + 1 + k, b)]
        return sorted(keep)

    keep = simplify(tol)
    lo, hi = tol, tol
    while len(keep) - 1 > budget:  # widen until it fits, then bisect back down
        lo, hi = hi, hi * 2
        keep = simplify(hi)
    for _ in range(20):
        if hi - lo <= 1e-3 * hi:
            break
        mid = (lo + hi) / 2
        trial = simplify(mid)
        if len(trial) - 1 <= budget:
            hi, keep = mid, trial
        else:
            lo = mid
    return keep
