"""Layout checks over a scene's mobjects (pure: reads mobjects, draws nothing).

Two rules every lecture frame must keep:

* **in frame** — no visible mobject has points outside the camera frame
  (``config.frame_width`` × ``config.frame_height``, centred on the origin);
* **no text overlap** — no two visible text-like mobjects (:data:`TEXT_TYPES`)
  have intersecting bounding boxes.

A *text item* is the outermost text-like mobject in a family: the glyphs inside a
``Text`` or the digits inside a ``DecimalNumber`` belong to it and are never checked
against each other. Items that are fully transparent (faded out but still in the
scene) are skipped, as they are not drawn.

The functions take any iterable of top-level mobjects (``scene.mobjects``), so they
work on a live scene at any moment; ``tests/helpers/scenes.py`` calls them at the end
of every beat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from manim import (
    Code,
    DecimalNumber,
    ImageMobject,
    MarkupText,
    Mobject,
    Paragraph,
    PMobject,
    SingleStringMathTex,
    Text,
    VMobject,
    config,
)

#: Mobject classes treated as one piece of text (``MathTex``/``Tex``/``Title``/
#: ``BulletedList`` derive from ``SingleStringMathTex``; ``Integer`` from
#: ``DecimalNumber``).
TEXT_TYPES: tuple[type, ...] = (
    Text,
    MarkupText,
    Paragraph,
    PMobject,
    SingleStringMathTex,
    DecimalNumber,
    Code,
    ImageMobject,
)

#: Default tolerance in manim units: touching edges are not an overlap, and a
#: point this close to the frame edge is still inside it.
TOLERANCE = 1e-2

#: Opacity under which a mobject counts as not drawn.
INVISIBLE = 1e-3


@dataclass(frozen=True)
class Box:
    """An axis-aligned bounding box in scene units."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    def intersection(self, other: Box) -> tuple[float, float]:
        """Width and height of the overlap with ``other`` (negative when apart)."""
        w = min(self.xmax, other.xmax) - max(self.xmin, other.xmin)
        h = min(self.ymax, other.ymax) - max(self.ymin, other.ymin)
        return w, h

    def overlaps(self, other: Box, tol: float = TOLERANCE) -> bool:
        w, h = self.intersection(other)
        return w > tol and h > tol

    def inside(self, outer: Box, tol: float = TOLERANCE) -> bool:
        return (
            self.xmin >= outer.xmin - tol
            and self.ymin >= outer.ymin - tol
            and self.xmax <= outer.xmax + tol
            and self.ymax <= outer.ymax + tol
        )

    def __str__(self) -> str:
        return f"[{self.xmin:.2f}, {self.xmax:.2f}] x [{self.ymin:.2f}, {self.ymax:.2f}]"


@dataclass(frozen=True)
class LayoutIssue:
    """One broken rule: ``kind`` is ``"off_frame"`` or ``"overlap"``."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


# ------------------------------------------------------------------ helpers
def frame_box(frame_width: float | None = None, frame_height: float | None = None) -> Box:
    """The camera frame, centred on the origin (defaults: the current manim config)."""
    w = config.frame_width if frame_width is None else frame_width
    h = config.frame_height if frame_height is None else frame_height
    return Box(-w / 2, -h / 2, w / 2, h / 2)


def points_box(points: np.ndarray) -> Box:
    """Bounding box of an ``(n, 3)`` point array (``n >= 1``)."""
    lo = points[:, :2].min(axis=0)
    hi = points[:, :2].max(axis=0)
    return Box(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def own_box(mob: Mobject) -> Box | None:
    """Bounding box of the mobject's own points (not its submobjects), if any."""
    pts = np.asarray(mob.points)
    if pts.size == 0:
        return None
    return points_box(pts)


def family_box(mob: Mobject) -> Box | None:
    """Bounding box of every point in the mobject's family that is drawn."""
    arrays = [np.asarray(m.points) for m in mob.get_family() if draws_itself(m)]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return None
    return points_box(np.concatenate(arrays))


def draws_itself(mob: Mobject) -> bool:
    """Whether the mobject's own points are painted with non-zero opacity."""
    if np.asarray(mob.points).size == 0:
        return False
    if isinstance(mob, ImageMobject):
        pixels = np.asarray(mob.pixel_array)
        alpha = pixels[..., 3].max() if pixels.ndim == 3 and pixels.shape[2] == 4 else 255
        return bool(alpha > 0) and float(getattr(mob, "fill_opacity", 1.0)) > INVISIBLE
    if isinstance(mob, VMobject):
        fill = float(np.max(mob.get_fill_opacities(), initial=0.0))
        stroke = float(np.max(mob.get_stroke_opacities(), initial=0.0))
        width = float(mob.get_stroke_width() or 0.0)
        return fill > INVISIBLE or (stroke > INVISIBLE and width > 0)
    # Point clouds are drawn; plain Mobjects (ValueTracker, empty groups) are not.
    return isinstance(mob, PMobject)


def is_text_like(mob: Mobject) -> bool:
    return isinstance(mob, TEXT_TYPES)


def describe(mob: Mobject) -> str:
    """A short human label: class name plus its text, tex string or value."""
    name = type(mob).__name__
    for attr in ("original_text", "text", "tex_string", "code_string"):
        value = getattr(mob, attr, None)
        if isinstance(value, str) and value:
            short = value if len(value) <= 40 else value[:37] + "..."
            return f"{name}({short!r})"
    if isinstance(mob, DecimalNumber):
        return f"{name}({mob.get_value():g})"
    return name


def walk_text_items(mobjects: Iterable[Mobject]) -> Iterator[Mobject]:
    """Outermost text-like mobjects under ``mobjects``, depth first, each once."""
    seen: set[int] = set()
    stack = list(reversed(list(mobjects)))
    while stack:
        mob = stack.pop()
        if id(mob) in seen:
            continue
        seen.add(id(mob))
        if is_text_like(mob):
            yield mob
            continue
        stack.extend(reversed(mob.submobjects))


def text_items(mobjects: Iterable[Mobject]) -> list[tuple[Mobject, Box]]:
    """Visible text items with their bounding boxes."""
    out = []
    for mob in walk_text_items(mobjects):
        box = family_box(mob)
        if box is not None:
            out.append((mob, box))
    return out


def drawn_leaves(mobjects: Iterable[Mobject]) -> Iterator[tuple[Mobject, Box]]:
    """Every family member that paints its own points, with its own bounding box."""
    seen: set[int] = set()
    for top in mobjects:
        for mob in top.get_family():
            if id(mob) in seen:
                continue
            seen.add(id(mob))
            if draws_itself(mob):
                box = own_box(mob)
                if box is not None:
                    yield mob, box


# ------------------------------------------------------------------- checks
def off_frame(
    mobjects: Iterable[Mobject],
    frame: Box | None = None,
    tol: float = TOLERANCE,
) -> list[LayoutIssue]:
    """Issues for drawn mobjects that reach outside ``frame``.

    Text items are reported once as a whole; other shapes one leaf at a time.
    """
    frame = frame or frame_box()
    mobjects = list(mobjects)
    issues: list[LayoutIssue] = []
    text_ids: set[int] = set()
    for mob, box in text_items(mobjects):
        text_ids.update(id(m) for m in mob.get_family())
        if not box.inside(frame, tol):
            issues.append(LayoutIssue("off_frame", f"{describe(mob)} at {box} leaves {frame}"))
    for mob, box in drawn_leaves(mobjects):
        if id(mob) in text_ids:
            continue
        if not box.inside(frame, tol):
            issues.append(LayoutIssue("off_frame", f"{describe(mob)} at {box} leaves {frame}"))
    return issues


def text_overlaps(mobjects: Iterable[Mobject], tol: float = TOLERANCE) -> list[LayoutIssue]:
    """Issues for every pair of visible text items whose boxes intersect."""
    items = text_items(mobjects)
    issues = []
    for i, (a, box_a) in enumerate(items):
        for b, box_b in items[i + 1 :]:
            if box_a.overlaps(box_b, tol):
                w, h = box_a.intersection(box_b)
                issues.append(
                    LayoutIssue(
                        "overlap",
                        f"{describe(a)} {box_a} and {describe(b)} {box_b} "
                        f"overlap by {w:.2f} x {h:.2f}",
                    )
                )
    return issues


def check_layout(
    mobjects: Iterable[Mobject],
    frame: Box | None = None,
    tol: float = TOLERANCE,
) -> list[LayoutIssue]:
    """All layout issues of a picture: off-frame mobjects, then overlapping texts."""
    mobjects = list(mobjects)
    return off_frame(mobjects, frame, tol) + text_overlaps(mobjects, tol)


# ------------------------------------------------------------ fitting text
def wrap_words(text: str, width: int) -> str:
    """Greedy word wrap of ``text`` to lines of at most ``width`` characters.

    Existing newlines are kept; a single word longer than ``width`` gets a line
    of its own rather than being split. Only plain spaces break lines, so a
    no-break space (U+00A0) keeps ``t = 259`` together.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in (w for w in paragraph.split(" ") if w):
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join(out)


def shrink_to_fit(mob: Mobject, max_width: float, max_height: float) -> Mobject:
    """Scale ``mob`` down (never up) so that it fits ``max_width`` × ``max_height``."""
    factor = min(1.0, max_width / max(mob.width, 1e-9), max_height / max(mob.height, 1e-9))
    if factor < 1.0:
        mob.scale(factor)
    return mob


# ---------------------------------------------------------- frame budgets
def split_frames(total: int, weights: list[float] | tuple[float, ...]) -> list[int]:
    """Share ``total`` whole frames over parts in proportion to ``weights``.

    Every part gets at least one frame and the parts sum to exactly ``total``
    (largest-remainder rounding). Raises ``ValueError`` when ``total`` is smaller
    than the number of parts.
    """
    n = len(weights)
    if n == 0:
        raise ValueError("weights must not be empty")
    if any(w <= 0 for w in weights):
        raise ValueError(f"weights must be > 0, got {list(weights)}")
    if total < n:
        raise ValueError(f"{total} frames cannot give {n} parts one frame each")
    spare = total - n
    exact = [spare * w / sum(weights) for w in weights]
    base = [int(x) for x in exact]
    left = spare - sum(base)
    order = sorted(range(n), key=lambda i: exact[i] - base[i], reverse=True)
    for i in order[:left]:
        base[i] += 1
    return [1 + b for b in base]


def paginate(heights: list[float] | tuple[float, ...], room: float, gap: float) -> list[list[int]]:
    """Greedy pages of consecutive items whose stacked height (plus gaps) fits ``room``.

    An item taller than ``room`` gets a page of its own (the caller shrinks it).
    """
    if room <= 0:
        raise ValueError(f"room must be > 0, got {room}")
    pages: list[list[int]] = []
    used = 0.0
    for i, h in enumerate(heights):
        if pages and pages[-1] and used + gap + h <= room + 1e-9:
            pages[-1].append(i)
            used += gap + h
        else:
            pages.append([i])
            used = h
    return pages


def paginate_columns(
    heights: list[float] | tuple[float, ...], room: float, gap: float, columns: int
) -> list[list[list[int]]]:
    """Pages of ``columns`` columns, each column a :func:`paginate` chunk of item indices."""
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    chunks = paginate(heights, room, gap)
    return [chunks[k : k + columns] for k in range(0, len(chunks), columns)]
