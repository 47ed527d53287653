"""Render from Python (a notebook, a script): the command line's job as two functions.

``render_lecture("forward-diffusion", quality="preview")`` renders a lecture and
``render_segment("forward-diffusion", "01_05_math_step_by_step_equation")`` one of its
segments; both return a :class:`RenderedLecture` with the paths of what was written.

This is a thin layer over ``pipeline.cli``: the keyword arguments become the command
line's arguments, parsed by the same parser and run by the same function
(``cli.render_from_args``), so a notebook sees the same progress bars (rich draws them
live in Jupyter), the same summary and the same errors: bad input raises
``pipeline.planning.manifest.InputError`` with the line the CLI prints, a failed render its error.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from pipeline import cli


@dataclass(frozen=True)
class RenderedLecture:
    """What one render wrote: the output folder, the lecture video and each segment's clip."""

    out_dir: Path
    video: Path
    captions: Path
    manifest: Path
    segments: dict[str, Path]
    duration: float

    def show(self, segment: str | None = None, width: int = 640) -> Any:
        """The lecture (or one segment) as an inline video for a notebook cell."""
        from IPython.display import Video

        path = self.video if segment is None else self.segments[segment]
        return Video(str(path), embed=True, width=width)


def cli_arguments(
    lecture: str,
    *,
    quality: str | None = None,
    only: Sequence[str] = (),
    narration_dir: str | Path | None = None,
    voice: str | None = None,
    jobs: int | None = None,
    strict: bool = False,
    out: str | Path | None = None,
) -> list[str]:
    """The command line that does what the keyword arguments ask."""
    argv = ["--lecture", str(lecture)]
    if quality is not None:
        argv += ["--quality", quality]
    if only:
        argv += ["--only", *only]
    if narration_dir is not None:
        argv += ["--narration-dir", str(narration_dir)]
    if voice is not None:
        argv += ["--voice", voice]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    if strict:
        argv.append("--strict")
    if out is not None:
        argv += ["--out", str(out)]
    return argv


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The CLI's parser, raising ``InputError`` (the CLI's line) instead of exiting."""
    return cli.parser(raise_errors=True).parse_args(list(argv))


def render_lecture(lecture: str = "forward-diffusion", **options: Any) -> RenderedLecture:
    """Render a lecture (id in ``config/`` or a ``.toml`` path) like ``render.py`` does.

    Keywords: ``quality`` (preview | 720p | 1080p | 4k | tiny), ``only`` (segment ids),
    ``narration_dir``, ``voice``, ``jobs``, ``strict``, ``out`` (output root).
    """
    args = parse(cli_arguments(lecture, **options))
    console = Console(stderr=True)
    held = cli._log_to(console)  # warnings as the CLI prints them
    t0 = time.perf_counter()
    result = cli.render_from_args(args, console)
    cli.summary(console, result, time.perf_counter() - t0)
    held.flush_held()
    out = result.out_dir
    return RenderedLecture(
        out_dir=out,
        video=out / "lecture.mp4",
        captions=out / "captions.vtt",
        manifest=out / "manifest.json",
        segments={p.spec.id: out / "segments" / f"{p.name}.mp4" for p in result.plans},
        duration=result.duration,
    )


def render_segment(lecture: str, segment: str, **options: Any) -> RenderedLecture:
    """Render one narrated segment of a lecture (written to ``output/<id>/only/``)."""
    return render_lecture(lecture, only=[segment], **options)


__all__ = ["RenderedLecture", "cli_arguments", "parse", "render_lecture", "render_segment"]
