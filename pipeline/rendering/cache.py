"""The render cache: content keys, verified entries, eviction.

A segment's silent render is stored as ``renders/<key>.mp4`` beside ``renders/<key>.json``,
an :class:`EntryRecord` (frames, duration, size, codec parameters, checksums, last use).

* **Keys** (:func:`render_key`) hash everything that can change the pixels: the scene's
  import closure, the libraries it imports, the data it reads and the fonts it names
  (:mod:`pipeline.rendering.fingerprint`), its parameters, the timing plan, the quality entry, the
  encoder settings, the seed and the toolchain versions.
* **Reuse is verified** (:func:`lookup`): the record must parse and agree with the file's
  size, the planned frame count and the quality's codec parameters, and a sampled
  checksum (three 64 KiB windows) must match; ``full=True`` checks every byte. A bad
  entry is deleted with a warning and the segment renders again.
* **Writes are atomic** (:func:`store`): the video, then its record, each through a
  temporary name and ``os.replace``. A video without a record is not an entry.
* **Eviction** (:func:`prune`): least recently used first (the record's ``last_used``),
  until the cache fits its size cap.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import files, media
from pipeline.planning.manifest import QUALITIES, Quality
from pipeline.planning.scene_ref import AuthorScene
from pipeline.rendering import fingerprint
from scenes.registry import SCENES, scene_file

log = logging.getLogger("pipeline.rendering.cache")
CACHE_FORMAT = 2  # bump when the layout of entries changes
SAMPLE = 64 * 1024
DEFAULT_MAX_BYTES = 5 * 1024**3
FRESH_SECONDS = 60.0  # a video this young without its record may still be being stored


# ------------------------------------------------------------------ keys
@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Versions recorded in ``manifest.json`` (the toolchain a render was made with)."""
    return {"project": _version("diffusion-lectures"), **fingerprint.toolchain()}


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def encoder_settings(q: Quality) -> dict[str, Any]:
    """The quality entry and the exact encoder arguments a cached render is made with."""
    return {"quality": asdict(q), "x264": media.x264_args(q)}


def render_key(
    *, scene: str, params: dict[str, Any], plan: dict[str, float], quality: Quality | str,
    seed: int, root: Path = fingerprint.ROOT, author: AuthorScene | None = None,
) -> str:
    """The cache key of one silent segment render.

    ``root``: the project folder whose sources are hashed (tests hash a changed copy).
    ``author``: a scene of the lecture's own (:func:`author_key`).
    """
    if isinstance(quality, str):
        quality = QUALITIES[quality]
    if author is not None:
        return author_key(author, plan, quality, params)
    scene_path = root / scene_file(scene).relative_to(fingerprint.ROOT)
    payload = {
        "format": CACHE_FORMAT,
        "scene": SCENES[scene],
        "code": fingerprint.code_fingerprint(scene_path, params, root),
        "params": params,
        "plan": {k: round(v, 6) for k, v in plan.items()},
        "encoder": encoder_settings(quality),
        # the render child decides which frames are drawn and how they reach x264
        "renderer": fingerprint.file_digest(
            fingerprint.ROOT / "pipeline" / "rendering" / "scene_process.py"),
        "child_env": fingerprint.CHILD_ENV,
        "seed": seed,
        "toolchain": fingerprint.toolchain(),
    }
    return fingerprint.digest(json.dumps(payload, sort_keys=True, default=str))[:24]


def author_key(author: AuthorScene, plan: dict[str, float], quality: Quality,
               params: dict[str, Any] | None = None) -> str:
    """The key of a render of a lecture's own scene: its file and the modules beside it
    that it imports (``fingerprint.author_fingerprint``, not where the folder is), the
    class, its parameters (with its model's defaults), the plan, the frame its last
    picture is held to, the seed of its global generators, the render child's code,
    the encoder and the toolchain."""
    from pipeline.rendering.scene_probe import child_sources

    payload = {
        "format": CACHE_FORMAT,
        "scene": author.name,
        "params": params or {},
        "code": fingerprint.author_fingerprint(Path(author.file), Path(author.root)),
        "plan": {k: round(v, 6) for k, v in plan.items()},
        "hold_to": author.hold_to,
        "encoder": encoder_settings(quality),
        "renderer": child_sources(),
        "child_env": fingerprint.CHILD_ENV,
        "seed": author.random_seed,
        "toolchain": fingerprint.toolchain(),
    }
    if author.voiceover is not None:  # the voice, its rate, the lead-in, the take
        payload["voiceover"] = author.voiceover.key_payload()
    return fingerprint.digest(json.dumps(payload, sort_keys=True, default=str))[:24]


# ------------------------------------------------------------------ entries
class EntryRecord(BaseModel):
    """What a cached render must be; checked on every reuse."""

    model_config = ConfigDict(extra="forbid")

    key: str
    frames: int
    duration: float
    size: int
    width: int
    height: int
    fps: str
    codec: str
    profile: str
    pix_fmt: str
    sha256: str
    sample_sha256: str
    created: float
    last_used: float


def video_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "renders" / f"{key}.mp4"


def record_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "renders" / f"{key}.json"


def sampled_digest(path: Path, size: int) -> str:
    """sha256 of three 64 KiB windows (start, middle, end) and the size."""
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        for at in sorted({0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)}):
            fh.seek(at)
            h.update(fh.read(SAMPLE))
    return h.hexdigest()


def describe(path: Path, key: str) -> EntryRecord:
    """Measure an encoded video into an entry record (one ffprobe, one read)."""
    info = media.probe(path)
    v = media.stream(info, "video")
    if v is None:
        raise media.MediaError(f"{path.name} has no video stream")
    size = path.stat().st_size
    now = time.time()
    return EntryRecord(
        key=key, frames=int(v.get("nb_frames", 0)), duration=float(v.get("duration", 0.0)),
        size=size, width=int(v["width"]), height=int(v["height"]), fps=v["r_frame_rate"],
        codec=v["codec_name"], profile=v.get("profile", ""), pix_fmt=v.get("pix_fmt", ""),
        sha256=fingerprint.file_digest(path), sample_sha256=sampled_digest(path, size),
        created=now, last_used=now,
    )


def store(cache_dir: Path, key: str, encoded: Path, q: Quality, expected_frames: int) -> Path:
    """Move ``encoded`` into the cache as entry ``key``; return its path.

    Raises ``media.MediaError`` when the encoded file is not what the plan asked for.
    """
    record = describe(encoded, key)
    problem = _mismatch(record, q, expected_frames)
    if problem:
        raise media.MediaError(f"encoded render {key} {problem}")
    dst = video_path(cache_dir, key)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(encoded, dst)
    except OSError as exc:  # the work folder is on another file system (see housekeeping)
        if exc.errno != errno.EXDEV:
            raise
        tmp = dst.parent / f".{key}.{os.getpid()}.mp4"
        shutil.copyfile(encoded, tmp)
        os.replace(tmp, dst)
    files.write_text_atomic(record_path(cache_dir, key), record.model_dump_json())
    return dst


def entry_problem(rec: EntryRecord, q: Quality, expected_frames: int) -> str | None:
    """What is wrong with an entry whose record says ``rec`` for this job, or None."""
    return _mismatch(rec, q, expected_frames)


def _mismatch(rec: EntryRecord, q: Quality, expected_frames: int) -> str | None:
    if rec.frames != expected_frames:
        return f"has {rec.frames} frames, the plan needs {expected_frames}"
    if (rec.width, rec.height, rec.fps) != (q.width, q.height, f"{q.fps}/1"):
        return f"is {rec.width}x{rec.height}@{rec.fps}, expected {q.width}x{q.height}@{q.fps}"
    if (rec.codec, rec.pix_fmt) != ("h264", "yuv420p"):
        return f"is {rec.codec}/{rec.pix_fmt}, expected h264/yuv420p"
    return None


def lookup(
    cache_dir: Path, key: str, q: Quality, expected_frames: int, *, full: bool = False
) -> Path | None:
    """The verified cached render ``key``, or ``None`` (bad entries are removed)."""
    video, rec_path = video_path(cache_dir, key), record_path(cache_dir, key)
    if not video.exists() and not rec_path.exists():
        return None
    problem = _check(video, rec_path, q, expected_frames, full)
    if problem == "no record" and _age(video) < FRESH_SECONDS:
        return None  # another run is between writing the video and its record
    if problem is not None:
        log.warning("cache entry %s is bad (%s): discarded, rendering again", key, problem)
        discard(cache_dir, key)
        return None
    _touch(rec_path)
    return video


def _check(video: Path, rec_path: Path, q: Quality, expected: int, full: bool) -> str | None:
    try:
        rec = EntryRecord.model_validate_json(rec_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no record"
    except (OSError, ValueError, ValidationError):
        return "unreadable record"
    try:
        size = video.stat().st_size
    except FileNotFoundError:
        return "video missing"
    if size != rec.size:
        return f"size {size} bytes, record says {rec.size}"
    problem = _mismatch(rec, q, expected)
    if problem:
        return f"record {problem}"
    if sampled_digest(video, size) != rec.sample_sha256:
        return "sampled checksum differs"
    if full and fingerprint.digest(video.read_bytes()) != rec.sha256:
        return "checksum differs"
    return None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


def _touch(rec_path: Path) -> None:
    """Record the use (for LRU eviction)."""
    try:
        rec = EntryRecord.model_validate_json(rec_path.read_text(encoding="utf-8"))
        files.write_text_atomic(rec_path, rec.model_copy(update={"last_used": time.time()})
                           .model_dump_json())
    except (OSError, ValueError):
        pass


def discard(cache_dir: Path, key: str) -> None:
    record_path(cache_dir, key).unlink(missing_ok=True)
    video_path(cache_dir, key).unlink(missing_ok=True)


# ------------------------------------------------------------------ eviction
def cache_size(cache_dir: Path) -> int:
    renders = cache_dir / "renders"
    if not renders.is_dir():
        return 0
    return sum(p.stat().st_size for p in renders.glob("*") if p.is_file())


def prune(cache_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[int, int]:
    """Evict least recently used entries until the cache holds at most ``max_bytes``.

    Incomplete entries (a video without a record, a record without a video, temporary
    files) go first. Returns (entries removed, bytes freed).
    """
    renders = cache_dir / "renders"
    if not renders.is_dir():
        return 0, 0
    removed = freed = 0
    entries: list[tuple[float, str, int]] = []
    for p in list(renders.iterdir()):
        if p.name.startswith("."):  # a temporary file of a killed run
            freed += _unlink(p)
            continue
        key = p.stem
        vid, rec = video_path(cache_dir, key), record_path(cache_dir, key)
        if p.suffix == ".json":
            continue
        try:
            record = EntryRecord.model_validate_json(rec.read_text(encoding="utf-8"))
        except (OSError, ValueError, ValidationError):
            freed += _unlink(vid) + _unlink(rec)
            removed += 1
            continue
        entries.append((record.last_used, key, vid.stat().st_size + rec.stat().st_size))
    for p in renders.glob("*.json"):
        if not video_path(cache_dir, p.stem).exists():
            freed += _unlink(p)
    total = sum(e[2] for e in entries)
    for _, key, size in sorted(entries):
        if total <= max_bytes:
            break
        discard(cache_dir, key)
        total -= size
        freed += size
        removed += 1
    return removed, freed


def _unlink(p: Path) -> int:
    try:
        size = p.stat().st_size
        p.unlink()
        return size
    except OSError:
        return 0


def parse_size(text: str) -> int:
    """``"500M"``, ``"5G"``, ``"123456"`` -> bytes."""
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        value = float(num)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 500M or 5G)") from None
    if value < 0:
        raise ValueError(f"size must be >= 0, got {text!r}")
    return int(value * units[unit])
