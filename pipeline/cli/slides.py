"""``lecture slides``: the slides folder from a rendered lecture."""

from __future__ import annotations

from pathlib import Path

import cloup

from pipeline.cli import run
from pipeline.cli.options import (
    CONTEXT,
    Command,
    lecture_argument,
    lecture_option,
    no_wait_option,
    out_option,
    state,
    verbose_option,
)
from pipeline.planning.manifest import InputError


@cloup.command("slides", cls=Command, context_settings=CONTEXT)
@lecture_argument
@lecture_option
@out_option
@no_wait_option
@verbose_option
def slides_command(lecture: str | None, lecture_flag: str | None, out: Path | None,
                   no_wait: bool) -> int:
    """Build the slides from the lecture's last render.

    Writes <out>/<id>/slides/ and renders nothing: narrated and muted-loop clips,
    posters, an offline index.html deck and lecture.pptx.
    """
    names = run.pick_lectures(lecture, lecture_flag, ())
    if len(names) != 1:
        raise InputError("slides: give one lecture")
    run.slides(names[0], out=out, wait=not no_wait, console=state().console)
    return 0
