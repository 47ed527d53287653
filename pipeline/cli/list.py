"""``lecture list``: the lectures found (./config, then the shipped ones) and their segments."""

from __future__ import annotations

from pathlib import Path

import click
import cloup

from pipeline.cli import display, run
from pipeline.cli.options import CONTEXT, Command, state, verbose_option


@cloup.command("list", cls=Command, context_settings=CONTEXT)
@cloup.option("--narration-dir", type=click.Path(path_type=Path), default=None,
              metavar="DIR", help="also analyse the recorded takes in DIR and show the "
              "takes table (off-script takes marked)")
@verbose_option
def list_command(narration_dir: Path | None) -> int:
    """List the lectures (./config, then shipped) and their segments."""
    run.list_lectures(display.stdout_console(state().console), narration_dir)
    return 0
