"""Beat declarations and timing-plan arithmetic (pure: no manim, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Beat:
    """One step of a scene: a name, its default length and the least it can take."""

    name: str
    seconds: float
    minimum: float = 0.5

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"beat {self.name!r}: seconds must be > 0, got {self.seconds}")
        if not 0 < self.minimum <= self.seconds:
            raise ValueError(
                f"beat {self.name!r}: minimum must be in (0, seconds={self.seconds}], "
                f"got {self.minimum}"
            )


def plan_beats(beats: Sequence[Beat], plan: Mapping[str, Any] | None) -> dict[str, float]:
    """Resolve a timing plan into seconds per beat, in beat order.

    ``plan`` is ``None`` (defaults), ``{"beats": {name: seconds}}`` (named beats set,
    the rest default) or ``{"total": seconds}`` (spread over the beats in proportion
    to their defaults, never below a beat's minimum).
    """
    names = [b.name for b in beats]
    if len(set(names)) != len(names):
        raise ValueError(f"beat names must be unique, got {names}")
    if not plan:
        return {b.name: b.seconds for b in beats}
    if "beats" in plan and "total" in plan:
        raise ValueError("timing plan: give 'beats' or 'total', not both")
    if "beats" in plan:
        given = dict(plan["beats"])
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ValueError(f"timing plan: unknown beat(s) {unknown}; beats are {names}")
        out = {}
        for b in beats:
            secs = float(given.get(b.name, b.seconds))
            if secs < b.minimum - 1e-9:
                raise ValueError(
                    f"timing plan: beat {b.name!r} needs at least {b.minimum} s, got {secs}"
                )
            out[b.name] = secs
        return out
    if "total" in plan:
        return spread_total(beats, float(plan["total"]))
    raise ValueError(f"timing plan: expected 'beats' or 'total', got keys {sorted(plan)}")


def spread_total(beats: Sequence[Beat], total: float) -> dict[str, float]:
    """Share ``total`` seconds over ``beats`` in proportion to their defaults.

    Beats whose share would fall below their minimum are pinned at the minimum and the
    rest is re-shared among the others.
    """
    floor = sum(b.minimum for b in beats)
    if total < floor - 1e-9:
        raise ValueError(
            f"timing plan: total must be >= {floor:.3f} s for these beats, got {total}"
        )
    pinned: dict[str, float] = {}
    while True:
        free = [b for b in beats if b.name not in pinned]
        budget = total - sum(pinned.values())
        weight = sum(b.seconds for b in free)
        shares = {b.name: budget * b.seconds / weight for b in free}
        low = [b for b in free if shares[b.name] < b.minimum]
        if not low:
            break
        for b in low:
            pinned[b.name] = b.minimum
    merged = {**pinned, **shares}
    return {b.name: merged[b.name] for b in beats}


def min_total(beats: Sequence[Beat]) -> float:
    return sum(b.minimum for b in beats)
