"""Who may talk to the studio, and which files it may serve.

The studio can render (and, later, publish), so a page from elsewhere open in the same
browser must not drive it:

* it listens on 127.0.0.1 only (:mod:`pipeline.studio.server`);
* every request carries the random token printed with the URL, as a ``token`` query
  parameter or the ``SameSite=Strict`` cookie the page gets from that URL;
* the ``Host`` header must name this server (``127.0.0.1`` or ``localhost`` and its
  port): a rebound DNS name is refused;
* a request with an ``Origin`` header from anywhere else is refused, and a request that
  changes something must carry this server's ``Origin``;
* files are served from a fixed list of folders only: :func:`confined` refuses ``..``,
  absolute names and links that lead outside.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

COOKIE = "lecture_studio_token"
SAFE_METHODS = ("GET", "HEAD")


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


@dataclass(frozen=True)
class Guard:
    """The checks every request passes before it is routed."""

    port: int
    token: str = field(default_factory=new_token)

    @property
    def hosts(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(f"http://{h}" for h in self.hosts)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def check(self, method: str, query: str, headers: Mapping[str, str]) -> Refusal | None:
        """None when the request may go on, else why not (403 each)."""
        host = headers.get("Host", "")
        if host not in self.hosts:
            return Refusal(403, f"foreign Host {host!r}")
        origin = headers.get("Origin")
        if origin is not None and origin not in self.origins:
            return Refusal(403, f"foreign Origin {origin!r}")
        if method not in SAFE_METHODS and origin is None:
            return Refusal(403, "a change needs this page's Origin")
        if not self.has_token(query, headers.get("Cookie", "")):
            return Refusal(403, "no valid token (open the URL the studio printed)")
        return None

    def has_token(self, query: str, cookie_header: str) -> bool:
        given = parse_qs(query).get("token", [])
        if any(hmac.compare_digest(t, self.token) for t in given):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(cookie_header)
        except CookieError:
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value, self.token)

    def cookie(self) -> str:
        return f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"


def confined(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it is a file inside ``root`` (links resolved), else None.

    ``relative`` is the already unquoted rest of a URL path: empty parts, ``.``, ``..``,
    backslashes and NUL bytes are refused before the file system is asked."""
    parts = relative.split("/")
    if not relative or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
