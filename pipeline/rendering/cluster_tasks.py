"""The functions Dask workers run: narration for one segment, one render job.

They are plain functions of small picklable values, so any executor can run them:

* :func:`narrate` resolves one segment's narration (speech synthesis or analysis of a
  recorded clip, whose bytes travel with the request) and returns the
  :class:`~audio.narration.Narration` its timing plan is made from.
* :func:`render_entry` renders one :class:`~pipeline.rendering.scene_render.RenderJob` into the
  shared :class:`~pipeline.rendering.store.RenderStore` unless the entry is already there. Manim
  runs in a scratch folder local to the worker; only the encoded video and its record
  reach the store, each by an atomic write. A lecture's own scene
  renders from a private copy of the author's files, which travel with the task
  (:mod:`~pipeline.rendering.author_files`): workers need no shared disk.

Progress goes to the client as Dask events on :data:`TOPIC`
(``{"key", "state": "rendering", "frames", "worker"}``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from audio.narration import Narration, resolve_narration
from pipeline.rendering.author_files import AuthorFiles, relocated, unpack
from pipeline.rendering.cache import record_path, render_key
from pipeline.rendering.housekeeping import using_cache
from pipeline.rendering.scene_render import RenderError, RenderJob, render
from pipeline.rendering.store import RenderStore

TOPIC = "lecture-render"


@dataclass(frozen=True)
class NarrationRequest:
    """What one segment's narration is made from, shippable to another machine."""

    segment_id: str
    script: str
    voice: str
    wpm: int
    speech_cache: str  # folder for synthesised speech (and alignments) on the worker
    strict: bool = False
    allow_clipped: bool = False
    allow_unaligned: bool = False
    clip_name: str | None = None  # the recorded clip's file name (its suffix picks the decoder)
    clip_bytes: bytes | None = None
    transcript_name: str | None = None  # what was really said, kept beside the take
    transcript_bytes: bytes | None = None

    @property
    def key(self) -> str:
        """Dask key: equal requests (any lecture, any user) are one task."""
        h = hashlib.sha256()
        h.update(json.dumps([
            self.script, self.voice, self.wpm, self.strict, self.allow_clipped,
            self.allow_unaligned, Path(self.clip_name).suffix if self.clip_name else None,
            Path(self.transcript_name).suffix if self.transcript_name else None,
        ]).encode())
        for blob in (self.clip_bytes, self.transcript_bytes):
            if blob is not None:
                h.update(len(blob).to_bytes(8, "big"))
                h.update(blob)
        return f"narration-{h.hexdigest()[:24]}"


@dataclass(frozen=True)
class NarrationResult:
    narration: Narration
    warnings: tuple[str, ...]  # about the author's input, raised on the worker
    scratch: str | None  # the worker's copy of the clip, named in those warnings


def narrate(req: NarrationRequest) -> NarrationResult:
    scratch: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        narration = _narrate(req, scratch)
    said = tuple(str(w.message) for w in caught if not issubclass(w.category, ResourceWarning))
    return NarrationResult(narration, said, scratch[0] if scratch else None)


def _narrate(req: NarrationRequest, scratch: list[str]) -> Narration:
    if req.clip_bytes is None:
        return _resolve(req, clip=None)
    assert req.clip_name is not None
    with tempfile.TemporaryDirectory(prefix="lecture-clip-", dir=_scratch_root()) as tmp:
        clip = Path(tmp) / Path(req.clip_name).name
        clip.write_bytes(req.clip_bytes)
        scratch.append(str(clip))
        if req.transcript_bytes is not None and req.transcript_name is not None:
            clip.with_suffix(Path(req.transcript_name).suffix).write_bytes(req.transcript_bytes)
        # The samples are decoded into memory: nothing refers to the scratch files after.
        return _resolve(req, clip=clip)


def _resolve(req: NarrationRequest, clip: Path | None) -> Narration:
    return resolve_narration(segment_id=req.segment_id, script=req.script, clip=clip,
                             strict=req.strict, cache_dir=req.speech_cache, voice=req.voice,
                             wpm=req.wpm, allow_clipped=req.allow_clipped,
                             allow_unaligned=req.allow_unaligned)


@dataclass(frozen=True)
class RenderOutcome:
    key: str
    rendered: bool  # False: the entry was already in the store when the task ran
    worker: str
    seconds: float


def render_entry(job: RenderJob, store_url: str,
                 files: AuthorFiles | None = None) -> RenderOutcome:
    """Make sure ``job``'s entry is in the store; render it here if it is not.

    ``files``: a lecture's own scene's files (:mod:`~pipeline.rendering.author_files`),
    unpacked into the worker's work folder and rendered from there."""
    import time

    t0 = time.perf_counter()
    store = RenderStore(store_url)
    worker = _worker_address()
    if store.lookup(job.key, job.quality, job.expected_frames) is not None:
        return RenderOutcome(job.key, False, worker, time.perf_counter() - t0)
    if files is not None and job.author is not None:
        job = _with_files(job, files, worker)
    try:
        mine = render_key(scene=job.scene, params=job.params, plan=job.plan,
                          quality=job.quality, seed=job.seed, author=job.author)
    except OSError as exc:
        raise RenderError(f"segment {job.segment_id}: worker {worker} cannot read the "
                          f"scene's files ({exc}); send them with the task") from None
    if mine != job.key:
        raise RenderError(
            f"segment {job.segment_id}: worker {worker} has different scene code or "
            f"versions from the client (key {mine}, client {job.key}); install the same "
            "project on every worker"
        )
    _event(job.key, "rendering", 0, worker)
    scratch = Path(tempfile.mkdtemp(prefix=f"render-{job.key}-", dir=_scratch_root()))
    try:
        video = render(job, scratch,
                       on_frames=lambda n: _event(job.key, "rendering", n, worker))
        if store.is_local:
            # A run of the local engine that finds itself alone on this cache cleans its
            # temporary files; holding the cache's shared lock keeps it off ours.
            with using_cache(Path(store.root)):
                store.put(job.key, video, record_path(scratch, job.key))
        else:
            store.put(job.key, video, record_path(scratch, job.key))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return RenderOutcome(job.key, True, worker, time.perf_counter() - t0)


def _with_files(job: RenderJob, files: AuthorFiles, worker: str) -> RenderJob:
    """``job`` rendering from a private copy of the author's files; refused unless that
    copy gives the client's key."""
    assert job.author is not None
    folder = unpack(files, _scratch_root())
    moved = replace(job, author=relocated(job.author, folder))
    mine = render_key(scene=moved.scene, params=moved.params, plan=moved.plan,
                      quality=moved.quality, seed=moved.seed, author=moved.author)
    if mine != job.key:
        raise RenderError(
            f"segment {job.segment_id}: scene {job.author.text}: the files shipped to worker "
            f"{worker} do not give the client's key (key {mine}, client {job.key}): a file "
            "it reads outside its folder differs here, or the project's versions do"
        )
    return moved


def _scratch_root() -> str | None:
    """The worker's own local directory (cleaned by Dask), else the system temp dir."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _event(key: str, state: str, frames: int, worker: str) -> None:
    try:
        from distributed import get_worker

        w = get_worker()
    except (ImportError, ValueError):
        return
    w.log_event(TOPIC, {"key": key, "state": state, "frames": frames, "worker": worker})
