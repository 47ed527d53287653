"""``lecture list``: the lectures found (./config, then the shipped ones) and their segments."""

from __future__ import annotations

import cloup

from pipeline.cli import display, run
from pipeline.cli.options import CONTEXT, Command, state, verbose_option


@cloup.command("list", cls=Command, context_settings=CONTEXT)
@verbose_option
def list_command() -> int:
    """List the lectures (./config, then shipped) and their segments."""
    run.list_lectures(display.stdout_console(state().console))
    return 0
