"""YouTube chapters from the lecture's segments (pure: no I/O).

YouTube reads chapter lines ``m:ss Title`` (``h:mm:ss`` in long videos) from the
description and needs: the first at ``0:00``, at least three, strictly ascending, each
at least 10 s long. It reads whole seconds, so every rule here is applied to the
*printed* (floored) start times, and the last chapter is measured to the video's end.

Merging rule (:func:`build_chapters`): while some chapter is shorter than ``min_len``,
the shortest one is merged with its shorter neighbour (the only neighbour at either
end). A merged chapter starts where its first segment starts and keeps the title of its
longest segment, so a 4-second title card folds into the section it introduces instead
of renaming it, and titles never grow into lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MIN_CHAPTER_SECONDS",
    "MIN_CHAPTERS",
    "Chapter",
    "build_chapters",
    "chapter_lengths",
    "format_timestamp",
    "to_youtube",
    "check_chapters",
]

MIN_CHAPTER_SECONDS = 10.0
MIN_CHAPTERS = 3


@dataclass(frozen=True)
class Chapter:
    """A chapter starting at ``start`` whole seconds into the video."""

    start: float
    title: str


@dataclass(frozen=True)
class _Group:
    start: int  # printed (floored) start, whole seconds
    title: str
    weight: float  # duration of the segment whose title the group carries


def _lengths(starts: Sequence[float], total: float) -> list[float]:
    """Chapter lengths as YouTube sees them: between printed starts, the last to ``total``."""
    printed = [math.floor(s + 1e-9) for s in starts]
    return [b - a for a, b in zip(printed, printed[1:], strict=False)] + (
        [total - printed[-1]] if printed else []
    )


def chapter_lengths(chapters: Sequence[Chapter], *, total: float) -> list[float]:
    """Length of each chapter in seconds, measured as YouTube does."""
    return _lengths([c.start for c in chapters], total)


def build_chapters(
    items: Sequence[tuple[float, float, str]], *, min_len: float = MIN_CHAPTER_SECONDS
) -> list[Chapter]:
    """Chapters from ``(start, duration, title)`` per segment, in order (module docstring).

    The first chapter starts at 0:00 whatever the first segment's start. The result may
    have fewer than three chapters (a short lecture); :func:`check_chapters` reports it.
    """
    if not items:
        return []
    rows = [(float(s), float(d), " ".join(str(t).split())) for s, d, t in items]
    for (s0, _, t0), (s1, _, _) in zip(rows, rows[1:], strict=False):
        if s1 < s0:
            raise ValueError(f"build_chapters: segments out of order at {t0!r} ({s0} > {s1})")
    for s, d, t in rows:
        if not t:
            raise ValueError(f"build_chapters: segment at {s:.3f} s has no title")
        if d < 0 or s < 0:
            raise ValueError(f"build_chapters: segment {t!r} has negative start or duration")
    total = max(s + d for s, d, _ in rows)
    groups = [
        _Group(0 if i == 0 else math.floor(s + 1e-9), t, d) for i, (s, d, t) in enumerate(rows)
    ]
    while len(groups) > 1:
        lengths = _lengths([g.start for g in groups], total)
        short = [i for i, n in enumerate(lengths) if n < min_len]
        if not short:
            break
        i = min(short, key=lambda j: (lengths[j], j))
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if lengths[i - 1] <= lengths[i + 1] else i + 1
        a, b = (j, i) if j < i else (i, j)
        ga, gb = groups[a], groups[b]
        keep = ga if ga.weight >= gb.weight else gb
        groups[a : b + 1] = [_Group(ga.start, keep.title, keep.weight)]
    return [Chapter(float(g.start), g.title) for g in groups]


def format_timestamp(seconds: float, *, hours: bool = False) -> str:
    """``m:ss`` or (``hours=True``) ``h:mm:ss``, floored to whole seconds."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"format_timestamp: need a finite time >= 0, got {seconds}")
    whole = math.floor(seconds + 1e-9)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    if hours:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{whole // 60}:{s:02d}"


def to_youtube(chapters: Sequence[Chapter], *, total: float | None = None) -> str:
    """One ``m:ss Title`` line per chapter (``h:mm:ss`` on every line when the lecture,
    ``total`` seconds long or else reaching its last chapter start, is at least 1 h)."""
    if not chapters:
        return ""
    end = total if total is not None else chapters[-1].start
    hours = end >= 3600
    lines = [
        f"{format_timestamp(c.start, hours=hours)} {' '.join(c.title.split())}" for c in chapters
    ]
    return "\n".join(lines) + "\n"


def check_chapters(
    chapters: Sequence[Chapter], *, total: float, min_len: float = MIN_CHAPTER_SECONDS
) -> list[str]:
    """Every YouTube chapter rule broken, one readable line each; ``[]`` when all hold."""
    problems: list[str] = []
    if len(chapters) < MIN_CHAPTERS:
        problems.append(
            f"{len(chapters)} chapter(s): YouTube needs at least {MIN_CHAPTERS} "
            f"(lecture is {total:.1f} s)"
        )
    if not chapters:
        return problems
    hours = total >= 3600
    if math.floor(chapters[0].start + 1e-9) != 0:
        problems.append(f"first chapter starts at {format_timestamp(chapters[0].start)}, not 0:00")
    printed = [math.floor(c.start + 1e-9) for c in chapters]
    for i, (a, b) in enumerate(zip(printed, printed[1:], strict=False), 2):
        if b <= a:
            problems.append(
                f"chapter {i} ({format_timestamp(b, hours=hours)}) is not after chapter {i - 1}"
            )
    for i, (c, n) in enumerate(
        zip(chapters, _lengths([c.start for c in chapters], total), strict=True), 1
    ):
        if not c.title.strip():
            problems.append(f"chapter {i} has no title")
        if 0 < n < min_len - 1e-9 or (n <= 0 and i == len(chapters)):
            problems.append(
                f"chapter {i} ({format_timestamp(c.start, hours=hours)} {c.title}) "
                f"is {n:.1f} s long, under {min_len:g} s"
            )
    return problems
