"""Command line: ``python render.py`` / ``lecture-render``.

Exit status: 0 on success, 2 on bad input (one line naming the file, field or flag; a
traceback only with ``--verbose``), 1 when a render or an ffmpeg step fails, 3 when
``--no-wait`` finds another run writing the lecture, 130 when interrupted. Earlier
outputs stay whole in every failure case.

With ``LECTURE_STATUS_FILE`` set, each stage the run enters is appended to that file as
one line (``<stage>``), for monitoring and for the tests that interrupt runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from audio.clips import NarrationError
from pipeline.lock import LockBusy
from pipeline.planning import preflight
from pipeline.planning.manifest import QUALITIES, InputError, available_lectures, load_lecture
from pipeline.rendering.resources import default_jobs

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_BUSY, EXIT_INTERRUPT = 0, 1, 2, 3, 130
STATUS_ENV = "LECTURE_STATUS_FILE"


class _Parser(argparse.ArgumentParser):
    """Bad flags are bad input: one line, exit 2 (no usage block); with ``raise_errors``
    (``pipeline.api``) the same line is raised as ``InputError`` instead."""

    raise_errors = False

    def error(self, message: str) -> NoReturn:
        if self.raise_errors:
            raise InputError(f"{message} (see --help)")
        sys.stderr.write(f"error: {message} (see --help)\n")
        sys.exit(EXIT_INPUT)


def parser(raise_errors: bool = False) -> argparse.ArgumentParser:
    p = _Parser(
        prog="render.py",
        description="Render a narrated lecture: scenes timed to narration, YouTube-ready outputs.",
    )
    p.raise_errors = raise_errors
    p.add_argument("--lecture", default="forward-diffusion",
                   help="lecture id in config/ or a path to a .toml manifest")
    p.add_argument("--lectures", nargs="+", metavar="ID", default=None,
                   help="several lectures (ids or .toml paths) rendered in one submission, "
                   "sharing workers and cache")
    p.add_argument("--executor", default="local", metavar="WHERE",
                   help="local (default), dask://HOST:PORT (a running Dask scheduler) or "
                   "dask-local[:N] (a local Dask cluster of N worker processes)")
    p.add_argument("--cache", default=None, metavar="URL",
                   help="render cache: a folder or an fsspec URL (file:///shared/cache, "
                   "s3://bucket/cache); default OUT/.cache. Dask workers must all reach it")
    p.add_argument("--quality", choices=list(QUALITIES), default=None,
                   help="preview=854x480@15, 720p=@30, 1080p=@60, 4k=@60, tiny=256x144@15 for "
                   "tests (default: the manifest's)")
    p.add_argument("--only", nargs="+", metavar="ID", default=(),
                   help="render just these segments (written to output/<id>/only/)")
    p.add_argument("--narration-dir", type=Path, default=None,
                   help="folder of recorded clips named <segment-id>.{mp3,wav,m4a,ogg,flac}")
    p.add_argument("--voice", default=None, metavar="VOICE",
                   help="synthetic voice for segments without a recording: auto (Piper, else "
                   "espeak-ng, else silence), piper[:MODEL.onnx], espeak[:VOICE], silence "
                   "(default: the manifest's voice, normally auto)")
    p.add_argument("--jobs", type=int, default=None,
                   help="renders run in parallel (default: what the cores and the free "
                   "memory allow)")
    p.add_argument("--strict", action="store_true",
                   help="accept only recorded clips (for publishing)")
    p.add_argument("--allow-clipped", action="store_true",
                   help="with --strict: a clipped take is a warning, not an error")
    p.add_argument("--allow-unaligned", action="store_true",
                   help="with --strict: a take that does not follow its script is a warning")
    p.add_argument("--out", type=Path, default=None, help="output root (default: output/)")
    p.add_argument("--slides", action="store_true",
                   help="build the slides folder from a rendered lecture (renders nothing)")
    p.add_argument("--list", action="store_true", help="list lectures and their segments")
    p.add_argument("--no-wait", action="store_true",
                   help="if another run is writing this lecture, exit 3 instead of waiting")
    p.add_argument("--cache-prune", action="store_true",
                   help="evict least recently used renders until the cache fits "
                   "--cache-max-size, then exit")
    p.add_argument("--cache-max-size", default="5G", metavar="SIZE",
                   help="render cache size cap, e.g. 500M or 5G (default 5G); evicted after "
                   "each run, least recently used first")
    p.add_argument("--verbose", action="store_true", help="show tracebacks")
    return p


class RichReporter:
    """A lecture-wide bar in frames, and one bar per segment."""

    LABELS = {
        "cached": "[green]cached", "done": "[green]rendered", "rendering": "[yellow]rendering",
        "queued": "[dim]queued", "narration": "[dim]narration",
    }

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall = progress.add_task("planning", total=None)
        self.rows: dict[str, int] = {}
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


def _list(console: Console) -> None:
    for lid in available_lectures():
        spec = load_lecture(lid)
        console.print(f"[bold]{lid}[/]: {spec.title} ({len(spec.segments)} segments)")
        for i, s in enumerate(spec.segments, 1):
            console.print(f"  {i:02d} {s.id:<40} {s.scene:<20} {s.chapter}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=True)
    held = _log_to(console)
    try:
        code = _main(args, console)
        held.flush_held()
        return code
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: earlier outputs are untouched")
        return EXIT_INTERRUPT
    except LockBusy as exc:
        console.print(f"[red]busy:[/] {exc}; exiting (--no-wait)", highlight=False,
                      soft_wrap=True)
        return EXIT_BUSY
    except (InputError, NarrationError) as exc:
        if args.verbose:
            console.print_exception()
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_INPUT
    except Exception as exc:  # render or ffmpeg failure: still one line
        if args.verbose:
            console.print_exception()
        console.print(f"[red]failed:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_FAIL


class _LineHandler(logging.Handler):
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
            self.print(text)

    def print(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {text}", highlight=False, soft_wrap=True)

    def flush_held(self) -> None:
        for text in dict.fromkeys(self.held):
            self.print(text)
        self.held.clear()


def _log_to(console: Console) -> _LineHandler:
    log = logging.getLogger("pipeline")
    for h in list(log.handlers):
        if isinstance(h, _LineHandler):
            log.removeHandler(h)
    log.addHandler(_LineHandler(console))
    log.propagate = False
    logging.captureWarnings(True)
    py = logging.getLogger("py.warnings")
    for h in list(py.handlers):
        if isinstance(h, _LineHandler):
            py.removeHandler(h)
    held = _LineHandler(console, hold=True)
    py.addHandler(held)
    py.propagate = False
    return held


def _main(args: argparse.Namespace, console: Console) -> int:
    if args.list:
        _list(console)
        return EXIT_OK
    # Every flag and the manifest are checked before the pipeline (manim, torch) loads.
    out_root = preflight.output_root(args.out, preflight.DEFAULT_OUT)
    max_bytes = preflight.size_flag("--cache-max-size", args.cache_max_size)
    if args.cache_prune:
        from pipeline.rendering.housekeeping import prune_now

        n, freed, left = prune_now(out_root / ".cache", max_bytes,
                                   on_wait=lambda h: console.print(
                                       f"waiting for the render (pid {h}) using the cache"))
        console.print(f"cache {out_root / '.cache'}: evicted {n} entries "
                      f"({freed / 1e6:.1f} MB); {left / 1e6:.1f} MB kept", highlight=False)
        return EXIT_OK
    t0 = time.perf_counter()
    result = render_from_args(args, console, out_root=out_root, max_bytes=max_bytes)
    if result is not None:  # None: --slides; a list: --lectures
        for one in result if isinstance(result, list) else [result]:
            summary(console, one, time.perf_counter() - t0)
    return EXIT_OK


def render_from_args(  # type: ignore[no-untyped-def]
    args: argparse.Namespace, console: Console, *, out_root: Path | None = None,
    max_bytes: int | None = None,
):
    """Check the arguments, then build the slides (returns None) or render the lecture
    with the progress display on ``console`` (returns the ``LectureResult``).

    The CLI and ``pipeline.api`` both go through here, so they check, report and fail
    the same way: bad input raises ``InputError``, a failed render its own error.
    """
    if out_root is None:
        out_root = preflight.output_root(args.out, preflight.DEFAULT_OUT)
    if max_bytes is None:
        max_bytes = preflight.size_flag("--cache-max-size", args.cache_max_size)
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {args.jobs}")
    if args.narration_dir is not None:
        preflight.folder_flag("--narration-dir", args.narration_dir)
    names = args.lectures or [args.lecture]
    specs = [load_lecture(name) for name in names]
    if args.voice is not None:
        from audio.narration import parse_voice

        try:
            parse_voice(args.voice)
        except ValueError as exc:
            raise InputError(f"--voice: {exc}") from exc
        specs = [s.model_copy(update={"voice": args.voice}) for s in specs]
    sources = [name if str(name).endswith(".toml") else f"config/{s.id}.toml"
               for name, s in zip(names, specs)]
    spec = specs[0]
    q = QUALITIES[args.quality or spec.quality]
    on_wait = _say_waiting(console, out_root / spec.id)

    if args.slides:
        if len(specs) > 1:
            raise InputError("--slides: give one lecture (--lecture), not several")
        from pipeline.publish import slides_update
        from pipeline.slides.build.build import build_slides

        t0 = time.perf_counter()
        if not (out_root / spec.id / "manifest.json").is_file():
            raise InputError(f"{out_root / spec.id}: no rendered lecture (manifest.json "
                             "missing); run render first")
        with slides_update(out_root, spec.id, wait=not args.no_wait, on_wait=on_wait) as stage:
            build_slides(stage)
        console.print(f"slides written to {out_root / spec.id / 'slides'} in "
                      f"{time.perf_counter() - t0:.1f} s", highlight=False)
        return None

    from pipeline.options import RenderOptions
    from pipeline.rendering.executors import LectureRequest, parse_executor, render_lectures

    opts = RenderOptions(quality=q, out_root=out_root, narration_dir=args.narration_dir,
                         jobs=args.jobs or default_jobs(q), strict=args.strict,
                         only=tuple(args.only),
                         allow_clipped=args.allow_clipped,
                         allow_unaligned=args.allow_unaligned,
                         wait=not args.no_wait, cache_max_bytes=max_bytes)
    if args.cache is not None and args.executor == "local":
        opts = replace(opts, cache_root=_local_cache(args.cache))
    lectures = [LectureRequest(s, src, replace(opts, quality=QUALITIES[args.quality or s.quality]))
                for s, src in zip(specs, sources)]
    executor = parse_executor(args.executor, opts, args.cache)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
            # a terminal or a notebook shows live bars; logs and CI get the summary only
            disable=not (console.is_terminal or console.is_jupyter),
        ) as progress:
            reporter = RichReporter(progress)
            results = render_lectures(lectures, executor, reporter=reporter)
    finally:
        executor.close()
    return results[0] if len(results) == 1 else results  # several: --lectures


def _local_cache(url: str) -> Path:
    """``--cache`` for the local executor: a folder, as a path or a ``file://`` URL."""
    if url.startswith("file://"):
        return Path(url.removeprefix("file://")).resolve()
    if "://" in url:
        raise InputError(f"--cache: {url!r} needs a Dask executor; the local executor "
                         "caches in a folder (a path or file:// URL)")
    return Path(url).resolve()


def _say_waiting(console: Console, folder: Path) -> Callable[[str], None]:
    def say(holder: str) -> None:
        console.print(f"waiting: another render (pid {holder}) is writing {folder}; "
                      "it will continue when that one finishes (--no-wait to stop instead)",
                      highlight=False, soft_wrap=True)
    return say


def summary(console: Console, result, elapsed: float) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"{result.out_dir}", show_lines=False)
    for col in ("#", "segment", "duration", "narration", "render"):
        table.add_column(col)
    for p in result.plans:
        table.add_row(
            f"{p.index:02d}", p.spec.id, f"{p.timing.duration:6.2f} s",
            p.narration.source, "cache" if p.spec.id in result.cached else "rendered",
        )
    console.print(table)
    sources: dict[str, int] = {}
    for p in result.plans:
        sources[p.narration.source] = sources.get(p.narration.source, 0) + 1
    loud = result.loudness
    console.print(
        f"{len(result.plans)} segments, {result.duration:.1f} s of video, narration "
        + ", ".join(f"{n} {s}" for s, n in sources.items())
        + f"; {len(result.rendered)} rendered, {len(result.cached)} cache hits; "
        + (f"{loud.integrated_lufs:.1f} LUFS, {loud.true_peak_dbtp:.1f} dBTP; " if loud else "")
        + f"{elapsed:.1f} s"
        + ("" if result.assembled else "; outputs up to date, nothing redone")
    )
    voices = sorted({p.narration.detail for p in result.plans
                     if p.narration.source in ("piper", "espeak")})
    for v in voices:
        console.print(f"synthetic voice: {v}")


if __name__ == "__main__":
    sys.exit(main())
