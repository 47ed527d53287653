"""``lecture studio``: a local page that previews the lecture while you edit it.

The command resolves the lecture and hands :mod:`pipeline.studio` what it needs to
build it (:class:`pipeline.studio.session.Setup`): the lecture at preview quality and at
its own, and the buttons' actions, which run the same functions as ``lecture check``,
``lecture slides`` and (when that command exists) ``lecture publish --dry-run``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

import click
import cloup
from rich.console import Console

from pipeline import paths
from pipeline.cli import display, run
from pipeline.cli.options import (
    CONTEXT,
    Command,
    lecture_argument,
    lecture_option,
    out_option,
    state,
    verbose_option,
)
from pipeline.planning import preflight
from pipeline.planning.manifest import lecture_path

if TYPE_CHECKING:
    from pipeline.studio.session import Setup

PREVIEW_ROOT = ".studio"  # previews are published to <out>/.studio/<id>
Say = Callable[[str], None]


@cloup.command("studio", cls=Command, context_settings=CONTEXT)
@lecture_argument
@lecture_option
@cloup.option("--quality", default="preview", metavar="NAME",
              help="the preview's quality (default preview: 854x480 at 15 fps)")
@cloup.option("--narration-dir", type=click.Path(path_type=Path), default=None,
              metavar="DIR", help="folder of recorded takes (default: takes/ beside the "
              "lecture's TOML, if there is one)")
@cloup.option("--voice", default=None, metavar="VOICE",
              help="synthetic voice for segments without a take (as for render)")
@out_option
@cloup.option("--port", type=int, default=0, metavar="N",
              help="port on 127.0.0.1 (default: a free one)")
@cloup.option("--no-browser", is_flag=True, help="print the URL, do not open a browser")
@verbose_option
def studio_command(lecture: str | None, lecture_flag: str | None, quality: str,
                   narration_dir: Path | None, voice: str | None, out: Path | None,
                   port: int, no_browser: bool) -> int:
    """Preview a lecture in the browser while you edit it.

    Watches the TOML, the lecture's own scene files and the takes folder; each change
    re-renders what it touches at preview quality (previews go to OUT/.studio/) and the
    page plays the new preview. Buttons render at full quality, build slides and check.
    """
    from pipeline.studio.app import serve

    console = state().console
    setup = studio_setup(lecture, lecture_flag, quality, narration_dir, voice, out)
    if not 0 <= port < 65536:
        raise click.BadParameter(f"{port} is not a port (0 to 65535)",
                                 param_hint="--port")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(setup, port=port, open_browser=not no_browser,
              say=lambda line: display.say(console, line))
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the studio as Ctrl-C does


def _default_lecture(lecture: str | None, flag: str | None) -> tuple[str, ...]:
    if lecture is None and flag is None and Path("lecture.toml").is_file():
        return ("lecture.toml",)
    return run.pick_lectures(lecture, flag, ())


def studio_setup(lecture: str | None, flag: str | None, quality: str,
                 narration_dir: Path | None, voice: str | None, out: Path | None) -> Setup:
    """The lecture's file, its takes, and how to load it at each quality."""
    from pipeline.studio.session import Setup

    [name] = _default_lecture(lecture, flag)
    toml = lecture_path(name).resolve()
    run.check_quality(quality)
    out_root = preflight.output_root(out, preflight.DEFAULT_OUT)
    takes = narration_dir
    if takes is None and (toml.parent / "takes").is_dir():
        takes = Path(paths.shown(toml.parent / "takes"))  # as messages name it
    # the lecture as it was named, so messages name it as the other commands do
    base = run.RenderRequest(lectures=(name,), narration_dir=takes, voice=voice, out=out_root)
    preview = run.RenderRequest(
        lectures=(name,), quality=quality, narration_dir=takes, voice=voice,
        out=out_root / PREVIEW_ROOT, cache=str(out_root / ".cache"))
    run.check_flags(preview)  # a bad --voice fails now, in one line, not in the page
    actions: dict[str, Callable[[Say], str]] = {
        "check": lambda say: _check(base, say),
        "slides": lambda say: _slides(name, out_root, say),
    }
    publish = _publish_command(toml, out_root)
    if publish is not None:
        actions["publish"] = lambda say: _stream(publish, say)
    return Setup(toml=toml, takes=takes, load_preview=lambda: run.prepare(preview)[0],
                 load_full=lambda: run.prepare(base)[0], actions=actions)


class _Lines:
    """A file for a rich console that hands on each finished line."""

    def __init__(self, say: Say) -> None:
        self.say, self.buf = say, ""

    def write(self, text: str) -> int:
        self.buf += text
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            self.say(line.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


def _console(say: Say) -> Console:
    file: IO[str] = _Lines(say)  # type: ignore[assignment]
    return Console(file=file, width=110, color_system=None, force_terminal=False,
                   highlight=False)


def _check(req: run.RenderRequest, say: Say) -> str:
    console = _console(say)
    checked = run.check(req, console)
    display.check_table(console, checked)
    return f"check: {len(checked.plans)} segments would render"


def _slides(toml: str, out_root: Path, say: Say) -> str:
    folder = run.slides(toml, out=out_root, wait=False, console=_console(say))
    return f"slides written to {folder}"


def _publish_command(toml: Path, out_root: Path) -> list[str] | None:
    """``lecture publish youtube LECTURE --dry-run`` when this version has that command:
    the button checks the last full render against YouTube's rules and shows the requests,
    sending nothing (``None``, so no button, without the command)."""
    root = click.get_current_context().find_root().command
    group = root.commands.get("publish") if isinstance(root, click.Group) else None
    cmd = group.commands.get("youtube") if isinstance(group, click.Group) else None
    if cmd is None or not any("--dry-run" in getattr(p, "opts", ()) for p in cmd.params):
        return None
    return [sys.executable, "-m", "pipeline", "publish", "youtube", str(toml),
            "--out", str(out_root), "--dry-run"]


def _stream(argv: list[str], say: Say) -> str:
    """Run a command, each output line to the page; its last line is the outcome."""
    from pipeline.studio.session import ActionFailed

    last = ""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            last = line.rstrip() or last
            say(line.rstrip())
    if proc.returncode != 0:
        raise ActionFailed(last or f"{argv[3]} exited with status {proc.returncode}")
    return last
