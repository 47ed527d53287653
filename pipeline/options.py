"""What a render was asked for: the options every stage reads."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import paths
from pipeline.planning.manifest import Quality
from pipeline.rendering.cache import DEFAULT_MAX_BYTES

#: seconds a segment may be held past its speech so its captions can be read
CAPTION_HOLD_MAX = 30.0


@dataclass(frozen=True)
class RenderOptions:
    quality: Quality
    out_root: Path = field(default_factory=paths.default_out)  # ./output of the current folder
    narration_dir: Path | None = None
    jobs: int = max(1, os.cpu_count() or 1)
    strict: bool = False
    allow_clipped: bool = False  # under strict: a clipped take is only a warning
    allow_unaligned: bool = False  # under strict: an off-script take is only a warning
    only: tuple[str, ...] = ()
    speech_cache: Path = field(default_factory=paths.speech_cache)  # in the user cache
    wait: bool = True  # another run holds the lecture: wait (else LockBusy)
    cache_max_bytes: int = DEFAULT_MAX_BYTES
    cache_root: Path | None = None  # the render cache; default <out_root>/.cache
    caption_hold_max: float = CAPTION_HOLD_MAX  # --caption-hold-max

    @property
    def cache_dir(self) -> Path:
        return self.cache_root if self.cache_root is not None else self.out_root / ".cache"
