"""The studio's one worker: it builds the preview and runs the buttons' jobs, one at a
time, and keeps what the pages are shown.

A job is ``preview`` (the lecture at preview quality, published under ``<out>/.studio``
through :func:`pipeline.lecture.build_lecture`: the same planning, render cache, lock
and atomic switch as ``lecture render``), ``render`` (the same at the manifest's quality
into ``<out>``) or one of the actions the command line hands in (``check``, ``slides``,
``publish``). Changes that arrive during a job queue one more ``preview``; a job asked
for twice waits once.

Failures become the line the command line prints (``error: ...``, ``failed: ...``); the
last good preview stays. Stopping (Ctrl-C, the stop button) sets the job's cancel flag,
which the reporter turns into :class:`pipeline.studio.events.Cancelled` at the next safe
point, and ends the render children this job started, so the orchestrator's own clean-up
runs: no staging folder stays and the lock is released.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from audio.clips import NarrationError
from audio.sources import remember_sentences
from pipeline.lecture import LectureResult, build_lecture
from pipeline.lock import LockBusy
from pipeline.options import RenderOptions
from pipeline.planning.manifest import InputError, LectureSpec
from pipeline.planning.plan import SegmentPlan, plan_lecture
from pipeline.progress import Reporter
from pipeline.publish import store_of
from pipeline.rendering.executors import LectureRequest
from pipeline.rendering.renderer import LocalRenderer
from pipeline.studio.events import Cancelled, Hub, StudioReporter
from pipeline.studio.sources import Sources, lecture_sources
from pipeline.studio.view import Waveforms, lecture_view

log = logging.getLogger("pipeline.studio")
LOG_LINES = 200  # lines of an action's output kept for a page that opens later
SENTENCES_KEPT = 64  # synthetic sentences kept in memory (about 1 MB each): an edit speaks its own
#: an action writes its lines through the callable it is given and returns a summary
Action = Callable[[Callable[[str], None]], str]


class ActionFailed(RuntimeError):
    """An action failed and its message is already the line to show."""


def failure_line(exc: BaseException) -> str:
    """The one line ``lecture`` prints for this failure (``pipeline.cli.app``)."""
    if isinstance(exc, ActionFailed):
        return str(exc)
    if isinstance(exc, LockBusy):
        return f"busy: {exc}"
    if isinstance(exc, (InputError, NarrationError)):
        return f"error: {exc}"
    return f"failed: {exc}"


class WarmRenderer(LocalRenderer):
    """The local renderer, but the voice model stays loaded between builds: an edited
    sentence is spoken without loading the model again first."""

    def plan(self, spec: LectureSpec, opts: RenderOptions, source: str,
             reporter: Reporter) -> list[SegmentPlan]:
        return plan_lecture(spec, opts, source=source, reporter=reporter, keep_voices=True)


@dataclass
class Setup:
    """What the command line hands the studio."""

    toml: Path
    takes: Path | None
    load_preview: Callable[[], LectureRequest]  # the lecture at preview quality
    load_full: Callable[[], LectureRequest]  # the lecture at its own quality
    actions: dict[str, Action] = field(default_factory=dict)  # check, slides, publish

    @property
    def jobs(self) -> list[str]:
        return ["preview", "render", *self.actions]


@dataclass
class Shown:
    """What the pages are shown (replaced whole, read without a lock)."""

    preview: dict[str, Any] | None = None
    folder: Path | None = None  # the published preview's version folder
    waveform: dict[str, Any] | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    last: dict[str, Any] | None = None  # the last job that ended
    log: list[str] = field(default_factory=list)


class _Warnings(logging.Handler):
    """The pipeline's warnings during one job (shown in the page as the CLI prints them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(" ".join(record.getMessage().split()))


class Session:
    def __init__(self, setup: Setup, hub: Hub,
                 on_sources: Callable[[Sources], None] = lambda s: None) -> None:
        self.setup, self.hub, self.on_sources = setup, hub, on_sources
        self.shown = Shown()
        self.job: str | None = None
        self.pending: list[str] = []
        self.preview_store: Path | None = None
        self.waveforms = Waveforms()
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._closing = False
        self._known_children: set[int] = set()
        self._thread = threading.Thread(target=self._loop, name="studio-worker", daemon=True)
        remember_sentences(SENTENCES_KEPT)

    # ------------------------------------------------------------ control
    def start(self) -> None:
        self._thread.start()
        self.request("preview")

    def request(self, job: str) -> bool:
        """Queue ``job`` (once); False for a job this studio does not have."""
        if job not in self.setup.jobs:
            return False
        with self._cond:
            if job not in self.pending and not self._closing:
                self.pending.append(job)
                self._cond.notify()
        self.hub.publish("queue", {"pending": list(self.pending), "job": self.job})
        return True

    def stop_job(self) -> None:
        """Stop the job that runs (its outputs stay as they were)."""
        self._cancel.set()
        self._end_children()

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Stop the running job, drop the queue, wait for the worker; True if it ended."""
        with self._cond:
            self._closing = True
            self.pending.clear()
            self._cond.notify()
        self.stop_job()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def state(self) -> dict[str, Any]:
        s = self.shown
        return {"preview": s.preview, "waveform": s.waveform, "error": s.error,
                "warnings": s.warnings, "last": s.last, "log": s.log[-LOG_LINES:],
                "job": self.job, "pending": list(self.pending), "jobs": self.setup.jobs}

    # ------------------------------------------------------------ the worker
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self.pending and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                job = self.pending.pop(0)
                self.job = job
                self._cancel = threading.Event()
            self._known_children = set(_children(os.getpid()))
            try:
                self._run(job)
            finally:
                self.job = None
                self.hub.publish("queue", {"pending": list(self.pending), "job": None})

    def _run(self, job: str) -> None:
        t0 = time.perf_counter()
        self.hub.publish("job", {"job": job, "state": "started"})
        catcher = _Warnings()
        for name in ("pipeline", "audio"):
            logging.getLogger(name).addHandler(catcher)
        outcome: dict[str, Any] = {"job": job, "ok": False}
        try:
            outcome |= self._dispatch(job)
            outcome["ok"] = True
            if job in ("preview", "render"):
                self.shown.error = None
        except Cancelled:
            outcome["stopped"] = True
        except Exception as exc:  # every failure is shown as the CLI's one line
            log.debug("studio job %s failed", job, exc_info=True)
            outcome["error"] = failure_line(exc)
            self.shown.error = outcome["error"]
        finally:
            for name in ("pipeline", "audio"):
                logging.getLogger(name).removeHandler(catcher)
        outcome["seconds"] = round(time.perf_counter() - t0, 3)
        outcome["warnings"] = catcher.lines
        outcome["finished"] = time.time()
        if job == "preview":
            self.shown.warnings = catcher.lines
        self.shown.last = outcome
        self.hub.publish("done", outcome)
        if job == "preview" and outcome["ok"] and self.shown.waveform is None:
            self._waveform()

    def _dispatch(self, job: str) -> dict[str, Any]:
        if job == "preview":
            return self._preview()
        if job == "render":
            req = self.setup.load_full()
            result = self._build(req, "render")
            return {"rendered": result.rendered, "out": str(result.out_dir)}
        lines = self.shown.log
        lines.clear()

        def say(line: str) -> None:
            if self._cancel.is_set():
                raise Cancelled
            lines.append(line)
            self.hub.publish("log", {"job": job, "line": line})

        return {"summary": self.setup.actions[job](say)}

    def _preview(self) -> dict[str, Any]:
        spec = None
        try:
            req = self.setup.load_preview()
            spec = req.spec
        finally:  # a TOML that does not load keeps the files watched so far
            if spec is not None or self.preview_store is None:
                self.on_sources(lecture_sources(self.setup.toml, spec, self.setup.takes))
        self.preview_store = store_of(req.opts.out_root, req.spec.id)
        result = self._build(req, "preview")
        assert result.record is not None
        folder = result.out_dir.resolve()
        changed = folder != self.shown.folder
        states = {sid: "rendered" for sid in result.rendered}
        view = lecture_view(result.record, {s.id: s.narration for s in req.spec.segments},
                            folder.name, states)
        self.shown.preview, self.shown.folder = view, folder
        if changed:
            self.shown.waveform = None
        self.hub.publish("preview", {"version": folder.name, "changed": changed,
                                     "rendered": result.rendered})
        return {"version": folder.name, "rendered": result.rendered,
                "assembled": result.assembled}

    def _build(self, req: LectureRequest, job: str) -> LectureResult:
        """``build_lecture``; while another run holds the lecture, wait (stoppably)."""
        reporter = StudioReporter(self.hub, job, self._cancel)
        opts = replace(req.opts, wait=False)
        while True:
            try:
                return build_lecture(req.spec, opts, source=req.source, reporter=reporter,
                                     renderer=WarmRenderer())
            except LockBusy as exc:
                self.hub.publish("progress", {"job": job, "stage": f"waiting: {exc}"})
                if self._cancel.wait(1.0):
                    raise Cancelled from None

    def _waveform(self) -> None:
        folder, record_view = self.shown.folder, self.shown.preview
        if folder is None or record_view is None:
            return
        from pipeline.records import RecordError, read_record

        try:
            record = read_record(folder / "manifest.json")
            wave = self.waveforms.lecture(folder, record)
        except (RecordError, OSError, ValueError) as exc:  # a version deleted meanwhile
            log.debug("waveform of %s: %s", folder, exc)
            return
        wave["version"] = folder.name
        self.shown.waveform = wave
        self.hub.publish("waveform", {"version": folder.name})

    def _end_children(self) -> None:
        """End the processes this job started (render and ffmpeg children), not others:
        only those in this session that were not there when the job began (a browser the
        studio opened runs in a session of its own)."""
        mine = os.getsid(0)
        for pid in _children(os.getpid()):
            if pid in self._known_children:
                continue
            for p in [pid, *_descendants(pid)]:
                try:
                    if os.getsid(p) == mine:
                        os.kill(p, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    continue


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``; none elsewhere)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found
