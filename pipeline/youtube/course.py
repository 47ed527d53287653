"""``lecture publish youtube``: one or more lectures, in order, each as its record says.

Every lecture is read and checked against YouTube's limits before anything is sent (or
signed in); the plan of each (``steps.decide``) and the quota it will use are known
before the first request. A dry run stops there and shows the exact requests. A real run
signs in, then per lecture, under the lecture's publish lock: upload (or resume), then
the update calls, then the playlist item; the record is written after every call that
changed something on YouTube, so a run stopped anywhere repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.lock import FolderLock
from pipeline.youtube import api, auth, limits, steps
from pipeline.youtube import lecture as L
from pipeline.youtube.record import PublishRecord, read_publish_record, write_publish_record
from pipeline.youtube.upload import Upload, upload

DEFAULT_CHUNK = 8 * 1024 * 1024


class LimitsError(api.PublishError):
    """The lectures break YouTube's limits: ``lines``, one per rule broken."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines[0])
        self.lines = list(lines)


@dataclass(frozen=True)
class SignIn:
    secrets: Path | None = None
    sign_in: bool = False
    no_browser: bool = False


@dataclass
class Hooks:
    """Where a run reports: lines, retries, upload bytes (lecture, done, total)."""

    say: Callable[[str], None]
    on_bytes: Callable[[str, int, int], None] = lambda _l, _d, _t: None


@dataclass
class Outcome:
    lecture: str
    video_id: str = ""
    sent: list[str] = field(default_factory=list)  # the calls made
    uploaded: int = 0  # bytes put on the wire for the video
    replaced: str = ""

    @property
    def url(self) -> str:
        return f"https://youtu.be/{self.video_id}" if self.video_id else ""


@dataclass
class Prepared:
    lec: L.LectureFiles
    rec: PublishRecord
    plan: steps.Plan
    opts: L.PublishOptions  # the run's, privacy and publishAt completed from the record


def own_options(opts: L.PublishOptions, rec: PublishRecord) -> L.PublishOptions:
    """Without ``--privacy`` or ``--publish-at``, a video keeps what it was last sent (a
    new one is private), so re-running a command without them changes nothing."""
    if opts.privacy is None and opts.publish_at is None:
        return replace(opts, privacy=rec.privacy or "private", publish_at=rec.publish_at or None)
    return replace(opts, privacy=opts.privacy or "private")


def prepare(ids: Sequence[str], out_root: Path, opts: L.PublishOptions, *,
            replace: bool) -> list[Prepared]:
    """Read, check and plan every lecture; ``LimitsError`` lists every limit broken."""
    lectures = [L.read_lecture(out_root, i) for i in ids]
    broken = [p for lec in lectures for p in L.problems(lec)]
    if broken:
        raise LimitsError(broken)
    out = []
    for lec in lectures:
        rec = read_publish_record(out_root, lec.id)
        own = own_options(opts, rec)
        out.append(Prepared(lec, rec, steps.decide(lec, rec, own, replace=replace), own))
    return out


def quota_line(prepared: Sequence[Prepared]) -> str:
    calls = [c for p in prepared for c in p.plan.calls(
        known_playlist=bool(p.rec.playlist_id) and p.rec.playlist == p.opts.playlist)]
    uploads = calls.count("videos.insert")
    return (f"quota: about {limits.quota(calls)} units of the {limits.DAILY_UNITS} a day "
            f"({len(calls)} calls, {uploads} upload{'s' if uploads != 1 else ''}; "
            "YouTube Data API cost table)")


def dry_run(prepared: Sequence[Prepared]) -> list[dict[str, Any]]:
    """Every request a run would send, as the client would be given it."""
    shown: list[dict[str, Any]] = []
    for p in prepared:
        opts = p.opts
        video_id = p.rec.video_id if not p.plan.upload else steps.NEW_VIDEO
        reqs = [steps.upload_request(p.lec, opts)] if p.plan.upload else []
        reqs += steps.after_upload(p.plan, p.lec, opts, video_id, p.rec.caption_id)
        if p.plan.playlist:
            reqs += steps.playlist_requests(p.lec, opts, video_id,
                                            p.rec.playlist_id or steps.PLAYLIST)
        rows = [{"lecture": p.lec.id, **r.shown()} for r in reqs]
        if p.plan.resume and p.rec.session is not None:
            rows[0]["resume_from_byte"] = p.rec.session.confirmed  # as last confirmed
        shown += rows
    return shown


def publish(prepared: Sequence[Prepared], out_root: Path, *, sign: SignIn, chunk: int,
            hooks: Hooks) -> list[Outcome]:
    """Send what each plan says; returns what was done, lecture by lecture."""
    if all(p.plan.nothing for p in prepared):
        return [Outcome(p.lec.id, p.rec.video_id) for p in prepared]
    creds = auth.credentials(auth.secrets_file(sign.secrets), sign_in=sign.sign_in,
                             no_browser=sign.no_browser, say=hooks.say)
    transport = auth.transport(creds)
    youtube = api.service(transport)
    playlists: dict[str, str] = {}
    outcomes = []
    for p in prepared:
        with FolderLock(out_root / f".{p.lec.id}.youtube.lock", on_wait=_waiting(p.lec.id, hooks)):
            outcomes.append(_one(p, out_root, youtube, transport, chunk, hooks, playlists))
    return outcomes


def _waiting(lecture: str, hooks: Hooks) -> Callable[[str], None]:
    def waiting(pid: str) -> None:
        hooks.say(f"waiting: another publish run (pid {pid}) is sending {lecture}")
    return waiting


def _one(p: Prepared, out_root: Path, youtube: Any, transport: Any, chunk: int, hooks: Hooks,
         playlists: dict[str, str]) -> Outcome:
    lec, rec, plan, opts = p.lec, p.rec, p.plan, p.opts
    out = Outcome(lec.id, rec.video_id, replaced=plan.replacing)
    d = steps.digests(lec, opts)

    def save(r: PublishRecord) -> None:
        write_publish_record(out_root, r)

    if plan.upload:
        up = Upload(lec.video, lec.video_size, lec.video_sha256, chunk, save,
                    lambda done, total: hooks.on_bytes(lec.id, done, total), hooks.say)
        video = _guarded(lambda: upload(youtube, transport, rec, L.video_body(lec, opts), up))
        if plan.replacing:
            rec.replaced.append(plan.replacing)
        rec.video_id, rec.session = str(video["id"]), None
        rec.assembly_key, rec.video_sha256 = lec.record.assembly_key, lec.video_sha256
        rec.video_size, rec.metadata_sha256 = lec.video_size, d.metadata
        rec.privacy, rec.publish_at = opts.privacy or "private", opts.publish_at or ""
        rec.caption_id = rec.captions_sha256 = rec.thumbnail_sha256 = ""
        rec.playlist = rec.playlist_id = rec.playlist_item_id = ""
        save(rec)
        out.video_id, out.uploaded = rec.video_id, up.sent
        out.sent.append("videos.insert")
    for req in steps.after_upload(plan, lec, opts, rec.video_id, rec.caption_id):
        answer = _guarded(lambda r=req: api.execute(youtube, r, hooks.say))  # type: ignore[misc]
        _remember(rec, req.call, answer, d)
        if req.call == "videos.update":
            rec.privacy, rec.publish_at = opts.privacy or "private", opts.publish_at or ""
        save(rec)
        out.sent.append(req.call)
    if plan.playlist and opts.playlist is not None:
        out.sent += _playlist(youtube, lec, rec, opts, playlists, hooks)
        save(rec)
    return out


def _remember(rec: PublishRecord, call: str, answer: dict[str, Any], d: steps.Digests) -> None:
    if call == "videos.update":
        rec.metadata_sha256 = d.metadata
    elif call == "thumbnails.set":
        rec.thumbnail_sha256 = d.thumbnail
    elif call.startswith("captions."):
        rec.caption_id, rec.captions_sha256 = str(answer["id"]), d.captions


def _playlist(youtube: Any, lec: L.LectureFiles, rec: PublishRecord, opts: L.PublishOptions,
              playlists: dict[str, str], hooks: Hooks) -> list[str]:
    """Find (or make) the named playlist once a run, then add the video to its end."""
    name = opts.playlist
    assert name is not None
    look, make, _item = steps.playlist_requests(lec, opts, rec.video_id, "")
    sent = []
    if name not in playlists:
        playlists[name] = _find_playlist(youtube, name, look, hooks)
        sent.append(look.call)
        if not playlists[name]:
            made = _guarded(lambda: api.execute(youtube, make, hooks.say))
            playlists[name] = str(made["id"])
            sent.append(make.call)
            hooks.say(f"made the playlist {name!r}")
    item = steps.playlist_requests(lec, opts, rec.video_id, playlists[name])[2]
    added = _guarded(lambda: api.execute(youtube, item, hooks.say))
    rec.playlist, rec.playlist_id, rec.playlist_item_id = name, playlists[name], str(added["id"])
    return [*sent, item.call]


def _find_playlist(youtube: Any, name: str, look: steps.Request, hooks: Hooks) -> str:
    token: str | None = None
    while True:
        params = {**look.params, **({"pageToken": token} if token else {})}
        page = _guarded(lambda p=params: api.execute(youtube, steps.Request(look.call, p),  # type: ignore[misc]
                                                     hooks.say))
        for item in page.get("items", []):
            if item.get("snippet", {}).get("title") == name:
                return str(item["id"])
        token = page.get("nextPageToken")
        if not token:
            return ""


def _guarded(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A refused token refresh (a revoked sign-in), or a network that stayed down through
    every retry, as one line saying what to do."""
    from google.auth.exceptions import RefreshError, TransportError

    down: tuple[type[BaseException], ...] = (TransportError, *api.TRANSPORT_ERRORS)
    try:
        return fn()
    except RefreshError:
        raise api.PublishError("YouTube refused the stored sign-in (revoked or expired): "
                               f"sign in again with --sign-in ({auth.SIGN_IN_HINT})") from None
    except down as exc:
        raise NetworkDown(f"no connection to YouTube after {api.MAX_RETRIES} retries "
                          f"({type(exc).__name__}: {exc}); what was sent is kept: run the "
                          "same command again to go on from there") from None


class NetworkDown(RuntimeError):
    """The network stayed down through every retry (exit 1; a re-run goes on)."""

