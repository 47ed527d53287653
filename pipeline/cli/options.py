"""Options shared by the commands, as decorators (as manim's and manim-slides' CLIs
define theirs), the command class that lets a list option take several values
(``--only a b``), and the state the commands share (the console, ``--verbose``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import cloup
from rich.console import Console

from pipeline.cli import run
from pipeline.planning.manifest import QUALITIES

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class State:
    """Shared by the commands of one invocation (``ctx.obj``)."""

    console: Console = field(default_factory=lambda: Console(stderr=True))
    verbose: bool = False


def state() -> State:
    return click.get_current_context().ensure_object(State)


def expand_lists(args: Sequence[str], flags: set[str]) -> list[str]:
    """``--only a b c`` -> ``--only a --only b --only c``: a list option takes every value
    up to the next option (as ``nargs="+"`` did); ``--only a --only b`` works as well."""
    out: list[str] = []
    current: str | None = None
    taken = 0
    for i, arg in enumerate(args):
        if arg == "--":
            out += ([current] if current is not None and taken == 0 else []) + list(args[i:])
            current = None
            break
        if current is not None and not arg.startswith("-"):
            out += [current, arg]
            taken += 1
            continue
        if current is not None and taken == 0:
            out.append(current)  # no value: click reports the missing argument
        current, taken = (arg, 0) if arg in flags else (None, 0)
        if current is None:
            out.append(arg)
    if current is not None and taken == 0:
        out.append(current)
    return out


class Command(cloup.Command):
    """A command whose ``multiple`` options take one or more values each."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = {name for p in self.params if isinstance(p, click.Option) and p.multiple
                 for name in p.opts}
        return super().parse_args(ctx, expand_lists(args, flags))


class QualityChoice(click.Choice[str]):
    """The quality presets; a bad name gets the message ``pipeline.api`` raises too."""

    def __init__(self) -> None:
        super().__init__(list(QUALITIES))

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return run.choice_message(str(value), list(QUALITIES))


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(State).verbose = True
    return value


# ------------------------------------------------------------------ decorators
def lecture_argument(f: F) -> F:
    """``[LECTURE]``: one lecture, by id or .toml path (``--lecture`` too)."""
    return cloup.argument("lecture", required=False, metavar="[LECTURE]")(f)


def lecture_option(f: F) -> F:
    return cloup.option("--lecture", "lecture_flag", default=None, metavar="ID|FILE",
                        help="lecture id (./config, then the shipped lectures) or a .toml path "
                        f"(same as LECTURE; default {run.DEFAULT_LECTURE})")(f)


def quality_option(f: F) -> F:
    return cloup.option(
        "--quality", type=QualityChoice(), default=None,
        help="preview=854x480@15, 720p=@30, 1080p=@60, 4k=@60, tiny=256x144@15 for "
        "tests (default: the manifest's)")(f)


def only_option(f: F) -> F:
    return cloup.option("--only", multiple=True, metavar="ID...",
                        help="just these segments (a render writes them to <out>/<id>/only/)")(f)


def narration_options(f: F) -> F:
    return cloup.option_group(
        "Narration",
        cloup.option("--narration-dir", type=click.Path(path_type=Path), default=None,
                     metavar="DIR",
                     help="folder of recorded clips named <segment-id>.{mp3,wav,m4a,ogg,flac}"),
        cloup.option("--voice", default=None, metavar="VOICE",
                     help="synthetic voice for segments without a recording: auto (Piper, "
                     "else espeak-ng, else silence), piper[:MODEL.onnx], espeak[:VOICE], "
                     "silence (default: the manifest's voice, normally auto)"),
        cloup.option("--strict", is_flag=True,
                     help="accept only recorded clips (for publishing)"),
        cloup.option("--allow-clipped", is_flag=True,
                     help="with --strict: a clipped take is a warning, not an error"),
        cloup.option("--allow-unaligned", is_flag=True,
                     help="with --strict: a take that does not follow its script is a "
                     "warning"),
    )(f)


def caption_hold_option(f: F) -> F:
    return cloup.option("--caption-hold-max", type=float, default=None, metavar="SECONDS",
                        help="at most this much time added to a segment whose captions need "
                        "longer than its speech (default 30); past it, that segment's cues "
                        "may go over 17 characters per second, with a warning")(f)


def out_option(f: F) -> F:
    return cloup.option("--out", type=click.Path(path_type=Path), default=None, metavar="DIR",
                        help="output root (default: output/)")(f)


def no_wait_option(f: F) -> F:
    return cloup.option("--no-wait", is_flag=True,
                        help="if another run is writing this lecture, exit 3 instead of "
                        "waiting")(f)


def cache_option(f: F) -> F:
    return cloup.option("--cache", default=None, metavar="URL",
                        help="render cache: a folder or an fsspec URL (file:///shared/cache, "
                        "s3://bucket/cache; Dask only); default OUT/.cache")(f)


def cache_folder_option(f: F) -> F:
    return cloup.option("--cache", default=None, metavar="DIR",
                        help="the render cache folder (a path or file:// URL); default "
                        "OUT/.cache")(f)


def cache_max_size_option(f: F) -> F:
    return cloup.option("--cache-max-size", default=run.DEFAULT_CACHE_MAX_SIZE, metavar="SIZE",
                        help="render cache size cap, e.g. 500M or 5G (default 5G); least "
                        "recently used renders are evicted first")(f)


def verbose_option(f: F) -> F:
    return cloup.option("--verbose", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set_verbose, help="show tracebacks")(f)
