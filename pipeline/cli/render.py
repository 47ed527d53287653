"""``lecture render``: narration, timing, render, assembly, publishing. The default
command: ``lecture --lecture ID`` (and ``python render.py ...``) runs it."""

from __future__ import annotations

from pathlib import Path

import click
import cloup

from pipeline.cli import run
from pipeline.cli.display import stdout_console, warn
from pipeline.cli.options import (
    CONTEXT,
    Command,
    cache_max_size_option,
    cache_option,
    caption_hold_option,
    lecture_argument,
    lecture_option,
    narration_options,
    no_wait_option,
    only_option,
    out_option,
    quality_option,
    state,
    verbose_option,
)

#: the old mode flags of ``render.py`` and the commands that replace them
DEPRECATED = {"--slides": "lecture slides", "--list": "lecture list",
              "--cache-prune": "lecture cache prune"}


@cloup.command("render", cls=Command, context_settings=CONTEXT, no_args_is_help=False)
@lecture_argument
@cloup.option_group(
    "Lecture",
    lecture_option,
    cloup.option("--lectures", multiple=True, metavar="ID...",
                 help="several lectures (ids or .toml paths) rendered in one submission, "
                 "sharing workers and cache"),
    quality_option,
    only_option,
)
@narration_options
@cloup.option_group("Captions", caption_hold_option)
@cloup.option_group(
    "Output and cache", out_option, no_wait_option, cache_option, cache_max_size_option,
)
@cloup.option_group(
    "Execution",
    cloup.option("--executor", default="local", metavar="WHERE",
                 help="local (default), dask://HOST:PORT (a running Dask scheduler) or "
                 "dask-local[:N] (a local Dask cluster of N worker processes)"),
    cloup.option("--jobs", type=int, default=None, metavar="N",
                 help="renders run in parallel (default: what the cores and the free "
                 "memory allow)"),
)
@cloup.option_group(
    "Deprecated (use the commands instead)",
    cloup.option("--slides", is_flag=True, help="same as 'lecture slides'"),
    cloup.option("--list", "list_", is_flag=True, help="same as 'lecture list'"),
    cloup.option("--cache-prune", is_flag=True, help="same as 'lecture cache prune'"),
)
@verbose_option
def render_command(
    lecture: str | None, lecture_flag: str | None, lectures: tuple[str, ...],
    quality: str | None, only: tuple[str, ...], narration_dir: Path | None,
    voice: str | None, strict: bool, allow_clipped: bool, allow_unaligned: bool,
    caption_hold_max: float | None, out: Path | None, no_wait: bool, cache: str | None,
    cache_max_size: str, executor: str, jobs: int | None, slides: bool, list_: bool,
    cache_prune: bool,
) -> int:
    """Render a lecture: narration, timing, scenes, assembly, publishing.

    LECTURE is an id (./config, then the shipped lectures) or a .toml path
    (default forward-diffusion).
    Only what changed since the last run is rendered again.
    """
    names = run.pick_lectures(lecture, lecture_flag, lectures)
    mode = _deprecated_mode(slides=slides, list_=list_, cache_prune=cache_prune)
    console = state().console
    if mode == "--list":
        run.list_lectures(stdout_console(console))
    elif mode == "--slides":
        if len(names) > 1:
            raise click.UsageError("--slides: give one lecture (--lecture), not several")
        run.slides(names[0], out=out, wait=not no_wait, console=console)
    elif mode == "--cache-prune":
        run.cache_prune(out, cache, cache_max_size, console)
    else:
        run.render_and_report(run.RenderRequest(
            lectures=names, quality=quality, only=only, narration_dir=narration_dir,
            voice=voice, jobs=jobs, strict=strict, allow_clipped=allow_clipped,
            allow_unaligned=allow_unaligned, out=out, executor=executor, cache=cache,
            wait=not no_wait, cache_max_size=cache_max_size,
            caption_hold_max=caption_hold_max), console)
    return 0


def _deprecated_mode(**flags: bool) -> str | None:
    """The one old mode flag given (after its deprecation line), or None."""
    given = [f"--{name.rstrip('_').replace('_', '-')}" for name, on in flags.items() if on]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} cannot be combined; give one "
                               f"(better: {', '.join(repr(DEPRECATED[g]) for g in given)})")
    if not given:
        return None
    warn(state().console, f"{given[0]} is deprecated; use '{DEPRECATED[given[0]]}'")
    return given[0]
