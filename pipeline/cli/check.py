"""``lecture check``: every check a render makes before its first frame, and its
planning, without rendering."""

from __future__ import annotations

from pathlib import Path

import cloup

from pipeline.cli import display, run
from pipeline.cli.options import (
    CONTEXT,
    Command,
    caption_hold_option,
    lecture_argument,
    lecture_option,
    narration_options,
    only_option,
    quality_option,
    state,
    verbose_option,
)


@cloup.command("check", cls=Command, context_settings=CONTEXT)
@lecture_argument
@cloup.option_group("Lecture", lecture_option, quality_option, only_option)
@narration_options
@cloup.option_group("Captions", caption_hold_option)
@verbose_option
def check_command(
    lecture: str | None, lecture_flag: str | None, quality: str | None,
    only: tuple[str, ...], narration_dir: Path | None, voice: str | None, strict: bool,
    allow_clipped: bool, allow_unaligned: bool, caption_hold_max: float | None,
) -> int:
    """Check a lecture's inputs without rendering.

    Validates what a render checks before its first frame: manifest fields, scene
    parameters, placeholders, bookmarks, clips and transcripts, and the --strict rules;
    then plans every segment (speech is synthesised into the speech cache, so the render
    that follows reuses it). Writes no output and takes no lock. Exit 0 when the
    lecture would render, 2 with one line naming the file and field when not.
    """
    req = run.RenderRequest(
        lectures=run.pick_lectures(lecture, lecture_flag, ()), quality=quality, only=only,
        narration_dir=narration_dir, voice=voice, strict=strict, allow_clipped=allow_clipped,
        allow_unaligned=allow_unaligned, caption_hold_max=caption_hold_max)
    console = state().console
    checked = run.check(req, console)
    display.check_table(display.stdout_console(console), checked)
    return 0
