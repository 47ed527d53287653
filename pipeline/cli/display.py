"""What the commands print: live progress bars, the run summary, the check table, and
warnings as one line each. ``pipeline.api`` prints through the same functions."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from pipeline.cli.reports import CacheInfo, CheckedLecture
    from pipeline.lecture import LectureResult
    from pipeline.planning.plan import SegmentPlan
    from pipeline.records import TakeRow
    from pipeline.youtube.course import Outcome

STATUS_ENV = "LECTURE_STATUS_FILE"


class RichReporter:
    """A lecture-wide bar in frames, and one bar per segment. With ``LECTURE_STATUS_FILE``
    set, each stage entered is appended to that file as one line."""

    LABELS = {
        "cached": "[green]cached", "done": "[green]rendered", "rendering": "[yellow]rendering",
        "queued": "[dim]queued", "narration": "[dim]narration",
    }

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall = progress.add_task("planning", total=None)
        self.rows: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def stage(self, name: str) -> None:
        self.progress.update(self.overall, description=f"[bold]{name}")
        status = os.environ.get(STATUS_ENV)
        if status:
            with open(status, "a", encoding="utf-8") as fh:
                fh.write(f"{name}\n")

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        if seg_id not in self.rows:
            self.rows[seg_id] = self.progress.add_task(f"  {seg_id}", total=None)
        task = self.rows[seg_id]
        if state in ("queued", "cached", "done"):
            self.totals[seg_id] = frames
            self.progress.update(self.overall, total=sum(self.totals.values()))
            self.progress.update(task, total=frames)
        if state in ("cached", "done"):
            frames = self.totals[seg_id]
        if state in ("rendering", "cached", "done"):
            self.done[seg_id] = frames
            self.progress.update(task, completed=frames)
            self.progress.update(self.overall, completed=sum(self.done.values()))
        self.progress.update(task, description=f"  {seg_id} {self.LABELS.get(state, state)}")

    def takes(self, rows: Sequence[TakeRow]) -> None:
        takes_table(self.progress.console, rows)


@contextmanager
def live_progress(console: Console) -> Iterator[RichReporter]:
    """Bars on a terminal or in a notebook; logs and CI get the summary only."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
        disable=not (console.is_terminal or console.is_jupyter),
    ) as progress:
        yield RichReporter(progress)


def say(console: Console, text: str) -> None:
    """One plain line (no markup or highlighting of paths and numbers)."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


def warn(console: Console, text: str) -> None:
    console.print(f"[yellow]warning:[/] {_escape(text)}", highlight=False, soft_wrap=True)


def problem(console: Console, label: str, text: str) -> None:
    """The one line of a failed command: ``error: ...``, ``failed: ...``, ``busy: ...``."""
    console.print(f"[red]{label}:[/] {_escape(text)}", highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def say_waiting(console: Console, folder: Path) -> Callable[[str], None]:
    def waiting(holder: str) -> None:
        say(console, f"waiting: another render (pid {holder}) is writing {folder}; it will "
            "continue when that one finishes (--no-wait to stop instead)")
    return waiting


def summary(console: Console, result: LectureResult, elapsed: float) -> None:
    table = Table(title=f"{result.out_dir}", show_lines=False)
    for col in ("#", "segment", "duration", "narration", "render"):
        table.add_column(col)
    for p in result.plans:
        take = p.narration.take
        draft = take is not None and take.transcript_source == "recogniser"
        table.add_row(
            f"{p.index:02d}", p.spec.id, f"{p.timing.duration:6.2f} s",
            p.narration.source + (" (draft captions)" if draft else ""),
            "cache" if p.spec.id in result.cached else "rendered",
        )
    console.print(table)
    rows = result.record.takes if result.record is not None and result.record.takes else []
    if rows:
        takes_table(console, rows)
    sources: dict[str, int] = {}
    for p in result.plans:
        sources[p.narration.source] = sources.get(p.narration.source, 0) + 1
    loud = result.loudness
    say(console,
        f"{len(result.plans)} segments, {result.duration:.1f} s of video, narration "
        + ", ".join(f"{n} {s}" for s, n in sources.items())
        + f"; {len(result.rendered)} rendered, {len(result.cached)} cache hits; "
        + (f"{loud.integrated_lufs:.1f} LUFS, {loud.true_peak_dbtp:.1f} dBTP; " if loud else "")
        + f"{elapsed:.1f} s"
        + ("" if result.assembled else "; outputs up to date, nothing redone"))
    voices = sorted({p.narration.detail for p in result.plans
                     if p.narration.source in ("piper", "espeak")})
    for v in voices:
        say(console, f"synthetic voice: {v}")
    caption_holds(console, result.plans)


def caption_holds(console: Console, plans: Sequence[SegmentPlan]) -> None:
    """One line per segment held longer for its captions: how long, and why."""
    for p in plans:
        if p.timing.caption_need > 0:
            say(console, f"segment {p.spec.id}: held {p.timing.caption_hold:.1f} s after its "
                f"speech for its captions ({p.caption_reason()})")


_SOURCES = {"script": "script", "transcript": "transcript", "recogniser": "draft"}


def takes_table(console: Console, rows: Sequence[TakeRow]) -> None:
    """The takes table: one row a recorded take (its format, seconds after trimming,
    speech loudness in LUFS before and after levelling, words of its text found, where
    its captions come from: the script, a transcript or a recogniser draft, and whether
    it is off its text, clipped or noisy), then one line naming the takes whose
    captions are recogniser drafts."""
    table = Table(title="takes", box=box.SIMPLE_HEAD, pad_edge=False)
    numbers = ("secs", "LUFS", "after", "words")
    for col in ("segment", "format", *numbers, "captions", "notes"):
        table.add_column(col, justify="right" if col in numbers else "left",
                         no_wrap=col not in ("segment", "notes"), overflow="fold")
    for r in rows:
        notes = [x for x, on in (("off-script", r.off_script), ("clipped", r.clipped),
                                 ("noisy", r.noisy)) if on]
        table.add_row(
            r.segment, _format(r), f"{r.duration:.1f}", _lufs(r.speech_lufs),
            _lufs(r.levelled_lufs), f"{r.words_found}/{r.words_expected}",
            _SOURCES.get(r.transcript_source, r.transcript_source), ", ".join(notes) or "-")
    console.print(table)
    drafts = [r.segment for r in rows if r.transcript_source == "recogniser"]
    if drafts:
        say(console, f"captions of {len(drafts)} take{'' if len(drafts) == 1 else 's'} are "
            f"recogniser drafts ({', '.join(drafts)}): each warning names the draft to "
            "correct and the transcript file to save it as")


def _format(r: TakeRow) -> str:
    """``"clip 44.1 kHz mono mp3"`` -> ``"mp3 44.1k mono"``."""
    parts = r.format.removeprefix("clip ").split()
    if len(parts) == 4 and parts[1] == "kHz":
        return f"{parts[3]} {parts[0]}k {parts[2]}"
    return " ".join(parts) or Path(r.file).suffix.lstrip(".")


def _lufs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def check_table(console: Console, checked: CheckedLecture) -> None:
    """``lecture check``: one row per segment, then one line for the lecture."""
    q = checked.quality
    table = Table(title=f"{checked.source} ({q.width}x{q.height}@{q.fps})", show_lines=False)
    numbers = ("duration", "caption hold", "frames", "beats")
    for col in ("#", "segment", "narration", *numbers):
        table.add_column(col, justify="right" if col in numbers else "left")
    for p in checked.plans:
        hold = p.timing.caption_hold
        table.add_row(f"{p.index:02d}", p.spec.id, p.narration.source,
                      f"{p.timing.duration:6.2f} s", f"{hold:.2f} s" if hold else "-",
                      str(p.timing.frames), str(len(p.timing.beat_frames)))
    console.print(table)
    if checked.takes:
        takes_table(console, checked.takes)
    caption_holds(console, checked.plans)
    total = sum(p.timing.duration for p in checked.plans)
    n = len(checked.plans)
    say(console, f"{n} segment{'' if n == 1 else 's'}, {total:.1f} s of video; inputs are "
        f"valid (assembly key {checked.assembly_key}); nothing rendered")


def cache_report(console: Console, info: CacheInfo) -> None:
    """``lecture cache info``."""
    used = f"{100 * info.size / info.cap:.0f}% of the cap" if info.cap else "cap 0"
    lines = [
        f"location: {info.location}",
        f"entries: {info.entries} renders, {size_text(info.size)} "
        f"(cap {size_text(info.cap)}, {used})",
    ]
    if info.incomplete:
        lines.append(f"incomplete: {info.incomplete} files (removed by the next prune)")
    if info.parts_size:
        lines.append(f"assembly parts: {size_text(info.parts_size)} (not counted in the cap)")
    if info.oldest is not None and info.newest is not None:
        lines.append(f"last used: {_date(info.oldest)} (least recent) to "
                     f"{_date(info.newest)} (most recent)")
    for line in lines:
        say(console, line)


def size_text(n: int) -> str:
    """Bytes in the units of ``--cache-max-size`` (K, M, G, T: powers of 1024)."""
    value, unit = float(n), "B"
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            break
        value /= 1024
    return f"{n} B" if unit == "B" else f"{value:.1f}{unit}"


def _date(stamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


class LineHandler(logging.Handler):
    """Warnings as one line each. The pipeline's (a discarded cache entry, a wait for
    another run) print at once; Python ``warnings`` from the libraries (a take with no
    pauses found, ...) are held and printed after a run, so a bad-input exit stays one
    line."""

    def __init__(self, console: Console, *, hold: bool = False) -> None:
        super().__init__(logging.WARNING)
        self.console = console
        self.hold = hold
        self.held: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.name == "py.warnings":  # "file:line: Category: message\n  source line"
            text = text.strip().splitlines()[0]
            text = text.split(": ", 2)[-1] if text.count(": ") >= 2 else text
        if self.hold:
            self.held.append(text)
        else:
            warn(self.console, text)

    def flush_held(self) -> None:
        for text in dict.fromkeys(self.held):
            warn(self.console, text)
        self.held.clear()


def log_to(console: Console) -> LineHandler:
    """Route the pipeline's warnings (at once) and Python's (held) to ``console``;
    returns the holding handler, to flush after a run that succeeded."""
    log = logging.getLogger("pipeline")
    for h in list(log.handlers):
        if isinstance(h, LineHandler):
            log.removeHandler(h)
    log.addHandler(LineHandler(console))
    log.propagate = False
    logging.captureWarnings(True)
    py = logging.getLogger("py.warnings")
    for h in list(py.handlers):
        if isinstance(h, LineHandler):
            py.removeHandler(h)
    held = LineHandler(console, hold=True)
    py.addHandler(held)
    py.propagate = False
    return held


def stdout_console(like: Console) -> Console:
    """A console on standard output for a command's result (a table, a listing), drawn
    like ``like`` (a notebook stays a notebook)."""
    return Console(force_jupyter=like.is_jupyter or None, highlight=False)


@contextmanager
def transfer_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """An upload's bar per lecture: bytes, rate and time left (on a terminal or in a
    notebook, as the render bars); yields ``on_bytes(lecture, done, total)``."""
    from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=True,
        disable=not (console.is_terminal or console.is_jupyter),
    ) as progress:
        rows: dict[str, TaskID] = {}

        def on_bytes(lecture: str, done: int, total: int) -> None:
            if lecture not in rows:
                rows[lecture] = progress.add_task(f"uploading {lecture}", total=total)
            progress.update(rows[lecture], completed=done, total=total)

        yield on_bytes


def publish_summary(console: Console, outcomes: Sequence[Outcome], elapsed: float) -> None:
    """``lecture publish youtube``: one line per lecture, with the video's address."""
    for o in outcomes:
        if not o.sent:
            say(console, f"{o.lecture}: up to date on YouTube ({o.url}); nothing sent")
            continue
        upload = ""
        if o.uploaded:
            upload = f"; {size_text(o.uploaded)} uploaded"
        say(console, f"{o.lecture}: {o.url} ({', '.join(o.sent)}{upload})")
        if o.replaced:
            say(console, f"{o.lecture}: the new upload replaces video {o.replaced}, which is "
                "still on YouTube: delete it there if you no longer want it")
    say(console, f"{len(outcomes)} lecture{'s' if len(outcomes) != 1 else ''}; {elapsed:.1f} s")
