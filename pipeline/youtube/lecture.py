"""What a rendered lecture folder says, as YouTube will be told it.

:func:`read_lecture` resolves ``<out>/<id>`` to the version folder it points at (so a
render that switches the folder meanwhile changes nothing this run reads) and reads the
record, texts and files; :func:`problems` checks them against ``limits``; the
``*_body`` functions make the exact request bodies that are sent (and that
``--dry-run`` prints). Each digest says what was sent, so the next run can tell what
changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline import paths
from pipeline.assembly.chapters import Chapter
from pipeline.files import file_sha256
from pipeline.planning.manifest import InputError
from pipeline.records import LectureRecord, RecordError, read_record
from pipeline.youtube import limits

EDUCATION = "27"  # YouTube's video category "Education"
CAPTION_NAME = "Narration"


@dataclass(frozen=True)
class PublishOptions:
    privacy: str | None = None  # None: what the video has (private for a new one)
    publish_at: str | None = None  # RFC 3339, UTC; YouTube needs privacy "private"
    playlist: str | None = None
    draft_captions: bool = False  # send captions that are recogniser drafts


@dataclass(frozen=True)
class LectureFiles:
    """One lecture folder, read once at the start of a run."""

    id: str
    folder: Path  # the version folder <out>/<id> pointed at
    record: LectureRecord
    description: str
    video: Path
    video_size: int
    video_sha256: str
    thumbnail: Path
    captions: Path  # captions.vtt, else captions.srt
    caption_format: str  # "vtt" | "srt"

    @property
    def tags(self) -> list[str]:
        """The chapter titles, each once, in order."""
        return list(dict.fromkeys(c.title for c in self.record.chapters))

    @property
    def language(self) -> str:
        return self.record.language

    @property
    def approximate(self) -> bool:
        return bool(self.record.captions_approximate)

    @property
    def draft(self) -> list[str]:
        return list(self.record.captions_draft)


def digest(data: Any) -> str:
    """SHA-256 of a request body as canonical JSON."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def read_lecture(out_root: Path, lecture_id: str) -> LectureFiles:
    """The lecture's published folder; ``InputError`` (one line) when it is missing or
    incomplete."""
    link = out_root / lecture_id
    where = paths.shown(link)
    if not link.is_dir():
        raise InputError(f"{where}: no rendered lecture here; render it first "
                         f"('lecture render {lecture_id}') or give --out")
    folder = link.resolve()
    try:
        record = read_record(folder / "manifest.json")
    except RecordError as exc:
        raise InputError(f"{where}/manifest.json: {exc}") from None
    for name in record.files()[:6]:
        if not (folder / name).is_file():
            raise InputError(f"{where}/{name}: missing; render the lecture again")
    vtt = folder / "captions.vtt"
    captions = vtt if vtt.is_file() else folder / "captions.srt"
    video = folder / "lecture.mp4"
    return LectureFiles(
        id=record.lecture, folder=folder, record=record,
        description=(folder / "description.txt").read_text(encoding="utf-8"),
        video=video, video_size=video.stat().st_size, video_sha256=file_sha256(video),
        thumbnail=folder / "thumbnail.png", captions=captions,
        caption_format=captions.suffix.lstrip("."))


def problems(lec: LectureFiles) -> list[str]:
    """Every YouTube limit the lecture breaks, one line each, naming the lecture and
    the field."""
    rec = lec.record
    found = limits.check_title(rec.title) + limits.check_description(lec.description)
    found += limits.check_tags(lec.tags)
    with Image.open(lec.thumbnail) as im:
        width, height = im.size
    found += limits.check_thumbnail(lec.thumbnail.stat().st_size, width, height)
    found += limits.check_chapter_lines([Chapter(c.start, c.title) for c in rec.chapters],
                                        rec.duration)
    text = lec.captions.read_text(encoding="utf-8")
    found += limits.check_caption_text(text, lec.caption_format)
    return [f"{lec.id}: {p}" for p in found]


def video_body(lec: LectureFiles, opts: PublishOptions) -> dict[str, Any]:
    """``videos.insert``'s body: snippet and status."""
    status: dict[str, Any] = {"privacyStatus": opts.privacy or "private",
                              "selfDeclaredMadeForKids": False}
    if opts.publish_at is not None:
        status["publishAt"] = opts.publish_at
    return {
        "snippet": {
            "title": lec.record.title, "description": lec.description, "tags": lec.tags,
            "categoryId": EDUCATION, "defaultLanguage": lec.language,
            "defaultAudioLanguage": lec.language,
        },
        "status": status,
    }


def caption_body(lec: LectureFiles, video_id: str) -> dict[str, Any]:
    """``captions.insert``'s body; "approximate" in the name when a take's words could
    not all be aligned."""
    name = CAPTION_NAME + (" (approximate)" if lec.approximate else "")
    return {"snippet": {"videoId": video_id, "language": lec.language, "name": name,
                        "isDraft": False}}


def captions_digest(lec: LectureFiles) -> str:
    """What a caption upload is made of: the file and the track's snippet."""
    return digest({"file": file_sha256(lec.captions), "snippet": caption_body(lec, "")})


def playlist_body(name: str, lec: LectureFiles, opts: PublishOptions) -> dict[str, Any]:
    return {"snippet": {"title": name, "defaultLanguage": lec.language},
            "status": {"privacyStatus": opts.privacy or "private"}}


def playlist_item_body(playlist_id: str, video_id: str) -> dict[str, Any]:
    return {"snippet": {"playlistId": playlist_id,
                        "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
