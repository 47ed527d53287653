"""The orchestrator: a lecture spec becomes a published lecture, one stage after another.

1. **Planning** (:mod:`pipeline.planning.plan`): narration, timing and the render job of
   every segment, then the assembly key (:mod:`pipeline.assembly.parts`). When
   ``manifest.json`` holds the same key and every output is still there, nothing else runs.
2. **Rendering** (:mod:`pipeline.rendering.render_queue`): silent scene renders, one manim
   subprocess per job, reused from the cache when the key matches.
3. **Assembly** (:mod:`pipeline.assembly.build`): narration track, lecture and segment
   clips, captions, chapters, thumbnail and the record, into a staging folder.
4. **Publishing** (:mod:`pipeline.publish`): one writer at a time, the new set switched in
   at once.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline import media
from pipeline.assembly import parts
from pipeline.assembly.build import assemble
from pipeline.assembly.lecture_record import published_gain, take_rows, up_to_date
from pipeline.options import RenderOptions
from pipeline.planning import preflight
from pipeline.planning.manifest import InputError, LectureSpec
from pipeline.planning.plan import SegmentPlan, select_segments
from pipeline.progress import Reporter, SilentReporter
from pipeline.publish import LectureWriter
from pipeline.records import LectureRecord, LoudnessRecord, TakeRow
from pipeline.rendering import housekeeping
from pipeline.rendering.executors import Executor, LectureRequest, row_name
from pipeline.rendering.renderer import LocalRenderer, Renderer

log = logging.getLogger("pipeline")



@dataclass
class LectureResult:
    out_dir: Path
    plans: list[SegmentPlan]
    rendered: list[str] = field(default_factory=list)  # segment ids rendered this run
    cached: list[str] = field(default_factory=list)  # segment ids taken from the cache
    loudness: LoudnessRecord | None = None
    duration: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    record: LectureRecord | None = None  # what manifest.json holds
    assembled: bool = True  # False: the outputs were up to date, nothing was written


def build_lecture(
    spec: LectureSpec, opts: RenderOptions, *, source: str = "config",
    reporter: Reporter | None = None, renderer: Renderer | None = None,
) -> LectureResult:
    """Plan, render what changed, assemble, publish. ``renderer`` runs stages 1 and 2
    (planning and rendering) elsewhere, e.g. on a Dask cluster; by default they run here."""
    reporter = reporter or SilentReporter()
    renderer = renderer or LocalRenderer()
    spec = check_inputs(spec, opts, source)
    # Planning reads inputs only (and fills the speech cache): bad input fails here,
    # before the lecture's lock, so it never waits for another run.
    t0 = time.perf_counter()
    reporter.stage("planning")
    plans = renderer.plan(spec, opts, source, reporter)
    rows = take_rows(plans)
    if rows:
        reporter.takes(rows)
    key = parts.assembly_key(spec, plans, opts.quality)
    out_dir = opts.out_root / spec.id / ("only" if opts.only else "")
    timings = {"plan": time.perf_counter() - t0}

    with LectureWriter(opts.out_root, spec.id, wait=opts.wait, on_wait=_waiting(opts),
                       on_stage=reporter.stage) as writer, \
            housekeeping.using_cache(opts.cache_dir):
        # Checked under the lock: a run in progress may be about to publish another set.
        current = up_to_date(out_dir, key)
        if current is not None:
            for p in plans:
                reporter.segment(p.spec.id, "cached", p.timing.frames)
            return _result(out_dir, plans, current, [], [p.spec.id for p in plans],
                           assembled=False, timings=timings)
        reporter.stage("rendering")
        t1 = time.perf_counter()
        videos, rendered, hits = renderer.render(plans, opts, reporter)
        timings["render"] = time.perf_counter() - t1
        reporter.stage("assembling")
        stage_dir = _staging(writer, opts)
        t2 = time.perf_counter()
        record = assemble(spec, plans, videos, opts, reporter, stage_dir,
                          prefer_gain_db=published_gain(out_dir))
        timings["assemble"] = time.perf_counter() - t2
        record = record.model_copy(update={
            "assembly_key": key, "timings": {**timings, **record.timings},
            "rendered": rendered, "cached": hits,
        })
        record.write(stage_dir / "manifest.json")
        writer.commit(stage_dir.parent if opts.only else stage_dir, carry_slides=not opts.only)
    housekeeping.auto_prune(opts.cache_dir, opts.cache_max_bytes)
    return _result(out_dir, plans, record, rendered, hits, assembled=True,
                   timings=record.timings)


def check_inputs(spec: LectureSpec, opts: RenderOptions, source: str) -> LectureSpec:
    """Tools, clip names and ``--strict`` rules; the lecture cut to ``--only``."""
    media.require_tools()
    preflight.check_clip_names(opts.narration_dir, [s.id for s in spec.segments], source,
                               strict=opts.strict)
    spec = select_segments(spec, opts.only, source)
    if opts.strict:
        preflight.require_clips(spec, opts.narration_dir, source)
    return spec


def _staging(writer: LectureWriter, opts: RenderOptions) -> Path:
    """The folder assembly writes into: a fresh staging set, or ``only/`` inside a copy
    of the published one for ``--only``."""
    if not opts.only:
        return writer.stage()
    target = writer.derive() / "only"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    return target


def _waiting(opts: RenderOptions) -> Callable[[str], None]:
    def say(holder: str) -> None:
        log.warning("%s: another render (pid %s) is writing this lecture; waiting for it "
                    "(--no-wait to stop instead)", opts.out_root, holder)
    return say


def _result(out_dir: Path, plans: list[SegmentPlan], record: LectureRecord,
            rendered: list[str], cached: list[str], *, assembled: bool,
            timings: dict[str, float]) -> LectureResult:
    return LectureResult(
        out_dir=out_dir, plans=plans, rendered=rendered, cached=cached, record=record,
        assembled=assembled, duration=record.duration, timings=dict(timings),
        loudness=record.loudness,
    )


def render_lectures(
    lectures: Sequence[LectureRequest], executor: Executor, reporter: Reporter | None = None,
) -> list[LectureResult]:
    """Render several lectures in one submission; assemble each as its renders land.

    Lectures share the executor's workers and cache: a segment two of them have in
    common (same render key) is rendered once.
    """
    reporter = reporter or SilentReporter()
    if len(lectures) > 1 and any(lec.opts.only for lec in lectures):
        raise InputError("--only: give one lecture with --only, not several")
    lectures = [replace(lec, spec=select_segments(lec.spec, lec.opts.only, lec.source))
                for lec in lectures]
    ids = [lec.spec.id for lec in lectures]
    if len(set(ids)) != len(ids):
        raise InputError(f"--lectures: a lecture is named twice ({', '.join(ids)})")
    many = len(lectures) > 1
    reporter.stage("planning")
    executor.submit(lectures, reporter)
    renderer = executor.renderer()
    return [
        build_lecture(lec.spec, lec.opts, source=lec.source, renderer=renderer,
                      reporter=_Prefixed(reporter, lec.spec.id) if many else reporter)
        for lec in lectures
    ]


class _Prefixed:
    """A reporter for one of several lectures: rows and stages carry the lecture id."""

    def __init__(self, inner: Reporter, lecture: str) -> None:
        self.inner, self.lecture = inner, lecture

    def stage(self, name: str) -> None:
        self.inner.stage(f"{self.lecture}: {name}")

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        self.inner.segment(row_name(self.lecture, seg_id, True), state, frames)

    def takes(self, rows: Sequence[TakeRow]) -> None:
        self.inner.takes(rows)
