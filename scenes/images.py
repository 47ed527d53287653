"""Helpers shared by the MNIST, check, equation and code scenes.

Tensor → picture, number → text, and the frame budget of a loop of plays in a beat.

The pictures on screen *are* the forward-process tensors: a value ``x`` in the
model's range [-1, 1] becomes the grey level

    g = floor((clamp(x, -1, 1) + 1) * 127.5 + 0.5)

computed in float64, i.e. ``(x + 1) / 2 * 255`` rounded half up: -1 → 0 (black),
0 → 128, 1 → 255 (white). Images are drawn with nearest-neighbour resampling so
each of the 28×28 pixels stays a crisp square at any output resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from manim import (
    DOWN,
    LEFT,
    RESAMPLING_ALGORITHMS,
    RIGHT,
    UP,
    DecimalNumber,
    Group,
    ImageMobject,
    Mobject,
    Rectangle,
    Text,
    VGroup,
)

from scenes import theme
from scenes.base import BeatClock
from scenes.layout import split_frames

GrayImage = npt.NDArray[np.uint8]  # (H, W) grey levels 0..255


def to_numpy(x: Any) -> npt.NDArray[np.float64]:
    """A tensor or array as a float64 numpy array (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def gray_uint8(x: Any) -> GrayImage:
    """Map one image in [-1, 1] (shape ``(H, W)`` or ``(1, H, W)``) to grey levels.

    Values outside [-1, 1] (noisy images leave that range) are clamped first, so
    strong noise saturates to black or white. Rounding is half up (see module doc).
    """
    arr = to_numpy(x)
    if arr.ndim == 3:
        if arr.shape[0] != 1:
            raise ValueError(f"expected one channel, got shape {arr.shape}")
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"expected an (H, W) or (1, H, W) image, got shape {arr.shape}")
    levels = np.floor((np.clip(arr, -1.0, 1.0) + 1.0) * 127.5 + 0.5)
    return levels.astype(np.uint8)


def image_mobject(gray: GrayImage, height: float) -> ImageMobject:
    """A crisp (nearest-neighbour) manim image of ``gray``, ``height`` units tall."""
    mob = ImageMobject(np.asarray(gray, dtype=np.uint8))
    mob.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
    mob.height = height
    return mob


def set_pixels(mob: ImageMobject, gray: GrayImage) -> ImageMobject:
    """Overwrite an image's grey levels in place (size and place unchanged)."""
    if mob.pixel_array.shape[:2] != gray.shape:
        raise ValueError(f"image is {mob.pixel_array.shape[:2]}, new pixels {gray.shape}")
    mob.pixel_array[:, :, :3] = gray[:, :, None]
    return mob


def shown_gray(mob: ImageMobject) -> GrayImage:
    """The grey levels an image mobject currently shows (its red channel)."""
    return np.asarray(mob.pixel_array[:, :, 0], dtype=np.uint8).copy()


class Tile(Group):
    """One image with a thin frame and an optional caption stack underneath.

    ``tile.image`` is the :class:`ImageMobject`; ``tile.frame`` the outline;
    ``tile.captions`` the group of caption mobjects (possibly empty).
    """

    def __init__(
        self,
        gray: GrayImage,
        height: float,
        captions: Sequence[Mobject] = (),
        caption_buff: float = 0.12,
    ) -> None:
        self.image = image_mobject(gray, height)
        self.frame = Rectangle(
            width=self.image.width,
            height=self.image.height,
            stroke_color=theme.MUTED,
            stroke_width=theme.STROKE_THIN,
        ).move_to(self.image)
        self.captions = Group(*captions)
        if captions:
            self.captions.arrange(DOWN, buff=0.08).next_to(self.frame, DOWN, buff=caption_buff)
        super().__init__(self.image, self.frame, self.captions)


def loop_times(b: BeatClock, fraction: float, weights: Sequence[float]) -> list[float]:
    """Run times for consecutive plays sharing ``fraction`` of beat ``b``.

    The plays get whole frames in proportion to ``weights`` (at least one each), and
    together exactly ``round(fraction · beat frames)`` — so a loop of many short plays
    never overruns a beat planned at its minimum.
    """
    total = max(len(weights), round(b.duration * fraction * b.fps))
    return [(n - 0.5) / b.fps for n in split_frames(total, list(weights))]


def small_text(text: str, color: Any = theme.MUTED, size: int = theme.SIZE_SMALL) -> Text:
    return Text(text, font=theme.FONT, font_size=size, color=color)


def heading(text: str) -> Text:
    """A scene heading parked at the top edge, inside the margin."""
    return Text(text, font=theme.FONT, font_size=theme.SIZE_HEADING, color=theme.FG).to_edge(
        UP, buff=theme.MARGIN
    )


# ----------------------------------------------------------- number readouts
#: DecimalNumber digits (LaTeX) look as tall as Text digits at about 1.45× the font size.
NUMBER_SCALE = 1.45


def number(
    value: float, decimals: int, color: Any = theme.FG, size: float = theme.SIZE_SMALL
) -> DecimalNumber:
    """A numeric readout (``DecimalNumber``) whose digits match ``Text`` of ``size``."""
    return DecimalNumber(
        value, num_decimal_places=decimals, font_size=size * NUMBER_SCALE, color=color
    )


def table(
    rows: Sequence[Sequence[Mobject | None]],
    aligns: Sequence[str],
    col_buff: float = 0.45,
    row_buff: float = 0.3,
) -> VGroup:
    """Cells laid out on a grid: ``aligns[j]`` is ``"left"``, ``"right"`` or ``"center"``.

    Columns are as wide as their widest cell, rows as tall as their tallest; cells are
    centred vertically in their row. ``None`` leaves a cell empty. Returns a VGroup of
    the non-empty cells (top-left corner at the origin; move it afterwards).
    """
    n_cols = len(aligns)
    if any(len(r) != n_cols for r in rows):
        raise ValueError(f"every row needs {n_cols} cells")
    columns = [[r[j] for r in rows] for j in range(n_cols)]
    widths = [max((c.width for c in col if c is not None), default=0.0) for col in columns]
    heights = [max((c.height for c in r if c is not None), default=0.0) for r in rows]
    out = VGroup()
    y = 0.0
    for r, h in zip(rows, heights, strict=True):
        x = 0.0
        for cell, w, align in zip(r, widths, aligns, strict=True):
            if cell is not None:
                if align == "left":
                    cx = x + cell.width / 2
                elif align == "right":
                    cx = x + w - cell.width / 2
                elif align == "center":
                    cx = x + w / 2
                else:
                    raise ValueError(f"align must be left, right or center, got {align!r}")
                cell.move_to([cx, y - h / 2, 0])
                out.add(cell)
            x += w + col_buff
        y -= h + row_buff
    return out


MINUS = "\u2212"  # the typographic minus sign for Text; MathTex takes a plain "-"


def fixed(value: float, decimals: int, minus: str = MINUS) -> str:
    """``value`` with exactly ``decimals`` decimals; ``-0.000`` is shown as ``0.000``."""
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text.replace("-", minus)


def trimmed(value: float, decimals: int, minus: str = MINUS) -> str:
    """Like :func:`fixed` but without trailing zeros: 0.100 → 0.1, 0.796 → 0.796."""
    text = fixed(value, decimals, minus)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def sig_tex(value: float, sig: int = 4) -> str:
    """``value`` to ``sig`` significant digits as LaTeX.

    Values from 0.01 up are written as decimals (0.9999, 0.9753, 0.07854); smaller
    ones in scientific notation with one digit fewer (4.04\\times10^{-5}), so a label
    stays narrow.
    """
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{sig - 1}e}".split("e")
    exp = int(exponent)
    if exp >= -2:
        return f"{value:.{max(sig - 1 - exp, 0)}f}"
    mantissa, exponent = f"{value:.{sig - 2}e}".split("e")
    return rf"{mantissa}\times10^{{{int(exponent)}}}"


def source_note(source: str) -> Text | None:
    """A small on-screen note when the digits are not real MNIST."""
    if source != "synthetic":
        return None
    return small_text("synthetic digits", color=theme.ACCENT)


def place_note(note: Mobject | None) -> None:
    """Park a source note in the top-right corner, above the titles' margin line (clear
    of the titles below it and of the captions several scenes put along the bottom)."""
    if note is not None:
        note.to_corner(UP + RIGHT, buff=0).shift(0.06 * DOWN + 0.2 * LEFT)


__all__ = [
    "GrayImage",
    "Tile",
    "fixed",
    "gray_uint8",
    "heading",
    "loop_times",
    "number",
    "table",
    "sig_tex",
    "trimmed",
    "image_mobject",
    "place_note",
    "set_pixels",
    "shown_gray",
    "small_text",
    "source_note",
    "to_numpy",
]
