"""Render one segment's scene, silent, in its own manim subprocess, into the cache.

Each render runs ``python -m manim render`` with a private media folder, so one
scene's crash or global state never touches another. The job (timing plan,
parameters, seed) travels in the ``LECTURE_SCENE_JOB`` environment variable. The
manim output is checked for the planned frame count and re-encoded once into the
lecture's video format (see ``pipeline.media.x264_args``); that file is what the
cache keeps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import cache, media
from pipeline.housekeeping import work_root
from pipeline.manifest import Quality
from scenes.base import JOB_ENV, PROGRESS_ENV, PROGRESS_TAG
from scenes.registry import SCENES, scene_file


class RenderError(RuntimeError):
    """A scene failed to render or rendered the wrong length."""


class SceneInputError(RenderError):
    """A scene rejected its parameters (a ``ValueError`` in the scene): bad input."""


@dataclass(frozen=True)
class RenderJob:
    segment_id: str
    scene: str
    params: dict[str, Any]
    plan: dict[str, float]
    seed: int
    quality: Quality
    expected_frames: int
    key: str

    def env_payload(self) -> str:
        return json.dumps({"plan": {"beats": self.plan}, "params": self.params, "seed": self.seed})


def cached_path(cache_dir: Path, key: str) -> Path:
    return cache.video_path(cache_dir, key)


def cached(job: RenderJob, cache_dir: Path) -> Path | None:
    """The verified cached render of ``job`` (see ``pipeline.cache.lookup``), or None."""
    return cache.lookup(cache_dir, job.key, job.quality, job.expected_frames)


def manim_command(job: RenderJob, media_dir: Path) -> list[str]:
    q = job.quality
    return [
        sys.executable, "-m", "manim", "render",
        str(scene_file(job.scene)), SCENES[job.scene].split(":")[1],
        "--resolution", f"{q.width},{q.height}", "--fps", str(q.fps),
        "--media_dir", str(media_dir), "--disable_caching", "--format", "mp4",
        "--progress_bar", "none", "--verbosity", "WARNING", "-o", "scene",
    ]


def render(
    job: RenderJob, cache_dir: Path, on_frames: Callable[[int], None] | None = None
) -> Path:
    """Render ``job`` unless its key is cached; return the cached, encoded video.

    ``on_frames`` is called with the number of frames written so far, at each beat end.
    """
    hit = cached(job, cache_dir)
    if hit is not None:
        return hit
    work = work_root(cache_dir) / f"{job.key}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        # One math thread per scene: the pipeline already runs one scene per core.
        env = {"OMP_NUM_THREADS": "1", **os.environ, JOB_ENV: job.env_payload(),
               PROGRESS_ENV: "1"}
        log = work / "manim.log"
        with open(log, "w+", encoding="utf-8") as err:
            proc = subprocess.Popen(
                manim_command(job, work), env=env, cwd=work, stdout=subprocess.PIPE,
                stderr=err, text=True,
            )
            assert proc.stdout is not None
            other: list[str] = []
            for line in proc.stdout:
                if line.startswith(PROGRESS_TAG):
                    if on_frames is not None:
                        on_frames(int(line.split()[1]))
                else:
                    other.append(line)
            code = proc.wait()
            err.seek(0)
            stderr = err.read()
        if code != 0:
            lines = [ln for ln in (stderr + "".join(other)).splitlines() if ln.strip()]
            reason = _last_error(lines)
            if reason.startswith("ValueError"):
                raise SceneInputError(
                    f"segment {job.segment_id}: scene {job.scene} rejected its parameters: "
                    f"{reason.removeprefix('ValueError: ')}"
                )
            raise RenderError(f"segment {job.segment_id}: scene {job.scene} failed: {reason}")
        outputs = list(work.rglob("scene.mp4"))
        if not outputs:
            raise RenderError(f"segment {job.segment_id}: manim wrote no video")
        frames = media.count_frames(outputs[0])
        if frames != job.expected_frames:
            raise RenderError(
                f"segment {job.segment_id}: scene {job.scene} rendered {frames} frames, "
                f"plan needs {job.expected_frames}"
            )
        tmp = work / "encoded.mp4"
        media.encode_video(outputs[0], tmp, job.quality)
        return cache.store(cache_dir, job.key, tmp, job.quality, job.expected_frames)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _last_error(lines: list[str]) -> str:
    """The most telling line of a manim traceback (the exception line)."""
    for ln in reversed(lines):
        s = ln.strip(" │╭╰─")
        if any(tag in s for tag in ("Error", "Exception")) and not s.startswith("File "):
            return s.strip()
    return lines[-1].strip() if lines else "no output"
