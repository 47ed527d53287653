"""The video's resumable upload (Google's resumable protocol, through the client).

A session is opened once (``videos.insert`` with ``uploadType=resumable`` answers with
its URI in ``Location``); the file then goes in chunks of a multiple of 256 KiB, each
answered ``308`` with ``Range: bytes=0-N`` (the bytes the server holds) until the last
is answered with the video resource. After every chunk the session URI and the
confirmed bytes are written to the publish record, so a run that was killed or lost
the network asks where the server stands (an empty ``PUT`` with
``Content-Range: bytes */SIZE``) and sends only the rest. A session the server no longer
knows (404 or 410) is started over, and the run says so.

Each chunk is read from the file when it is sent (:class:`FileChunks`), so a request
the transport repeats after a token refresh carries the same bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import MediaUpload

from pipeline.youtube import api
from pipeline.youtube.record import PublishRecord, UploadSession

EXPIRED = frozenset({404, 410})
MAX_RESTARTS = 3  # sessions that expire one after another: something else is wrong


class FileChunks(MediaUpload):  # type: ignore[misc]
    """A file sent in chunks, each read when it is sent."""

    def __init__(self, path: Path, size: int, chunk: int) -> None:
        self._path, self._size, self._chunk = path, size, chunk

    def chunksize(self) -> int:
        return self._chunk

    def mimetype(self) -> str:
        return "video/mp4"

    def size(self) -> int:
        return self._size

    def resumable(self) -> bool:
        return True

    def has_stream(self) -> bool:
        return False

    def getbytes(self, begin: int, length: int) -> bytes:
        with self._path.open("rb") as fh:
            fh.seek(begin)
            return fh.read(length)


@dataclass
class Upload:
    """What the upload needs besides the request: where to keep the session, and whom
    to tell about progress and retries."""

    path: Path
    size: int
    sha256: str
    chunk: int
    save: Callable[[PublishRecord], None]
    on_bytes: Callable[[int, int], None]
    say: Callable[[str], None]
    sent: int = 0  # bytes put on the wire by this run (chunks answered or not)


def status(transport: Any, uri: str, size: int) -> int | dict[str, Any] | None:
    """Where the server stands: bytes held, the finished resource, or ``None`` when the
    session has expired."""
    def query() -> tuple[Any, bytes]:
        resp, content = transport.request(uri, "PUT", body=b"", headers={
            "Content-Range": f"bytes */{size}", "Content-Length": "0"})
        if resp.status in api.RETRY_STATUS:
            raise HttpError(resp, content, uri=uri)
        return resp, content

    resp, content = api.with_retries(query, "upload status")
    if resp.status in EXPIRED:
        return None
    if resp.status in (200, 201):
        done: dict[str, Any] = json.loads(content.decode("utf-8"))
        return done
    if resp.status != 308:
        raise api.explain(HttpError(resp, content, uri=uri), "upload status")
    held = resp.get("range")
    return int(held.rsplit("-", 1)[1]) + 1 if held else 0


def upload(youtube: Any, transport: Any, rec: PublishRecord, body: dict[str, Any],
           up: Upload) -> dict[str, Any]:
    """The video resource, once the whole file is on the server."""
    session = rec.session if rec.session and rec.session.sha256 == up.sha256 else None
    for _restart in range(MAX_RESTARTS + 1):
        request = youtube.videos().insert(part="snippet,status", body=body,
                                          media_body=FileChunks(up.path, up.size, up.chunk))
        if session is not None:
            where = status(transport, session.uri, up.size)
            if isinstance(where, dict):
                return where
            if where is None:
                up.say("the upload session expired (YouTube keeps one about a week); "
                       "starting the upload over")
                session = None
            else:
                up.say(f"resuming the upload at byte {where} of {up.size}")
                request.resumable_uri, request.resumable_progress = session.uri, where
                up.on_bytes(where, up.size)
        done = _chunks(request, rec, up)
        if done is not None:
            return done
        session = None  # expired mid-upload: a new session
    raise api.PublishError(f"videos.insert: {MAX_RESTARTS + 1} upload sessions in a row "
                           "expired; run again later")


def _chunks(request: Any, rec: PublishRecord, up: Upload) -> dict[str, Any] | None:
    """Send chunk after chunk; the resource when done, ``None`` when the session expired."""
    failures = 0
    while True:
        start = request.resumable_progress
        up.sent += min(up.chunk, up.size - start)
        try:
            _progress, done = request.next_chunk(num_retries=0)
        except HttpError as exc:
            if exc.resp.status in EXPIRED:
                up.say("the upload session expired; starting the upload over")
                rec.session = None
                up.save(rec)
                return None
            if not api.retriable(exc) or failures >= api.MAX_RETRIES:
                raise api.explain(exc, "videos.insert") from None
            failures = _wait(failures, f"{exc.resp.status}", up)
            continue
        except api.TRANSPORT_ERRORS as exc:
            if not api.retriable(exc) or failures >= api.MAX_RETRIES:
                raise
            failures = _wait(failures, type(exc).__name__, up)
            continue
        failures = 0
        if done is not None:
            result: dict[str, Any] = done
            return result
        _keep(rec, request, up)
        up.on_bytes(request.resumable_progress, up.size)


def _keep(rec: PublishRecord, request: Any, up: Upload) -> None:
    old = rec.session
    rec.session = UploadSession(
        uri=request.resumable_uri, size=up.size, sha256=up.sha256,
        confirmed=request.resumable_progress,
        started=old.started if old is not None and old.uri == request.resumable_uri
        else datetime.now(UTC).isoformat(timespec="seconds"))
    up.save(rec)


def _wait(failures: int, what: str, up: Upload) -> int:
    wait = api.pause(failures)
    up.say(f"upload: {what}; trying again in {wait:.1f} s from the last confirmed byte")
    time.sleep(wait)
    return failures + 1
