"""``lecture publish youtube``: a rendered lecture, or a course of them, on YouTube."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click
import cloup

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
from pipeline.planning.manifest import InputError
from pipeline.rendering.cache import parse_size
from pipeline.youtube import course, limits
from pipeline.youtube.lecture import PublishOptions

CHUNK_ENV = "LECTURE_YOUTUBE_CHUNK"


@cloup.group("publish", context_settings=CONTEXT, invoke_without_command=True,
             no_args_is_help=False)
@click.pass_context
def publish_group(ctx: click.Context) -> int:
    """Put rendered lectures where people watch them: 'publish youtube'."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
    return 0


@publish_group.command("youtube", cls=Command, context_settings=CONTEXT)
@lecture_argument
@lecture_option
@cloup.option("--lectures", multiple=True, metavar="ID...",
              help="several lectures, published in this order (and so in the playlist)")
@out_option
@cloup.option_group(
    "On YouTube",
    cloup.option("--privacy", type=click.Choice(["private", "unlisted", "public"]),
                 default=None, help="who may watch (default: private for a new video, "
                 "else as it was last sent)"),
    cloup.option("--publish-at", default=None, metavar="ISO-TIME",
                 help="make the video public at this time (e.g. 2027-01-15T09:00:00Z); "
                 "needs --privacy private"),
    cloup.option("--playlist", default=None, metavar="NAME",
                 help="add the videos to this playlist of yours, made if missing"),
    cloup.option("--draft-captions", is_flag=True,
                 help="send captions even when some are recogniser drafts"),
    cloup.option("--replace", is_flag=True,
                 help="when the picture or sound changed, upload a new video (the old one "
                 "stays; the run names it)"),
)
@cloup.option_group(
    "Sign-in",
    cloup.option("--client-secrets", type=click.Path(path_type=Path), default=None,
                 metavar="FILE", help="OAuth client file of a 'Desktop app' client "
                 "(default $LECTURE_YOUTUBE_CLIENT_SECRETS); needed to sign in once"),
    cloup.option("--sign-in", is_flag=True, help="sign in again even when a sign-in is kept"),
    cloup.option("--no-browser", is_flag=True,
                 help="print the sign-in address instead of opening a browser"),
)
@cloup.option("--chunk-size", default=None, metavar="SIZE",
              help="upload chunk, a multiple of 256K (default 8M, or $LECTURE_YOUTUBE_CHUNK)")
@cloup.option("--dry-run", is_flag=True,
              help="check and print the exact requests and the quota; send nothing")
@verbose_option
def youtube_command(lecture: str | None, lecture_flag: str | None, lectures: tuple[str, ...],
                    out: Path | None, privacy: str | None, publish_at: str | None,
                    playlist: str | None, draft_captions: bool, replace: bool,
                    client_secrets: Path | None, sign_in: bool, no_browser: bool,
                    chunk_size: str | None, dry_run: bool) -> int:
    """Upload lectures with their captions, thumbnail and chapters; safe to re-run.

    A re-run sends only what changed, and resumes an upload that was cut off.
    """
    console = state().console
    ids = [_lecture_id(n) for n in run.pick_lectures(lecture, lecture_flag, lectures)]
    opts = PublishOptions(privacy=privacy, publish_at=_publish_at(publish_at, privacy),
                          playlist=playlist, draft_captions=draft_captions)
    chunk = _chunk(chunk_size)
    out_root = (out or paths.default_out()).absolute()
    try:
        prepared = course.prepare(ids, out_root, opts, replace=replace)
    except course.LimitsError as exc:
        for line in exc.lines[:-1]:
            display.problem(console, "error", line)
        raise InputError(exc.lines[-1]) from None
    for p in prepared:
        if p.plan.captions_held:
            display.warn(console, f"{p.lec.id}: captions not sent: segments "
                         f"{', '.join(p.lec.draft)} are recogniser drafts (--draft-captions "
                         "sends them)")
    display.say(console, course.quota_line(prepared))
    if dry_run:
        click.echo(json.dumps(course.dry_run(prepared), indent=2, ensure_ascii=False))
        return 0
    started = time.monotonic()
    with display.transfer_progress(console) as on_bytes:
        hooks = course.Hooks(say=lambda text: display.say(console, text), on_bytes=on_bytes)
        outcomes = course.publish(prepared, out_root, chunk=chunk, hooks=hooks,
                                  sign=course.SignIn(client_secrets, sign_in, no_browser))
    display.publish_summary(console, outcomes, time.monotonic() - started)
    return 0


def _lecture_id(name: str) -> str:
    """A lecture id as given, or the ``id`` a ``.toml`` file names."""
    if not name.endswith(".toml"):
        return name
    import tomllib

    try:
        return str(tomllib.loads(Path(name).read_text(encoding="utf-8"))["id"])
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{name}: cannot read the lecture's id ({exc})") from None


def _publish_at(text: str | None, privacy: str | None) -> str | None:
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--publish-at: {text!r} is not an ISO time "
                         "(e.g. 2027-01-15T09:00:00Z)") from None
    if when.tzinfo is None:
        raise InputError(f"--publish-at: {text!r} has no time zone (add Z for UTC)")
    if privacy not in (None, "private"):
        raise InputError("--publish-at: YouTube schedules only private videos; "
                         "use --privacy private")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunk(text: str | None) -> int:
    text = text if text is not None else os.environ.get(CHUNK_ENV)
    if text is None:
        return course.DEFAULT_CHUNK
    try:
        size = parse_size(text)
    except ValueError as exc:
        raise InputError(f"--chunk-size: {exc}") from None
    bad = limits.check_chunk_size(size)
    if bad:
        raise InputError(bad[0])
    return size
