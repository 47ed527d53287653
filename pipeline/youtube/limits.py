"""YouTube's documented limits and the API's quota costs (pure: no I/O).

Each check returns the rules broken, one line each, starting with the field it is about
(``title: ...``), so a command prints them as they are. The rules:

* title: 1 to 100 characters, no ``<`` or ``>``;
* description: at most 5,000 bytes (UTF-8), no ``<`` or ``>``;
* tags: at most 500 characters in all, counting a comma between tags and the quotes
  YouTube puts around a tag with a space;
* thumbnail: at most 2 MB, 16:9;
* chapters: the first at 0:00, at least three, each at least 10 s
  (``pipeline.assembly.chapters``, which built them);
* captions: a SubRip or WebVTT file that parses, with at least one cue.

Quota: the cost table of the Data API v3 (units per call). ``videos.insert`` also has a
bucket of its own (a default of 100 uploads a day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.assembly import captions as caption_rules
from pipeline.assembly.chapters import Chapter, check_chapters

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
CHUNK_UNIT = 256 * 1024  # a resumable upload's chunks are multiples of this (but the last)
DAILY_UNITS = 10_000  # a project's default daily quota
DAILY_UPLOADS = 100  # the default daily bucket of videos.insert

QUOTA_COST: Mapping[str, int] = {
    "videos.insert": 1600,
    "videos.update": 50,
    "thumbnails.set": 50,
    "captions.insert": 400,
    "captions.update": 450,
    "playlists.list": 1,
    "playlists.insert": 50,
    "playlistItems.insert": 50,
}


def check_title(title: str) -> list[str]:
    problems = []
    if not 1 <= len(title) <= TITLE_MAX:
        problems.append(f"title: {len(title)} characters; YouTube takes 1 to {TITLE_MAX}")
    if "<" in title or ">" in title:
        problems.append("title: contains '<' or '>', which YouTube does not allow")
    return problems


def check_description(text: str) -> list[str]:
    problems = []
    size = len(text.encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES:
        problems.append(f"description: {size} bytes; YouTube takes at most "
                        f"{DESCRIPTION_MAX_BYTES}")
    if "<" in text or ">" in text:
        problems.append("description: contains '<' or '>', which YouTube does not allow")
    return problems


def tags_length(tags: Sequence[str]) -> int:
    """The length YouTube counts: the tags, a comma between two, quotes around a tag
    with a space in it."""
    if not tags:
        return 0
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + len(tags) - 1


def check_tags(tags: Sequence[str]) -> list[str]:
    n = tags_length(tags)
    if n > TAGS_MAX:
        return [f"tags: {n} characters in all; YouTube takes at most {TAGS_MAX}"]
    return []


def check_thumbnail(size: int, width: int, height: int) -> list[str]:
    problems = []
    if size > THUMBNAIL_MAX_BYTES:
        problems.append(f"thumbnail: {size} bytes; YouTube takes at most "
                        f"{THUMBNAIL_MAX_BYTES} (2 MB)")
    if height <= 0 or abs(width / height - 16 / 9) > 0.01:
        problems.append(f"thumbnail: {width}x{height} is not 16:9")
    return problems


def check_chapter_lines(chapters: Sequence[Chapter], total: float) -> list[str]:
    return [f"chapters: {p}" for p in check_chapters(chapters, total=total)]


def check_caption_text(text: str, fmt: str) -> list[str]:
    """``fmt``: ``"vtt"`` or ``"srt"``."""
    parse = caption_rules.parse_vtt if fmt == "vtt" else caption_rules.parse_srt
    try:
        cues = parse(text)
    except ValueError as exc:
        return [f"captions: {exc}"]
    return [] if cues else ["captions: the file has no cues"]


def quota(calls: Sequence[str]) -> int:
    """Units the calls use, from :data:`QUOTA_COST`."""
    return sum(QUOTA_COST[c] for c in calls)


def check_chunk_size(size: int) -> list[str]:
    if size <= 0 or size % CHUNK_UNIT:
        return [f"--chunk-size: {size} bytes is not a positive multiple of 256K, as "
                "YouTube's resumable upload needs"]
    return []
