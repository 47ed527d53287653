"""Render from Python (a notebook, a script): the command line's commands as functions.

``render_lecture("forward-diffusion", quality="preview")`` renders a lecture,
``render_segment("forward-diffusion", "01_05_math_step_by_step_equation")`` one of its
segments (both return a :class:`RenderedLecture` with the paths of what was written),
and ``check_lecture("forward-diffusion")`` checks a lecture without rendering.

They call the functions the ``lecture`` commands call (:mod:`pipeline.cli.run`), with
typed arguments, so a notebook sees the same progress bars (rich draws them live in
Jupyter), the same summary and the same errors: bad input raises
``pipeline.planning.manifest.InputError`` with the line the CLI prints after ``error:``,
a failed render its own error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from pipeline.cli import display, run
from pipeline.cli.reports import CheckedLecture
from pipeline.planning.manifest import InputError


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
        return Video(str(path), embed=True, width=width)  # type: ignore[no-untyped-call]


def render_lecture(
    lecture: str | Path = run.DEFAULT_LECTURE,
    *,
    quality: str | None = None,
    only: Sequence[str] = (),
    narration_dir: str | Path | None = None,
    voice: str | None = None,
    jobs: int | None = None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
    out: str | Path | None = None,
    executor: str = "local",
    cache: str | None = None,
    wait: bool = True,
    cache_max_size: str = run.DEFAULT_CACHE_MAX_SIZE,
    caption_hold_max: float | None = None,
) -> RenderedLecture:
    """Render a lecture (id in ``config/`` or a ``.toml`` path) like ``lecture render``.

    The keywords are the command's flags: ``quality`` (tiny | preview | 720p | 1080p |
    4k), ``only`` (segment ids), ``narration_dir``, ``voice``, ``jobs``, ``strict``,
    ``allow_clipped``, ``allow_unaligned``, ``out`` (output root), ``executor``,
    ``cache``, ``wait`` (False: ``--no-wait``), ``cache_max_size``,
    ``caption_hold_max`` (seconds).
    """
    req = run.RenderRequest(
        lectures=(str(lecture),), quality=quality, only=_ids(only),
        narration_dir=_path(narration_dir), voice=voice, jobs=jobs, strict=strict,
        allow_clipped=allow_clipped, allow_unaligned=allow_unaligned, out=_path(out),
        executor=executor, cache=cache, wait=wait, cache_max_size=cache_max_size,
        caption_hold_max=caption_hold_max)
    console = Console(stderr=True)
    held = display.log_to(console)  # warnings as the CLI prints them
    t0 = time.perf_counter()
    [result] = run.render(req, console)
    display.summary(console, result, time.perf_counter() - t0)
    held.flush_held()
    out_dir = result.out_dir
    return RenderedLecture(
        out_dir=out_dir,
        video=out_dir / "lecture.mp4",
        captions=out_dir / "captions.vtt",
        manifest=out_dir / "manifest.json",
        segments={p.spec.id: out_dir / "segments" / f"{p.name}.mp4" for p in result.plans},
        duration=result.duration,
    )


def render_segment(lecture: str | Path, segment: str, **options: Any) -> RenderedLecture:
    """Render one narrated segment of a lecture (written to ``<out>/<id>/only/``); the
    keywords are :func:`render_lecture`'s."""
    return render_lecture(lecture, only=[segment], **options)


def check_lecture(
    lecture: str | Path = run.DEFAULT_LECTURE,
    *,
    quality: str | None = None,
    only: Sequence[str] = (),
    narration_dir: str | Path | None = None,
    voice: str | None = None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
    caption_hold_max: float | None = None,
) -> CheckedLecture:
    """Check a lecture like ``lecture check``: everything a render checks before its
    first frame, and its plans (narration, timing, keys), without rendering. Prints the
    per-segment table; raises ``InputError`` on bad input."""
    req = run.RenderRequest(
        lectures=(str(lecture),), quality=quality, only=_ids(only),
        narration_dir=_path(narration_dir), voice=voice, strict=strict,
        allow_clipped=allow_clipped, allow_unaligned=allow_unaligned,
        caption_hold_max=caption_hold_max)
    console = Console(stderr=True)
    held = display.log_to(console)
    checked = run.check(req, console)
    display.check_table(display.stdout_console(console), checked)
    held.flush_held()
    return checked


def _ids(only: Sequence[str]) -> tuple[str, ...]:
    if isinstance(only, str):
        raise InputError(f"--only: give a list of segment ids, not the string {only!r}")
    return tuple(only)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


__all__ = ["CheckedLecture", "RenderedLecture", "check_lecture", "render_lecture",
           "render_segment"]
