"""Who runs stages 1 and 2 (planning and rendering) for the orchestrator.

:class:`LocalRenderer` plans in this process and renders in a local thread pool of manim
subprocesses; a Dask executor (:mod:`pipeline.rendering.executors`) is another
:class:`Renderer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pipeline.options import RenderOptions
from pipeline.planning.manifest import LectureSpec
from pipeline.planning.plan import SegmentPlan, plan_lecture
from pipeline.progress import Reporter
from pipeline.rendering.render_queue import render_segments

Rendered = tuple[dict[str, Path], list[str], list[str]]  # videos, rendered ids, cached ids


class Renderer(Protocol):
    """Stages 1 and 2 run elsewhere, e.g. on a Dask cluster (``pipeline.rendering.executors``)."""

    def plan(self, spec: LectureSpec, opts: RenderOptions, source: str,
             reporter: Reporter) -> list[SegmentPlan]: ...

    def render(self, plans: Sequence[SegmentPlan], opts: RenderOptions,
               reporter: Reporter) -> Rendered: ...


class LocalRenderer:
    """Planning here, renders in a local thread pool of manim subprocesses."""

    def plan(self, spec: LectureSpec, opts: RenderOptions, source: str,
             reporter: Reporter) -> list[SegmentPlan]:
        return plan_lecture(spec, opts, source=source, reporter=reporter)

    def render(self, plans: Sequence[SegmentPlan], opts: RenderOptions,
               reporter: Reporter) -> Rendered:
        return render_segments(plans, opts, reporter)
