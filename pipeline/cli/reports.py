"""What ``lecture check`` and ``lecture cache info`` found, for the display and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.planning.manifest import LectureSpec, Quality
    from pipeline.planning.plan import SegmentPlan
    from pipeline.records import TakeRow


@dataclass(frozen=True)
class CheckedLecture:
    """What ``lecture check`` found: the plans a render would start from."""

    spec: LectureSpec
    source: str
    quality: Quality
    plans: list[SegmentPlan]
    assembly_key: str
    takes: list[TakeRow] = field(default_factory=list)  # one row a recorded take


@dataclass(frozen=True)
class CacheInfo:
    location: Path
    entries: int  # complete renders (a video and its record)
    size: int  # bytes under renders/, what the cap applies to
    cap: int
    incomplete: int  # temporary files, videos without a record, records without a video
    parts_size: int  # assembly parts (segment clips, thumbnails)
    oldest: float | None  # least recent last use
    newest: float | None
