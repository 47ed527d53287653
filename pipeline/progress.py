"""Progress of a run, as stages and per-segment states; the CLI's rich display is one sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.records import TakeRow


class Reporter(Protocol):
    """Progress sink; the CLI's rich display implements it."""

    def stage(self, name: str) -> None: ...
    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        """``frames``: the segment's total when "queued", "cached" or "done"; frames
        written so far while "rendering"."""

    def takes(self, rows: Sequence[TakeRow]) -> None:
        """The takes table, once planning has analysed every recorded take."""


class SilentReporter:
    def stage(self, name: str) -> None:
        pass

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        pass

    def takes(self, rows: Sequence[TakeRow]) -> None:
        pass
