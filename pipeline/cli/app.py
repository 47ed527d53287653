"""The ``lecture`` command group and the one place where failures become exit codes.

``render`` is the default command: when the first argument is not a command, but an
option (``--lecture X``), a lecture id or a ``.toml`` file, or there is none at all,
``render`` is put in front of it. So ``python render.py --lecture X`` and
``lecture X --quality tiny`` render, while ``lecture --help`` lists the commands.

Exit status: 0 on success, 1 when a render or an ffmpeg step fails (``failed: ...``),
2 on bad input (``error: ...``, one line naming the file and field or the flag; a bad
flag, choice or command included; a traceback only with ``--verbose``), 3 when
``--no-wait`` finds another run writing the lecture, 130 when interrupted.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import click
import cloup

from audio.clips import NarrationError
from pipeline.cli import display
from pipeline.cli.cache import cache_group
from pipeline.cli.check import check_command
from pipeline.cli.list import list_command
from pipeline.cli.new import new_command
from pipeline.cli.options import CONTEXT, State
from pipeline.cli.publish import publish_group
from pipeline.cli.render import render_command
from pipeline.cli.slides import slides_command
from pipeline.cli.studio import studio_command
from pipeline.lock import LockBusy
from pipeline.planning.manifest import InputError, available_lectures

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_BUSY, EXIT_INTERRUPT = 0, 1, 2, 3, 130
DEFAULT_COMMAND = "render"


class DefaultGroup(cloup.Group):
    """A group that runs ``render`` when no command is named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self._wants_default(ctx, args):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def _wants_default(self, ctx: click.Context, args: list[str]) -> bool:
        if not args:
            return True
        first = args[0]
        if first in self.commands or first in ctx.help_option_names:
            return False
        return first.startswith("-") or _is_lecture(first)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            known = [*self.commands, *available_lectures()]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(
                f"{name!r} is neither a command ({', '.join(self.commands)}) nor a lecture "
                f"(a lecture id or a .toml file){hint}", ctx)
        return super().resolve_command(ctx, args)


def _is_lecture(arg: str) -> bool:
    return arg.endswith(".toml") or arg in available_lectures()


@cloup.group("lecture", cls=DefaultGroup, context_settings=CONTEXT, no_args_is_help=False)
def cli() -> None:
    """Turn Manim scenes and narration into lecture videos.

    Without a command, render runs: 'lecture --lecture ID' is 'lecture render ID'.
    Each command's --help lists its options.
    """


cli.section("Making a lecture", new_command, render_command, check_command, slides_command,
            studio_command)
cli.section("Publishing", publish_group)
cli.section("Lectures and cache", list_command, cache_group)


def main(argv: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Run the command line; returns the exit status (``sys.exit(main())``)."""
    state = State()
    held = display.log_to(state.console)
    try:
        code = cli.main(args=None if argv is None else list(argv), prog_name=prog_name,
                        standalone_mode=False, obj=state)
    except (KeyboardInterrupt, click.Abort):
        display.say(state.console, "interrupted: earlier outputs are untouched")
        return EXIT_INTERRUPT
    except Exception as exc:  # one line each; the traceback only with --verbose
        return _failure(state, exc)
    held.flush_held()
    return code if isinstance(code, int) else EXIT_OK


def _failure(state: State, exc: Exception) -> int:
    console = state.console
    if isinstance(exc, LockBusy):
        display.problem(console, "busy", f"{exc}; exiting (--no-wait)")
        return EXIT_BUSY
    if state.verbose and not isinstance(exc, click.ClickException):
        console.print_exception()
    if isinstance(exc, click.ClickException):
        display.problem(console, "error", f"{click_line(exc)} (see --help)")
        return EXIT_INPUT
    if isinstance(exc, (InputError, NarrationError)):
        display.problem(console, "error", str(exc))
        return EXIT_INPUT
    display.problem(console, "failed", str(exc))  # a render or ffmpeg failure
    return EXIT_FAIL


def click_line(exc: click.ClickException) -> str:
    """Click's message as one line; a bad value names its flag first, as ours do
    (``--quality: '8k' is not one of ...``)."""
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter) \
            and exc.param is not None:
        param = exc.param
        name = "/".join(param.opts) if isinstance(param, click.Option) \
            else (param.human_readable_name or "")
        return f"{name}: {exc.message}".rstrip(".")
    return " ".join(exc.format_message().split()).rstrip(".")
