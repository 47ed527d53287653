"""What a run must send for one lecture, from the lecture folder and its publish record
(pure: no network).

* Never published, or the upload never finished: ``videos.insert`` (resumed when the
  record holds a session for the same file), then the thumbnail, the captions and the
  playlist item.
* Published, same picture and sound (``lecture.mp4``'s SHA-256): only what changed, on
  the same video: ``videos.update`` (snippet and status), ``thumbnails.set``,
  ``captions.update``, the playlist item for a new playlist. Nothing changed: nothing.
* Published, and the picture or sound changed: YouTube cannot replace a video's file,
  so only ``--replace`` uploads a new video (and the run names the old one); without it
  the run stops with one line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.files import file_sha256
from pipeline.planning.manifest import InputError
from pipeline.youtube import lecture as L
from pipeline.youtube.record import PublishRecord

NEW_VIDEO = "<new video id>"  # what a dry run prints where the upload's id will go
PLAYLIST = "<playlist id>"


@dataclass(frozen=True)
class Digests:
    metadata: str
    thumbnail: str
    captions: str


@dataclass(frozen=True)
class Plan:
    lecture: str
    upload: bool = False
    resume: bool = False  # the record holds a session for this very file
    update: bool = False
    thumbnail: bool = False
    captions: str | None = None  # "insert" | "update"
    captions_held: bool = False  # drafts not sent (no --draft-captions)
    playlist: bool = False
    replacing: str = ""  # the video id a --replace upload supersedes

    def calls(self, known_playlist: bool = False) -> list[str]:
        """The API calls, for the quota estimate (``playlists.insert`` counted unless
        the record already knows the playlist)."""
        out = ["videos.insert"] if self.upload else []
        out += ["videos.update"] if self.update else []
        out += ["thumbnails.set"] if self.thumbnail else []
        out += [f"captions.{self.captions}"] if self.captions else []
        if self.playlist:
            out += ["playlists.list"] + ([] if known_playlist else ["playlists.insert"])
            out += ["playlistItems.insert"]
        return out

    @property
    def nothing(self) -> bool:
        return not self.calls()


@dataclass(frozen=True)
class Request:
    """One API call as the client is given it."""

    call: str  # "captions.update"
    params: dict[str, Any]
    body: dict[str, Any] | None = None
    media: Path | None = None

    def shown(self) -> dict[str, Any]:
        out: dict[str, Any] = {"call": self.call, "params": self.params}
        if self.body is not None:
            out["body"] = self.body
        if self.media is not None:
            out["media"] = f"{self.media} ({self.media.stat().st_size} bytes)"
        return out


def digests(lec: L.LectureFiles, opts: L.PublishOptions) -> Digests:
    return Digests(metadata=L.digest(L.video_body(lec, opts)),
                   thumbnail=file_sha256(lec.thumbnail), captions=L.captions_digest(lec))


def decide(lec: L.LectureFiles, rec: PublishRecord, opts: L.PublishOptions, *,
           replace: bool) -> Plan:
    d = digests(lec, opts)
    changed = bool(rec.video_id) and rec.video_sha256 != lec.video_sha256
    if changed and not replace:
        raise InputError(
            f"{lec.id}: the picture or sound changed since video {rec.video_id} was uploaded; "
            "YouTube cannot replace a video's file: run with --replace to upload a new video "
            f"(and then delete {rec.video_id} yourself if you wish)")
    new = not rec.video_id or changed
    held = bool(lec.draft) and not opts.draft_captions
    captions: str | None = None
    if not held:
        if new or not rec.caption_id:
            captions = "insert"
        elif rec.captions_sha256 != d.captions:
            captions = "update"
    session = rec.session
    return Plan(
        lecture=lec.id, upload=new,
        resume=new and session is not None and session.sha256 == lec.video_sha256,
        update=not new and rec.metadata_sha256 != d.metadata,
        thumbnail=new or rec.thumbnail_sha256 != d.thumbnail,
        captions=captions, captions_held=held,
        playlist=opts.playlist is not None and (
            new or rec.playlist != opts.playlist or not rec.playlist_item_id),
        replacing=rec.video_id if changed else "")


def upload_request(lec: L.LectureFiles, opts: L.PublishOptions) -> Request:
    return Request("videos.insert", {"part": "snippet,status"}, L.video_body(lec, opts),
                   lec.video)


def after_upload(plan: Plan, lec: L.LectureFiles, opts: L.PublishOptions, video_id: str,
                 caption_id: str) -> list[Request]:
    """The calls after the upload, on ``video_id`` (playlist calls apart: they need a
    look-up first)."""
    out: list[Request] = []
    if plan.update:
        body = {"id": video_id, **L.video_body(lec, opts)}
        out.append(Request("videos.update", {"part": "snippet,status"}, body))
    if plan.thumbnail:
        out.append(Request("thumbnails.set", {"videoId": video_id}, None, lec.thumbnail))
    if plan.captions == "insert":
        out.append(Request("captions.insert", {"part": "snippet"},
                           L.caption_body(lec, video_id), lec.captions))
    elif plan.captions == "update":
        body = {"id": caption_id, **L.caption_body(lec, video_id)}
        out.append(Request("captions.update", {"part": "snippet"}, body, lec.captions))
    return out


def playlist_requests(lec: L.LectureFiles, opts: L.PublishOptions, video_id: str,
                      playlist_id: str) -> list[Request]:
    """The look-up, the playlist made when missing, and the item (for ``--dry-run``)."""
    assert opts.playlist is not None
    return [
        Request("playlists.list", {"part": "snippet", "mine": True, "maxResults": 50}),
        Request("playlists.insert", {"part": "snippet,status"},
                L.playlist_body(opts.playlist, lec, opts)),
        Request("playlistItems.insert", {"part": "snippet"},
                L.playlist_item_body(playlist_id, video_id)),
    ]
