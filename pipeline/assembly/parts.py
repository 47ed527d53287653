"""What the assembled outputs were made from: content keys and the cache of parts.

* The **assembly key** hashes everything that shapes a lecture's outputs: each
  segment's render key, its narration's content hash, its timing on the frame grid,
  chapter and slide options; the lecture's title, summary, thumbnail and quality; the
  loudness, encoder and thumbnail settings; and the source of the modules that do the
  assembly. It is stored in ``manifest.json``; when a re-run computes the same key and
  every output is still there, nothing is redone (not a render, not an encode).
* A **segment clip** (its silent render plus its slice of the normalised narration,
  encoded once) is cached under a hash of the render key and of those audio samples,
  so after a change only the clips whose picture or sound changed are encoded again.
* The **thumbnail** is cached under the render key of its segment, the frame and the
  title.

Parts live in ``<cache>/parts/`` and are hard-linked (or copied) into the outputs.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from audio import peaks
from audio.pcm import SAMPLE_RATE
from pipeline import media, paths
from pipeline.assembly import loudness
from pipeline.planning.manifest import LectureSpec, Quality
from pipeline.planning.plan import SegmentPlan
from pipeline.rendering import fingerprint

ROOT = paths.SOURCE_ROOT
ASSEMBLY_FORMAT = 1  # bump when the meaning of the key changes
PROJECT_PACKAGES = ("pipeline", "audio", "scenes", "diffusion")


def assembly_sources() -> list[Path]:
    """The code that turns plans and renders into outputs, where a change redoes assembly:
    every module of the assembly package and the project modules they import."""
    package = Path(__file__).resolve().parent
    found = {f.resolve() for f in package.glob("*.py")}
    for f in sorted(found):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] in PROJECT_PACKAGES:
                    path = fingerprint.module_file(name, ROOT)
                    if path is not None:
                        found.add(path.resolve())
    return sorted(found)


def _digest(*chunks: bytes | memoryview) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the assembly modules' source."""
    return _digest(*(f"{f.relative_to(ROOT).as_posix()}:".encode() + f.read_bytes()
                     for f in assembly_sources()))[:16]


def settings() -> dict[str, Any]:
    """Every number of the assembly that is not in a plan."""
    return {
        "aac": media.aac_args(),
        "audio_rate": SAMPLE_RATE,
        "loudness": {
            "target": loudness.TARGET_LUFS, "ceiling": loudness.CEILING_DBTP,
            "step": loudness.GAIN_STEP_DB, "limiter_ms": loudness.LIMITER_MS,
            "oversample": peaks.OVERSAMPLE,
        },
    }


def assembly_key(spec: LectureSpec, plans: Sequence[SegmentPlan], q: Quality) -> str:
    """The key of a lecture's outputs (see the module docstring)."""
    payload = {
        "format": ASSEMBLY_FORMAT,
        "code": code_version(),
        "settings": settings(),
        "lecture": spec.model_dump(mode="json", exclude={"segments"}),
        "quality": dataclasses.asdict(q),
        "segments": [
            {
                "index": p.index,
                "id": p.spec.id,
                "chapter": p.spec.chapter,
                "slide": p.spec.slide.model_dump(mode="json"),
                "render": p.job.key,
                "narration": [p.narration.source, p.narration.cache_key, p.narration.detail],
                "frames": p.timing.frames,
                "speech_frame": p.timing.speech_frame,
                "beats": p.timing.beat_seconds(),
            }
            for p in plans
        ],
    }
    return _digest(json.dumps(payload, sort_keys=True, default=str).encode())[:32]


def clip_key(render_key: str, audio: np.ndarray) -> str:
    """The key of one narrated segment clip: its picture and its exact audio samples, as
    published (stereo: a ``[n, 1]`` track hashes as the stereo it becomes)."""
    from pipeline.media import stereo_f32le

    head = json.dumps({"render": render_key, "code": code_version(), "settings": settings()})
    return _digest(head.encode(), *stereo_f32le(audio))[:32]


def thumb_key(render_key: str, seconds: float, title: str) -> str:
    head = {"render": render_key, "at": round(seconds, 6), "title": title,
            "code": code_version()}
    return _digest(json.dumps(head, sort_keys=True).encode())[:32]


def part_path(cache_dir: Path, key: str, suffix: str) -> Path:
    return cache_dir / "parts" / f"{key}{suffix}"


def place(src: Path, dst: Path) -> None:
    """Put a cached part at ``dst``: a hard link when the file system allows, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def store(tmp: Path, cache_dir: Path, key: str, suffix: str) -> Path:
    """Move a freshly written part into the cache (atomic rename) and return its path."""
    dst = part_path(cache_dir, key, suffix)
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dst)
    return dst
