"""The studio's HTTP server: the standard library's threading server, on 127.0.0.1.

Routes (each behind :class:`pipeline.studio.guard.Guard`):

* ``GET /``: the page (and the token cookie, when the URL carries the token);
* ``GET /assets/<file>``: the page's own files (``page/``, package data; no CDN);
* ``GET /media/<version>/<file>``: a file of a published preview version, with byte
  ranges (the player seeks by them);
* ``GET /api/state``: what the page shows, as JSON;
* ``GET /api/events``: server-sent events (progress, new previews, errors);
* ``POST /api/run/<job>``: queue ``preview``, ``render``, ``check``, ``slides`` or
  ``publish``; ``POST /api/stop``: stop the running job.

No framework: the page needs a handful of routes, server-sent events are a loop that
writes to the socket, and a dependency less is one less thing that downloads.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import queue
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline.planning.manifest import InputError
from pipeline.studio.events import Hub
from pipeline.studio.guard import Guard, confined
from pipeline.studio.session import Session

PAGE = Path(__file__).resolve().parent / "page"
VERSION = re.compile(r"^v\d{6}$")
KEEPALIVE = 15.0  # seconds between comments on an idle event stream
TYPES = {".vtt": "text/vtt", ".mp4": "video/mp4", ".js": "text/javascript",
         ".css": "text/css", ".html": "text/html", ".json": "application/json",
         ".png": "image/png", ".svg": "image/svg+xml"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


class StudioServer(ThreadingHTTPServer):
    daemon_threads = True  # a player's open range request does not hold up the exit
    block_on_close = False

    def __init__(self, port: int, session: Session, hub: Hub) -> None:
        try:
            super().__init__(("127.0.0.1", port), Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"--port {port}: 127.0.0.1:{port} is already in use; "
                                 "give another port, or leave --port out for a free one") \
                    from None
            raise
        self.guard = Guard(self.server_address[1])
        self.session, self.hub = session, hub
        self.closing = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: StudioServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass  # the terminal shows the studio's own lines, not every request

    # ------------------------------------------------------------ routing
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self._route("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._route("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        headers = {k.title(): v for k, v in self.headers.items()}
        if len(self.headers.get_all("Host") or []) > 1:
            headers["Host"] = ""  # two Host headers: neither is believed
        refusal = self.server.guard.check(method, url.query, headers)
        if refusal is not None:
            self._text(refusal.status, refusal.reason)
            return
        path = unquote(url.path)
        if ".." in path.split("/") or "\\" in path or "\0" in path:
            self._text(400, "the path leaves the served folders")
            return
        if method == "POST":
            self._post(path)
        elif path in ("/", "/index.html"):
            self._file(PAGE / "index.html", cookie=True)
        elif path.startswith("/assets/"):
            self._confined(PAGE, path.removeprefix("/assets/"))
        elif path.startswith("/media/"):
            self._media(path.removeprefix("/media/"))
        elif path == "/api/state":
            self._json(self.server.session.state())
        elif path == "/api/events" and method == "GET":
            self._events()
        else:
            self._text(404, "not found")

    def _post(self, path: str) -> None:
        session = self.server.session
        if path == "/api/stop":
            session.stop_job()
            self._json({"stopping": session.job})
        elif path.startswith("/api/run/") and session.request(path.removeprefix("/api/run/")):
            self._json({"queued": path.removeprefix("/api/run/")}, status=202)
        else:
            self._text(404, "no such job")

    def _media(self, rest: str) -> None:
        version, _, name = rest.partition("/")
        store = self.server.session.preview_store
        if store is None or not VERSION.match(version):
            self._text(404, "not found")
            return
        self._confined(store / version, name)

    def _confined(self, root: Path, name: str) -> None:
        target = confined(root, name)
        if target is None:
            self._text(404, "not found")
        else:
            self._file(target)

    # ------------------------------------------------------------ answers
    def _head(self, status: int, ctype: str, length: int | None,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _text(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self._head(status, "text/plain; charset=utf-8", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200) -> None:
        body = json.dumps(data).encode()
        self._head(status, "application/json", len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def _file(self, path: Path, *, cookie: bool = False) -> None:
        ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] \
            or "application/octet-stream"
        size = path.stat().st_size
        extra = {"Accept-Ranges": "bytes"}
        if cookie:
            extra["Set-Cookie"] = self.server.guard.cookie()
            extra["Content-Security-Policy"] = CSP
        first, last = 0, size - 1
        status = 200
        try:
            wanted = _byte_range(self.headers.get("Range"), size)
        except ValueError:
            self._head(416, "text/plain", 0, {"Content-Range": f"bytes */{size}"})
            return
        if wanted is not None:
            first, last = wanted
            status = 206
            extra["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._head(status, ctype, last - first + 1, extra)
        if self.command == "HEAD":
            return
        try:
            with path.open("rb") as fh:
                fh.seek(first)
                left = last - first + 1
                while left > 0:
                    chunk = fh.read(min(1 << 16, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the player cancelled its range request: routine

    def _events(self) -> None:
        """Server-sent events until the page goes away or the studio stops."""
        hub = self.server.hub
        q = hub.subscribe()
        try:
            self._head(200, "text/event-stream", None, {"X-Accel-Buffering": "no"})
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while not self.server.closing.is_set():
                try:
                    item = q.get(timeout=KEEPALIVE)
                except queue.Empty:
                    item = ": keep-alive\n\n"
                if item is None:
                    break
                self.wfile.write(item.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the page closed: nothing else depends on it
        finally:
            hub.unsubscribe(q)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` (one range) as (first, last); ValueError if unsatisfiable."""
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if m is None or (not m[1] and not m[2]):
        return None
    if not m[1]:
        n = int(m[2])
        if n <= 0 or size <= 0:
            raise ValueError(header)
        return max(0, size - n), size - 1
    first = int(m[1])
    last = min(int(m[2]), size - 1) if m[2] else size - 1
    if first >= size or last < first:
        raise ValueError(header)
    return first, last

