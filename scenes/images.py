"""Tensor → picture helpers shared by the MNIST and statistics scenes.

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
    RESAMPLING_ALGORITHMS,
    RIGHT,
    Group,
    ImageMobject,
    Mobject,
    Rectangle,
    Text,
)

from scenes import theme

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


def small_text(text: str, color: Any = theme.MUTED, size: int = theme.SIZE_SMALL) -> Text:
    return Text(text, font=theme.FONT, font_size=size, color=color)


def source_note(source: str) -> Text | None:
    """A small on-screen note when the digits are not real MNIST."""
    if source != "synthetic":
        return None
    return small_text("synthetic digits (MNIST not available)", color=theme.ACCENT)


def place_note(note: Mobject | None) -> None:
    """Park a source note in the bottom-right corner, inside the margin."""
    if note is not None:
        note.to_corner(DOWN + RIGHT, buff=theme.MARGIN)


__all__ = [
    "GrayImage",
    "Tile",
    "gray_uint8",
    "image_mobject",
    "place_note",
    "set_pixels",
    "shown_gray",
    "small_text",
    "source_note",
    "to_numpy",
]
