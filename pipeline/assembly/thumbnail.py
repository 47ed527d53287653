"""The YouTube thumbnail: a frame of the lecture with its title, composed with moviepy."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image

from pipeline import media

SIZE = (1280, 720)
MAX_BYTES = 2 * 1024 * 1024
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)


def _font() -> str | None:
    return next((f for f in FONT_FILES if Path(f).exists()), None)


def make_thumbnail(video: Path, seconds: float, title: str, dst: Path) -> Path:
    """Write a 1280x720 PNG under 2 MB and return its path."""
    from moviepy import ColorClip, CompositeVideoClip, ImageClip, TextClip

    with tempfile.TemporaryDirectory() as tmp:
        frame_png = Path(tmp) / "frame.png"
        media.extract_frame(video, seconds, frame_png)
        base = ImageClip(str(frame_png)).resized(SIZE).with_duration(1)
        band_h = 170
        band = (
            ColorClip(size=(SIZE[0], band_h), color=(10, 14, 24))
            .with_opacity(0.88)
            .with_position((0, SIZE[1] - band_h))
            .with_duration(1)
        )
        text = (
            TextClip(
                font=_font(), text=title, font_size=58, color="white", method="caption",
                size=(SIZE[0] - 100, band_h - 30), text_align="center",
            )
            .with_position(("center", SIZE[1] - band_h + 15))
            .with_duration(1)
        )
        comp = CompositeVideoClip([base, band, text], size=SIZE)
        comp.save_frame(str(dst), t=0)
        comp.close()
        base.close()
    if dst.stat().st_size > MAX_BYTES:  # busy (noisy) frames: a 256-colour palette PNG
        Image.open(dst).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(
            dst, optimize=True
        )
    return dst
