"""Content hashes for incremental renders.

A segment's render is reused when nothing that can change its pixels changed: the
scene's source (its module plus the shared scene modules and the math core), its
parameters, the timing plan, the quality, the seed, and the versions of manim and of
this project.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.manifest import QUALITIES
from pipeline.media import video_encoder_settings
from scenes.registry import scene_file

ROOT = Path(__file__).resolve().parent.parent
# Shared code every scene depends on: any change here invalidates every render.
SHARED_SOURCES = (
    "scenes/base.py", "scenes/timing.py", "scenes/theme.py", "scenes/images.py",
    "scenes/layout.py", "pipeline/scene_process.py",
)
CACHE_FORMAT = 1  # bump when the cache layout or the encoder settings change


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _file_hash(path: Path) -> str:
    return _digest(path.read_bytes()) if path.exists() else "missing"


@lru_cache(maxsize=1)
def math_core_hash() -> str:
    files = sorted((ROOT / "diffusion").glob("*.py"))
    return _digest("".join(f"{p.name}:{_file_hash(p)}" for p in files).encode())


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    def ver(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {"manim": ver("manim"), "project": ver("diffusion-lectures"), "torch": ver("torch")}


def scene_source_hash(scene: str) -> str:
    parts = [f"{scene}:{_file_hash(scene_file(scene))}"]
    parts += [f"{s}:{_file_hash(ROOT / s)}" for s in SHARED_SOURCES]
    parts.append(f"diffusion:{math_core_hash()}")
    return _digest("\n".join(parts).encode())


def render_key(
    *, scene: str, params: dict[str, Any], plan: dict[str, float], quality: str, seed: int
) -> str:
    """The cache key of one silent segment render."""
    payload = {
        "format": CACHE_FORMAT,
        "scene": scene,
        "source": scene_source_hash(scene),
        "params": params,
        "plan": {k: round(v, 6) for k, v in plan.items()},
        "quality": quality,
        "encoder": video_encoder_settings(QUALITIES[quality]) if quality in QUALITIES else None,
        "seed": seed,
        "versions": versions(),
    }
    return _digest(json.dumps(payload, sort_keys=True).encode())[:24]
