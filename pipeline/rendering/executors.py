"""Where scenes render: on this machine, or on a Dask cluster.

``render.py --executor`` picks one:

* ``local`` (default): today's engine; narration here, then one manim subprocess per
  segment in a thread pool (``--jobs``), cached in ``<out>/.cache``.
* ``dask://HOST:PORT``: an existing Dask scheduler (``dask scheduler`` plus
  ``dask worker`` processes on any machines that have this project installed).
* ``dask-local[:N]``: a ``distributed.LocalCluster`` of N single-threaded worker
  processes on this machine (default: one per core), to try the cluster path.

On Dask, every segment is two tasks. Its narration (speech synthesis, or the analysis
of a recorded clip whose bytes are sent along) runs on a worker; as each one lands, the
client plans the segment's timing from the narration's duration and submits the render
job, whose Dask key is ``render-<cache key>``. So renders start while other narrations
are still being made, and the scheduler itself deduplicates: a key already pending or
running for any client (another lecture, another user) is joined, not run again. Before
submitting, the client looks the key up in the shared store (``--cache URL``,
:mod:`pipeline.rendering.store`) and submits nothing for an entry that is already there.

Workers write entries atomically; the client verifies every entry before assembling
(:meth:`pipeline.rendering.store.RenderStore.fetch`). A worker that dies mid-render is replaced
and its task rescheduled by Dask (up to ``distributed.scheduler.allowed-failures``
times); a scene that fails on its own fails the run once, naming the segment.
Assembly always runs on the client.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from audio.clips import find_clip
from audio.narration import Narration, find_transcript, resolve_narration
from pipeline.options import RenderOptions
from pipeline.planning.manifest import InputError, LectureSpec
from pipeline.planning.plan import (
    CheckedScene,
    SegmentPlan,
    checked_scene,
    plan_one,
)
from pipeline.progress import Reporter, SilentReporter
from pipeline.rendering.author_files import AuthorFiles, TooLarge, pack
from pipeline.rendering.cluster_tasks import TOPIC, NarrationRequest, narrate, render_entry
from pipeline.rendering.renderer import Renderer
from pipeline.rendering.scene_render import RenderError, RenderJob
from pipeline.rendering.store import BadEntry, RenderStore


@dataclass(frozen=True)
class LectureRequest:
    spec: LectureSpec
    source: str  # where the spec came from, for error messages
    opts: RenderOptions  # its quality may differ from the other lectures'


class Executor(Protocol):
    """Runs stages 1 and 2 of :func:`pipeline.lecture.build_lecture` for many lectures."""

    def submit(self, lectures: Sequence[LectureRequest], reporter: Reporter) -> None:
        """Start work on every lecture (a no-op for executors that work on demand)."""

    def renderer(self) -> Renderer | None:
        """What :func:`~pipeline.lecture.build_lecture` plans and renders with (None: its
        own local engine)."""

    def close(self) -> None: ...


def parse_executor(text: str, opts: RenderOptions, cache: str | None) -> Executor:
    """The executor ``--executor`` names; bad values are :class:`InputError`."""
    if text == "local":
        return LocalExecutor()
    if text.startswith("dask://"):
        address = text.removeprefix("dask://")
        if ":" not in address:
            raise InputError(f"--executor: {text!r} needs a port, e.g. dask://scheduler:8786")
        return DaskExecutor.connect(f"tcp://{address}", _store(opts, cache))
    if text == "dask-local" or text.startswith("dask-local:"):
        n_text = text.partition(":")[2] or str(os.cpu_count() or 1)
        if not n_text.isdigit() or int(n_text) < 1:
            raise InputError(f"--executor: worker count in {text!r} must be a whole number >= 1")
        return DaskExecutor.local_cluster(int(n_text), _store(opts, cache))
    raise InputError(
        f"--executor: {text!r} is not one of local, dask://HOST:PORT, dask-local[:N]"
    )


def _store(opts: RenderOptions, cache: str | None) -> RenderStore:
    return RenderStore(cache) if cache else RenderStore.for_path(opts.cache_dir)


def row_name(lecture: str, seg_id: str, many: bool) -> str:
    """A progress row: ``<lecture>/<segment>`` when several lectures share the display."""
    return f"{lecture}/{seg_id}" if many else seg_id


# ---------------------------------------------------------------------- local
class LocalExecutor:
    """Today's engine: narration and planning here, manim subprocesses in a thread pool.

    Lectures run one after another on the shared cache, so a segment two lectures share
    renders once (the second finds it cached).
    """

    def submit(self, lectures: Sequence[LectureRequest], reporter: Reporter) -> None:
        return None

    def renderer(self) -> None:
        """The local engine plans and renders inside build_lecture, as it always has."""
        return None

    def close(self) -> None:
        return None


# ---------------------------------------------------------------------- dask
@dataclass
class _Segment:
    lecture: str
    index: int
    spec: Any  # SegmentSpec
    cls: CheckedScene  # beats and checked params from the catalog
    row: str  # the progress row
    narration: Any = None  # Future -> Narration
    plan: SegmentPlan | None = None
    render: Any = None  # Future -> RenderOutcome, None when the store had it


@dataclass
class _Batch:
    segments: dict[str, list[_Segment]] = field(default_factory=dict)  # lecture id -> segments


class DaskExecutor:
    """Stages 1 and 2 on a Dask cluster (see the module docstring)."""

    def __init__(self, client: Any, store: RenderStore, cluster: Any = None) -> None:
        self.client = client
        self.store = store
        self.cluster = cluster  # owned (dask-local), closed with the executor
        self.batch = _Batch()
        self.rows: dict[str, set[str]] = {}  # cache key -> progress rows showing it
        self.rendered_keys: set[str] = set()  # keys this run's tasks rendered
        self._reporter: Reporter = SilentReporter()
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, address: str, store: RenderStore) -> DaskExecutor:
        from distributed import Client

        try:
            client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise InputError(f"--executor: no Dask scheduler at {address}: {exc}") from None
        return cls(client, store)

    @classmethod
    def local_cluster(cls, n_workers: int, store: RenderStore) -> DaskExecutor:
        from distributed import Client, LocalCluster

        # Keep the scheduler's (in this process) and the workers' (children, configured
        # from the environment) INFO lines off the progress display.
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
        for name in list(logging.root.manager.loggerDict):
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.ERROR)
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        return cls(Client(cluster), store, cluster)  # type: ignore[no-untyped-call]

    def renderer(self) -> DaskExecutor:
        return self

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ submit
    def submit(self, lectures: Sequence[LectureRequest], reporter: Reporter) -> None:
        from distributed import as_completed

        self._reporter = reporter
        self.client.subscribe_topic(TOPIC, self._on_event)
        self.store.sweep()
        many = len(lectures) > 1
        waiting: dict[str, tuple[Any, list[tuple[_Segment, LectureRequest]]]] = {}
        for lec in lectures:
            spec = lec.spec
            segs = []
            for index, seg in enumerate(spec.segments, start=1):
                cls = checked_scene(spec, seg, lec.source, lec.opts.quality)
                s = _Segment(spec.id, index, seg, cls, row_name(spec.id, seg.id, many))
                reporter.segment(s.row, "narration")
                req = self._narration_request(spec, seg, lec.opts)
                if req.key not in waiting:  # the same narration twice is one task
                    fut = self.client.submit(narrate, req, key=req.key, retries=0)
                    waiting[req.key] = (fut, [])
                s.narration = waiting[req.key][0]
                waiting[req.key][1].append((s, lec))
                segs.append(s)
            self.batch.segments[spec.id] = segs
        try:
            for fut in as_completed([f for f, _ in waiting.values()]):  # type: ignore[no-untyped-call]
                got = fut.result()
                first = waiting[fut.key][1][0][0].spec
                original = Path(first.clip) if first.clip is not None else find_clip(
                    waiting[fut.key][1][0][1].opts.narration_dir, first.id)
                for message in got.warnings:  # a worker's warning, said here once
                    if got.scratch and original is not None:
                        message = message.replace(got.scratch, str(original))
                    warnings.warn(message, stacklevel=2)
                for s, lec in waiting[fut.key][1]:
                    self._plan_and_submit(s, got.narration, lec)
        except BaseException:
            self._cancel()
            raise

    def _narration_request(self, spec: LectureSpec, seg: Any,
                           opts: RenderOptions) -> NarrationRequest:
        clip = Path(seg.clip) if seg.clip is not None else find_clip(opts.narration_dir, seg.id)
        if clip is None and opts.strict:
            # No clip where one is required: the local resolver says so, naming the paths.
            resolve_narration(segment_id=seg.id, script=seg.narration, clip=None,
                              narration_dir=opts.narration_dir, strict=True,
                              cache_dir=opts.speech_cache, voice=spec.voice, wpm=spec.wpm)
        if clip is not None and not clip.is_file():
            # Same error as the local path gives for a missing explicit clip.
            resolve_narration(segment_id=seg.id, script=seg.narration, clip=clip,
                              cache_dir=opts.speech_cache, voice=spec.voice, wpm=spec.wpm)
        transcript = find_transcript(clip) if clip is not None else None
        return NarrationRequest(
            segment_id=seg.id, script=seg.narration, voice=spec.voice, wpm=spec.wpm,
            speech_cache=str(opts.speech_cache), strict=opts.strict,
            allow_clipped=opts.allow_clipped, allow_unaligned=opts.allow_unaligned,
            clip_name=clip.name if clip is not None else None,
            clip_bytes=clip.read_bytes() if clip is not None else None,
            transcript_name=transcript.name if transcript is not None else None,
            transcript_bytes=transcript.read_bytes() if transcript is not None else None,
        )

    def _plan_and_submit(self, s: _Segment, narration: Narration, lec: LectureRequest) -> None:
        opts = lec.opts
        if narration.source == "clip":
            # The worker read a scratch copy; the manifest names the author's file.
            seg = s.spec
            original = Path(seg.clip) if seg.clip is not None else find_clip(
                opts.narration_dir, seg.id)
            take = narration.take
            if take is not None and take.transcript is not None and original is not None:
                found = find_transcript(original)
                take = replace(take, transcript=str(found) if found else None)
            narration = replace(narration, path=original, take=take)
        s.plan = plan_one(lec.spec, s.index, s.spec, s.cls, narration, opts.quality, lec.source,
                          caption_hold_max=opts.caption_hold_max)
        job = s.plan.job
        frames = s.plan.timing.frames
        with self._lock:
            self.rows.setdefault(job.key, set()).add(s.row)
        if self.store.lookup(job.key, job.quality, frames):
            self._reporter_segment(s.row, "cached", frames)
            return
        files = self._author_files(job)
        self._reporter_segment(s.row, "queued", frames)
        s.render = self.client.submit(render_entry, job, self.store.url, files,
                                      key=f"render-{job.key}", retries=0)
        s.render.add_done_callback(lambda f, s=s: self._on_done(f, s))

    @staticmethod
    def _author_files(job: RenderJob) -> AuthorFiles | None:
        """An own scene's files travel with its task: workers need no shared disk."""
        if job.author is None:
            return None
        try:
            return pack(job.author, job.segment_id)
        except TooLarge as exc:  # the author's input: exit 2, one line
            raise InputError(str(exc)) from None

    # ------------------------------------------------------------------ collect
    def plan(self, spec: LectureSpec, opts: RenderOptions, source: str,
             reporter: Reporter) -> list[SegmentPlan]:
        """The lecture's plans (their renders are already submitted)."""
        if spec.id not in self.batch.segments:  # not submitted ahead: do it now
            self.submit([LectureRequest(spec, source, opts)], reporter)
        return [s.plan for s in self.batch.segments[spec.id] if s.plan is not None]

    def render(self, plans: Sequence[SegmentPlan], opts: RenderOptions,
               reporter: Reporter) -> tuple[dict[str, Path], list[str], list[str]]:
        """Wait for the plans' renders; verified local paths, rendered ids, cached ids."""
        # the segments these plans were made for (plans are the objects plan() returned)
        of_plan = {id(s.plan): s for lec in self.batch.segments.values() for s in lec}
        videos: dict[str, Path] = {}
        rendered: list[str] = []
        hits: list[str] = []
        try:
            for p in plans:
                s = of_plan[id(p)]
                key, frames = p.job.key, p.timing.frames
                if s.render is not None:
                    outcome = self._result(s)
                    if outcome.rendered:
                        self.rendered_keys.add(key)
                videos[p.spec.id] = self._verified(s, key, frames, opts)
                (rendered if s.render is not None else hits).append(p.spec.id)
        except BaseException:
            self._cancel()
            raise
        return videos, rendered, hits

    def _result(self, s: _Segment) -> Any:
        from distributed import KilledWorker

        assert s.plan is not None
        try:
            return s.render.result()
        except KilledWorker as exc:
            raise RenderError(
                f"segment {s.spec.id}: scene {s.spec.scene}: the workers running it died "
                f"too often ({exc})"
            ) from None

    def _verified(self, s: _Segment, key: str, frames: int, opts: RenderOptions) -> Path:
        assert s.plan is not None
        rec = self.store.lookup(key, s.plan.job.quality, frames)
        if rec is None:
            raise RenderError(f"segment {s.spec.id}: render cache entry {key} missing "
                              f"from {self.store.url} after its render")
        try:
            return self.store.fetch(key, rec, opts.cache_dir)
        except BadEntry as exc:
            raise RenderError(f"segment {s.spec.id}: {exc}") from None

    def _cancel(self) -> None:
        futures = [f for segs in self.batch.segments.values() for s in segs
                   for f in (s.narration, s.render) if f is not None]
        if futures:
            self.client.cancel(futures)

    # ------------------------------------------------------------------ progress
    def _reporter_segment(self, row: str, state: str, frames: int = 0) -> None:
        self._reporter.segment(row, state, frames)

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        _, msg = event
        with self._lock:
            rows = list(self.rows.get(msg.get("key", ""), ()))
        for row in rows:
            self._reporter_segment(row, str(msg.get("state", "rendering")),
                                   int(msg.get("frames", 0)))

    def _on_done(self, fut: Any, s: _Segment) -> None:
        if fut.status == "finished" and s.plan is not None:
            self._reporter_segment(s.row, "done", s.plan.timing.frames)

