"""Command line: ``python render.py`` / ``lecture-render``.

Exit status: 0 on success, 2 on bad input (one line naming the file or field; a
traceback only with ``--verbose``), 1 when a render or an ffmpeg step fails, 130 when
interrupted. Earlier outputs stay whole in every failure case.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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
from pipeline.manifest import QUALITIES, InputError, available_lectures, load_lecture

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INTERRUPT = 0, 1, 2, 130


def parser(exit_on_error: bool = True) -> argparse.ArgumentParser:
    """The command line; ``exit_on_error=False`` raises instead (for ``pipeline.api``)."""
    p = argparse.ArgumentParser(
        prog="render.py",
        description="Render a narrated lecture: scenes timed to narration, YouTube-ready outputs.",
        exit_on_error=exit_on_error,
    )
    p.add_argument("--lecture", default="forward-diffusion",
                   help="lecture id in config/ or a path to a .toml manifest")
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
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="scenes rendered in parallel (default: core count)")
    p.add_argument("--strict", action="store_true",
                   help="accept only recorded clips (for publishing)")
    p.add_argument("--out", type=Path, default=None, help="output root (default: output/)")
    p.add_argument("--slides", action="store_true",
                   help="build the slides folder from a rendered lecture (renders nothing)")
    p.add_argument("--list", action="store_true", help="list lectures and their segments")
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
    try:
        return _main(args, console)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: earlier outputs are untouched")
        return EXIT_INTERRUPT
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


def _main(args: argparse.Namespace, console: Console) -> int:
    if args.list:
        _list(console)
        return EXIT_OK
    t0 = time.perf_counter()
    result = render_from_args(args, console)
    if result is None:  # --slides
        return EXIT_OK
    summary(console, result, time.perf_counter() - t0)
    return EXIT_OK


def render_from_args(args: argparse.Namespace, console: Console):  # type: ignore[no-untyped-def]
    """Check the arguments, then build the slides (returns None) or render the lecture
    with the progress display on ``console`` (returns the ``LectureResult``).

    The CLI and ``pipeline.api`` both go through here, so they check, report and fail
    the same way: bad input raises ``InputError``, a failed render its own error.
    """
    from pipeline.assemble import DEFAULT_OUT, RenderOptions, build_lecture, quality

    if args.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {args.jobs}")
    if args.narration_dir is not None and not args.narration_dir.is_dir():
        raise InputError(f"--narration-dir: {args.narration_dir} is not a folder")
    spec = load_lecture(args.lecture)
    if args.voice is not None:
        from audio.narration import parse_voice

        try:
            parse_voice(args.voice)
        except ValueError as exc:
            raise InputError(f"--voice: {exc}") from exc
        spec = spec.model_copy(update={"voice": args.voice})
    source = args.lecture if str(args.lecture).endswith(".toml") else f"config/{spec.id}.toml"
    out_root = (args.out or DEFAULT_OUT).resolve()
    q = quality(args.quality or spec.quality)

    if args.slides:
        from pipeline.slides import build_slides

        t0 = time.perf_counter()
        folder = build_slides(out_root / spec.id)
        console.print(f"slides written to {folder} in {time.perf_counter() - t0:.1f} s")
        return None

    opts = RenderOptions(quality=q, out_root=out_root, narration_dir=args.narration_dir,
                         jobs=args.jobs, strict=args.strict, only=tuple(args.only))
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
        # a terminal or a notebook shows live bars; logs and CI get the summary only
        disable=not (console.is_terminal or console.is_jupyter),
    ) as progress:
        reporter = RichReporter(progress)
        return build_lecture(spec, opts, source=source, reporter=reporter)


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
        + (f"{loud.integrated:.1f} LUFS, {loud.true_peak:.1f} dBTP; " if loud else "")
        + f"{elapsed:.1f} s"
    )
    voices = sorted({p.narration.detail for p in result.plans
                     if p.narration.source in ("piper", "espeak")})
    for v in voices:
        console.print(f"synthetic voice: {v}")


if __name__ == "__main__":
    sys.exit(main())
