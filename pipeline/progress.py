"""Progress of a run, as stages and per-segment states; the CLI's rich display is one sink."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Progress sink; the CLI's rich display implements it."""

    def stage(self, name: str) -> None: ...
    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        """``frames``: the segment's total when "queued", "cached" or "done"; frames
        written so far while "rendering"."""


class SilentReporter:
    def stage(self, name: str) -> None:
        pass

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        pass
