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
work on a live scene at any moment; ``tests/scene_utils.py`` calls them at the end
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
    return True


def is_text_like(mob: Mobject) -> bool:
    return isinstance(mob, TEXT_TYPES)


def describe(mob: Mobject) -> str:
    """A short human label: class name plus its text, tex string or value."""
    name = type(mob).__name__
    for attr in ("text", "tex_string", "code_string"):
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
