"""The Data API v3 through Google's client: the service, the retry policy, and what a
refusal means to the author.

The client reads the API's surface from the discovery document it ships
(``static_discovery``); only the calls themselves go out, to ``$LECTURE_YOUTUBE_API_URL``
(default Google's) over the given ``httplib2`` transport, which signs each request and
refreshes the access token when it expires (``google_auth_httplib2``).

Retries follow Google's policy for uploads: a 500, 502, 503 or 504, or a dropped
connection, is tried again after an exponentially growing pause with random jitter
(``random() * base * 2**n``, at most :data:`MAX_RETRIES` times in a row); any other 4xx
is not retried (a 401 is, once, by the transport, after a token refresh).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from pipeline.planning.manifest import InputError
from pipeline.youtube.steps import Request

API_ENV = "LECTURE_YOUTUBE_API_URL"
DEFAULT_API = "https://www.googleapis.com/"
BACKOFF_ENV = "LECTURE_YOUTUBE_BACKOFF"  # seconds of the first pause (tests make it short)
RETRY_STATUS = frozenset({500, 502, 503, 504})
MAX_RETRIES = 8
MAX_PAUSE = 64.0
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httplib2.HttpLib2Error, http.client.HTTPException, OSError)

T = TypeVar("T")


class PublishError(InputError):
    """YouTube refused: one line saying what to do (exit 2)."""


def api_url() -> str:
    return os.environ.get(API_ENV) or DEFAULT_API


def service(transport: Any) -> Any:
    """The ``youtube`` v3 resource on ``transport`` (an authorized ``httplib2.Http``)."""
    return build("youtube", "v3", http=transport, static_discovery=True,
                 cache_discovery=False, client_options={"api_endpoint": api_url()})


def pause(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds before retry ``attempt`` (0, 1, ...): full jitter on an exponential."""
    base = float(os.environ.get(BACKOFF_ENV) or 1.0)
    return float(min(MAX_PAUSE, base * 2 ** attempt) * rand())


def retriable(exc: BaseException) -> bool:
    """A 5xx of :data:`RETRY_STATUS` or a dropped connection; not a certificate that
    fails verification (trying again changes nothing)."""
    if isinstance(exc, HttpError):
        return exc.resp.status in RETRY_STATUS
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, TRANSPORT_ERRORS)


def with_retries(fn: Callable[[], T], call: str,
                 on_retry: Callable[[str], None] = lambda _: None) -> T:
    """``fn()``, tried again on a retriable failure; others become :func:`explain`."""
    attempt = 0
    while True:
        try:
            return fn()
        except HttpError as exc:
            if not retriable(exc) or attempt >= MAX_RETRIES:
                raise explain(exc, call) from None
            what = f"{exc.resp.status}"
        except TRANSPORT_ERRORS as exc:
            if not retriable(exc) or attempt >= MAX_RETRIES:
                raise
            what = type(exc).__name__
        wait = pause(attempt)
        on_retry(f"{call}: {what}; trying again in {wait:.1f} s")
        time.sleep(wait)
        attempt += 1


def reason_of(exc: HttpError) -> tuple[str, str]:
    """The error's first reason and its message, from the JSON body."""
    try:
        err = json.loads(exc.content.decode("utf-8"))["error"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return "", ""
    errors = err.get("errors") or [{}]
    return str(errors[0].get("reason", "")), str(err.get("message", ""))


def explain(exc: HttpError, call: str) -> PublishError:
    status = exc.resp.status
    reason, message = reason_of(exc)
    if reason in ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"):
        return PublishError(
            f"{call}: YouTube's daily quota is used up ({reason}); what was sent is kept: "
            "run the same command again after midnight Pacific time, or ask for more quota "
            "in the Google Cloud console")
    if status == 403 and reason in ("insufficientPermissions",
                                    "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
        return PublishError(f"{call}: the YouTube sign-in lacks a needed scope ({reason}): "
                            "sign in again with --sign-in")
    if status == 401:
        return PublishError(f"{call}: YouTube refused the sign-in (revoked or expired): "
                            "sign in again with --sign-in")
    if status == 404 and reason in ("videoNotFound", "captionNotFound"):
        return PublishError(f"{call}: YouTube no longer has it ({reason}), deleted there? "
                            "Move <out>/<id>.youtube.json away to publish the lecture anew")
    detail = ": ".join(x for x in (reason, message) if x)
    return PublishError(f"{call}: YouTube answered {status}" + (f" ({detail})" if detail else ""))


MIME = {".png": "image/png", ".vtt": "text/vtt", ".srt": "application/x-subrip",
        ".mp4": "video/mp4"}


def execute(youtube: Any, req: Request, on_retry: Callable[[str], None]) -> dict[str, Any]:
    """One call that is not the video upload, with the retry policy."""
    resource, method = req.call.split(".")
    kwargs: dict[str, Any] = dict(req.params)
    if req.body is not None:
        kwargs["body"] = req.body
    if req.media is not None:
        kwargs["media_body"] = MediaFileUpload(str(req.media), resumable=False,
                                               mimetype=MIME[req.media.suffix])
    request = getattr(getattr(youtube, resource)(), method)(**kwargs)
    result: dict[str, Any] = with_retries(lambda: request.execute(num_retries=0), req.call,
                                          on_retry)
    return result
