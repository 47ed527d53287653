"""A stand-in for YouTube on 127.0.0.1, over TLS: the Data API v3 calls that
``lecture publish youtube`` makes, Google's resumable upload protocol, and the OAuth
token endpoint. It stands in for the network, not for the client: the real Google
client talks to it.

Upload protocol (as Google documents it):

* ``POST /upload/youtube/v3/videos?uploadType=resumable`` with the metadata, and
  ``X-Upload-Content-Length``: ``200`` and the session URI in ``Location``;
* ``PUT <session>`` with ``Content-Range: bytes A-B/SIZE``: the chunk must start where
  the server stands and (but the last) be a multiple of 256 KiB; ``308`` with
  ``Range: bytes=0-N``, or ``200`` and the video resource after the last byte;
* ``PUT <session>`` with ``Content-Range: bytes */SIZE`` and no body: where it stands.

Sign-in: ``GET /auth`` stands in for the consent page (it redirects at once to the
app's ``redirect_uri`` with a code), ``POST /token`` exchanges that code or a refresh
token for an access token.

Faults (``Faults``): an HTTP status for chosen chunks (503), a connection dropped in the
middle of a chunk, an access token that expires before a chosen request, an upload
session that expires, quota exceeded on a chosen call, a revoked refresh token, and a
pause per chunk (for a kill mid-upload). Everything received is kept in ``log``.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

UNIT = 256 * 1024
REFRESH_TOKEN = "refresh-secret-1234"
CLIENT_ID = "client-id.apps.example"
CLIENT_SECRET = "client-secret-5678"


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), valid one day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    return cert, key


@dataclass
class Faults:
    chunk_status: dict[int, int] = field(default_factory=dict)  # chunk number -> status
    drop_chunks: set[int] = field(default_factory=set)  # close the connection half way
    expire_token_before: set[int] = field(default_factory=set)  # API request numbers
    expire_session_at: set[int] = field(default_factory=set)  # chunk numbers
    quota_on: str | None = None  # a call name, e.g. "captions.insert"
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)  # call -> status, reason
    revoked: bool = False  # the refresh token is refused (invalid_grant)
    chunk_pause: float = 0.0


@dataclass
class Seen:
    call: str  # "videos.insert", "upload.chunk", "upload.status", "token", ...
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]  # names in lower case
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Session:
    size: int
    meta: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    expired: bool = False
    video: dict[str, Any] | None = None


class FakeYouTube:
    def __init__(self, folder: Path) -> None:
        self.cert, self.key = make_cert(folder)
        self.faults = Faults()
        self.log: list[Seen] = []
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, bytes] = {}  # video id -> the file
        self.thumbnails: dict[str, bytes] = {}
        self.captions: dict[str, dict[str, Any]] = {}
        self.playlists: dict[str, dict[str, Any]] = {}
        self.items: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.chunks = 0  # chunk PUTs seen
        self.api_requests = 0
        self.ids = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self) -> list[str]:
        """The calls received, OAuth refreshes left out."""
        return [s.call for s in self.log if s.call != "token"]

    def clear(self) -> None:
        self.log.clear()

    def env(self) -> dict[str, str]:
        return {"LECTURE_YOUTUBE_API_URL": self.url,
                "LECTURE_YOUTUBE_TOKEN_URL": self.url + "token",
                "HTTPLIB2_CA_CERTS": str(self.cert), "REQUESTS_CA_BUNDLE": str(self.cert)}

    def new_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids:04d}"


# ---------------------------------------------------------------- the handler
ROUTES = {
    ("POST", "/upload/youtube/v3/videos"): "videos.insert",
    ("PUT", "/youtube/v3/videos"): "videos.update",
    ("POST", "/upload/youtube/v3/thumbnails/set"): "thumbnails.set",
    ("POST", "/upload/youtube/v3/captions"): "captions.insert",
    ("PUT", "/upload/youtube/v3/captions"): "captions.update",
    ("GET", "/youtube/v3/playlists"): "playlists.list",
    ("POST", "/youtube/v3/playlists"): "playlists.insert",
    ("POST", "/youtube/v3/playlistItems"): "playlistItems.insert",
    ("POST", "/token"): "token",
    ("GET", "/auth"): "consent",
}


def _error(status: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message,
                              "errors": [{"reason": reason, "message": message}]}}


def _handler(yt: FakeYouTube) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            call = ROUTES.get((self.command, url.path), "unknown")
            if "upload_id" in query:
                call = "upload.status" if self.headers.get("Content-Range", "").startswith(
                    "bytes */") else "upload.chunk"
            seen = Seen(call, self.command, url.path, query, b"",
                        {k.lower(): v for k, v in self.headers.items()})
            with yt.lock:
                yt.log.append(seen)
            if call == "upload.chunk":
                return self._chunk(seen)
            seen.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers: dict[str, str] = {}
            with yt.lock:
                status, answer = self._answer(seen, headers)
            seen.status = status
            self._send(status, answer, headers)

        def _send(self, status: int, answer: Any, headers: dict[str, str]) -> None:
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, seen: Seen, headers: dict[str, str]) -> tuple[int, Any]:
            if seen.call == "token":
                return _token(yt, seen)
            if seen.call == "consent":  # the user said yes: back to the app with a code
                headers["Location"] = (f"{seen.query['redirect_uri']}?code=code-42&"
                                       f"state={seen.query['state']}")
                return 302, None
            yt.api_requests += 1
            if yt.api_requests in yt.faults.expire_token_before:
                yt.tokens.clear()
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in yt.tokens:
                return _error(401, "authError", "Invalid Credentials")
            if seen.call == yt.faults.quota_on:
                return _error(403, "quotaExceeded", "The request cannot be completed because "
                              "you have exceeded your quota.")
            if seen.call in yt.faults.refuse:
                status, reason = yt.faults.refuse[seen.call]
                return _error(status, reason, f"refused: {reason}")
            if seen.call == "upload.status":
                return _status(yt, seen, headers)
            if seen.call == "upload.chunk":
                return 200, None  # signed in: the chunk itself is stored by the caller
            return CALLS[seen.call](yt, seen, headers) if seen.call in CALLS else \
                _error(404, "notFound", f"no route {seen.method} {seen.path}")

        def _chunk(self, seen: Seen) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            with yt.lock:
                yt.chunks += 1
                number = yt.chunks
            if number in yt.faults.drop_chunks:
                self.rfile.read(n // 2)
                seen.status = -1
                self.close_connection = True
                self.connection.shutdown(2)
                return
            seen.body = self.rfile.read(n)
            time.sleep(yt.faults.chunk_pause)
            headers: dict[str, str] = {}
            with yt.lock:
                status, answer = self._answer(seen, headers)
                if status in (200, 308) and number in yt.faults.chunk_status:
                    status, answer = _error(yt.faults.chunk_status[number], "backendError",
                                            "try again")
                elif status in (200, 308) and number in yt.faults.expire_session_at:
                    yt.sessions[seen.query["upload_id"]].expired = True
                    status, answer = _error(404, "notFound", "upload session expired")
                else:
                    status, answer = _store_chunk(yt, seen, headers) if status == 200 \
                        else (status, answer)
            seen.status = status
            self._send(status, answer, headers)

    return Handler


def _token(yt: FakeYouTube, seen: Seen) -> tuple[int, Any]:
    form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
    good = form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
    grant = form.get("grant_type")
    if grant == "refresh_token" and (yt.faults.revoked or form.get("refresh_token")
                                     != REFRESH_TOKEN or not good):
        return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
    if grant == "authorization_code" and form.get("code") != "code-42":
        return 400, {"error": "invalid_grant", "error_description": "Bad code."}
    token = f"access-{len(yt.tokens) + len(yt.log)}"
    yt.tokens.add(token)
    answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer",
              "scope": " ".join(SCOPES)}
    if grant == "authorization_code":
        answer["refresh_token"] = REFRESH_TOKEN
    return 200, answer


SCOPES = ("https://www.googleapis.com/auth/youtube.upload",
          "https://www.googleapis.com/auth/youtube.force-ssl")


def _session(yt: FakeYouTube, seen: Seen) -> Session | None:
    s = yt.sessions.get(seen.query["upload_id"])
    return None if s is None or s.expired else s


def _status(yt: FakeYouTube, seen: Seen, headers: dict[str, str]) -> tuple[int, Any]:
    s = _session(yt, seen)
    if s is None:
        return _error(404, "notFound", "upload session expired")
    if s.video is not None:
        return 200, s.video
    if s.data:
        headers["Range"] = f"bytes=0-{len(s.data) - 1}"
    return 308, None


def _store_chunk(yt: FakeYouTube, seen: Seen, headers: dict[str, str]) -> tuple[int, Any]:
    s = _session(yt, seen)
    if s is None:
        return _error(404, "notFound", "upload session expired")
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", seen.headers.get("content-range", ""))
    if m is None or int(m[3]) != s.size:
        return _error(400, "badContent", f"bad Content-Range {seen.headers.get('content-range')}")
    start, end = int(m[1]), int(m[2])
    last = end + 1 == s.size
    if start != len(s.data) or end - start + 1 != len(seen.body) or (
            not last and len(seen.body) % UNIT):
        return _error(400, "badContent", f"chunk {start}-{end} does not follow byte "
                      f"{len(s.data)} or is not a multiple of 256 KiB")
    s.data += seen.body
    if not last:
        headers["Range"] = f"bytes=0-{len(s.data) - 1}"
        return 308, None
    video_id = yt.new_id("vid")
    s.video = {"kind": "youtube#video", "id": video_id, **s.meta}
    yt.videos[video_id] = s.video
    yt.uploaded[video_id] = bytes(s.data)
    return 200, s.video


def _videos_insert(yt: FakeYouTube, seen: Seen, headers: dict[str, str]) -> tuple[int, Any]:
    if seen.query.get("uploadType") != "resumable":
        return _error(400, "badRequest", "expected a resumable upload")
    sid = f"s{len(yt.sessions) + 1}"
    yt.sessions[sid] = Session(int(seen.headers["x-upload-content-length"]), seen.json())
    headers["Location"] = f"{yt.url}upload/youtube/v3/videos?uploadType=resumable&upload_id={sid}"
    return 200, None


def _videos_update(yt: FakeYouTube, seen: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    body = seen.json()
    if body.get("id") not in yt.videos:
        return _error(404, "videoNotFound", "no such video")
    yt.videos[body["id"]].update({k: body[k] for k in ("snippet", "status") if k in body})
    return 200, yt.videos[body["id"]]


def _multipart(seen: Seen) -> tuple[dict[str, Any], bytes]:
    head = f"Content-Type: {seen.headers['content-type']}\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + seen.body)
    parts = list(msg.iter_parts())
    meta = json.loads(parts[0].get_payload(decode=True))
    return meta, parts[1].get_payload(decode=True)


def _thumbnail(yt: FakeYouTube, seen: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    if seen.query.get("videoId") not in yt.videos:
        return _error(404, "videoNotFound", "no such video")
    yt.thumbnails[seen.query["videoId"]] = seen.body
    return 200, {"items": [{"default": {"url": "https://i.example/t.png"}}]}


def _captions(yt: FakeYouTube, seen: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    meta, data = _multipart(seen)
    if meta["snippet"]["videoId"] not in yt.videos:
        return _error(404, "videoNotFound", "no such video")
    cid = meta.get("id") or yt.new_id("cap")
    if seen.method == "PUT" and cid not in yt.captions:
        return _error(404, "captionNotFound", "no such caption track")
    yt.captions[cid] = {"id": cid, "snippet": meta["snippet"], "data": data}
    return 200, {"kind": "youtube#caption", "id": cid, "snippet": meta["snippet"]}


def _playlists_list(yt: FakeYouTube, _s: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    return 200, {"items": list(yt.playlists.values())}


def _playlists_insert(yt: FakeYouTube, seen: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    pid = yt.new_id("pl")
    yt.playlists[pid] = {"id": pid, **seen.json()}
    return 200, yt.playlists[pid]


def _playlist_item(yt: FakeYouTube, seen: Seen, _h: dict[str, str]) -> tuple[int, Any]:
    snippet = seen.json()["snippet"]
    if snippet["playlistId"] not in yt.playlists:
        return _error(404, "playlistNotFound", "no such playlist")
    item = {"id": yt.new_id("item"), "snippet": snippet}
    yt.items.append(item)
    return 200, item


CALLS = {"videos.insert": _videos_insert, "videos.update": _videos_update,
         "thumbnails.set": _thumbnail, "captions.insert": _captions,
         "captions.update": _captions, "playlists.list": _playlists_list,
         "playlists.insert": _playlists_insert, "playlistItems.insert": _playlist_item}
