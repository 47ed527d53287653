"""``lecture list``: the lectures in config/ and their segments."""

from __future__ import annotations

import cloup

from pipeline.cli import display, run
from pipeline.cli.options import CONTEXT, Command, state, verbose_option


@cloup.command("list", cls=Command, context_settings=CONTEXT)
@verbose_option
def list_command() -> int:
    """List the lectures in config/ and their segments (id, scene, chapter)."""
    run.list_lectures(display.stdout_console(state().console))
    return 0
