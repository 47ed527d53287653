"""The publish record: what was sent to YouTube for one lecture, kept beside it.

``<out>/<id>.youtube.json`` (beside the ``<out>/<id>`` link, so a new render, which
switches the link to a new version folder, keeps it). It holds the video id, the
lecture's assembly key and a digest of each thing sent (the file, the metadata, the
captions, the thumbnail), the playlist item, and, while an upload is under way, its
resumable session: the session URI and the bytes the server confirmed. It is rewritten
atomically (``pipeline.files``) after every confirmed chunk, so a run killed at any
point leaves a record the next run can resume from.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import paths
from pipeline.files import write_text_atomic
from pipeline.planning.manifest import InputError

RECORD_FORMAT = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UploadSession(_Model):
    """A resumable upload under way."""

    uri: str  # the session URI from the Location header
    size: int  # bytes of the file
    sha256: str  # of the file being sent
    confirmed: int = 0  # bytes the server has confirmed (its Range header)
    started: str = ""  # UTC time the session was opened


class PublishRecord(_Model):
    format: int = RECORD_FORMAT
    lecture: str
    video_id: str = ""
    assembly_key: str = ""  # the lecture's, when its video was uploaded
    video_sha256: str = ""  # lecture.mp4 of that video
    video_size: int = 0
    metadata_sha256: str = ""  # the snippet and status last sent
    privacy: str = ""  # the status last sent: kept when a re-run names none
    publish_at: str = ""
    thumbnail_sha256: str = ""
    caption_id: str = ""
    captions_sha256: str = ""  # the caption file and track snippet last sent
    playlist: str = ""  # the playlist's name
    playlist_id: str = ""
    playlist_item_id: str = ""
    session: UploadSession | None = None
    replaced: list[str] = []  # video ids this lecture had before a --replace


def record_path(out_root: Path, lecture_id: str) -> Path:
    return out_root / f"{lecture_id}.youtube.json"


def read_publish_record(out_root: Path, lecture_id: str) -> PublishRecord:
    """The record, or an empty one for a lecture never published."""
    path = record_path(out_root, lecture_id)
    if not path.exists():
        return PublishRecord(lecture=lecture_id)
    try:
        return PublishRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError) as exc:
        first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InputError(f"{paths.shown(path)}: not a publish record ({first}); move it "
                         "away to publish this lecture as new") from None


def write_publish_record(out_root: Path, rec: PublishRecord) -> None:
    write_text_atomic(record_path(out_root, rec.lecture), rec.model_dump_json(indent=2) + "\n")
