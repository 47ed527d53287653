"""``lecture cache info`` and ``lecture cache prune``: the render cache."""

from __future__ import annotations

from pathlib import Path

import click
import cloup

from pipeline.cli import display, run
from pipeline.cli.options import (
    CONTEXT,
    Command,
    cache_folder_option,
    cache_max_size_option,
    out_option,
    state,
    verbose_option,
)


@cloup.group("cache", context_settings=CONTEXT, invoke_without_command=True,
             no_args_is_help=False)
@click.pass_context
def cache_group(ctx: click.Context) -> int:
    """The render cache: 'cache info' and 'cache prune'."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
    return 0


@cache_group.command("info", cls=Command, context_settings=CONTEXT)
@out_option
@cache_folder_option
@cache_max_size_option
@verbose_option
def info_command(out: Path | None, cache: str | None, cache_max_size: str) -> int:
    """Show the render cache: entries, size, cap, location.

    Also the assembly parts' size and when entries were last used. Reads only: no lock,
    no eviction."""
    info = run.cache_info(out, cache, cache_max_size)
    display.cache_report(display.stdout_console(state().console), info)
    return 0


@cache_group.command("prune", cls=Command, context_settings=CONTEXT)
@out_option
@cache_folder_option
@cache_max_size_option
@verbose_option
def prune_command(out: Path | None, cache: str | None, cache_max_size: str) -> int:
    """Evict renders until the cache fits its cap.

    Least recently used first, down to --cache-max-size.
    Waits for renders that are using the cache; removes what killed runs left behind.
    """
    run.cache_prune(out, cache, cache_max_size, state().console)
    return 0
