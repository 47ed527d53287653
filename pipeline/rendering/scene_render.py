"""Render one segment's scene, silent, straight to the lecture's H.264, into the cache.

Each render is a child process (``python -m pipeline.rendering.scene_process``), so one scene's
crash or global state never touches another. The job (timing plan, parameters, seed)
travels in ``LECTURE_SCENE_JOB``, the output in ``LECTURE_RENDER_TARGET``. The child
pipes manim's pixels into one x264 encoder at the publishing settings
(``pipeline.media.x264_args``): every frame is encoded once, and the frame count is read
from the MP4 index, not by decoding.

A long segment can be split into *parts*: beat ranges rendered by separate children
(each runs the scene from its start but draws only its own frames) and joined by
stream copy. Every beat boundary is a forced keyframe in every render, split or not,
and the rate control is a constant quantiser, so the joined parts decode to exactly
the frames of an unsplit render.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline import media
from pipeline.planning.manifest import Quality
from pipeline.planning.scene_ref import AuthorScene
from pipeline.rendering import cache, fingerprint
from pipeline.rendering.author_process import ERROR_TAG, SCENE_ENV
from pipeline.rendering.housekeeping import work_root
from pipeline.rendering.scene_process import TARGET_ENV, Target
from scenes.job import JOB_ENV, PROGRESS_ENV, PROGRESS_TAG  # manim-free: planning imports this

#: A part shorter than this is not worth a process start and a run-up through the scene.
MIN_PART_SECONDS = 4.0


class RenderError(RuntimeError):
    """A scene failed to render or rendered the wrong length."""


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
    beat_frames: tuple[int, ...] = (0,)  # start frame of each beat
    author: AuthorScene | None = None  # a scene of the lecture's own (planning.scene_ref)

    def env_payload(self) -> str:
        return json.dumps({"plan": {"beats": self.plan}, "params": self.params, "seed": self.seed})

    @property
    def keyframes(self) -> list[int]:
        """Frames that start a GOP in every render of this job: the beat starts."""
        return [f for f in self.beat_frames if 0 < f < self.expected_frames]


@dataclass(frozen=True)
class Part:
    """Frames ``[first, last)`` of a job, rendered by one child process."""

    index: int
    first: int
    last: int

    @property
    def frames(self) -> int:
        return self.last - self.first


def split_at_beats(beat_frames: Sequence[int], total: int, parts: int,
                   min_frames: int = 1) -> list[Part]:
    """At most ``parts`` beat ranges of about equal length, each ``>= min_frames``.

    Boundaries are beat starts (never frame 0): for each ideal cut ``i * total / parts``
    the nearest unused beat start is taken. Pure arithmetic.
    """
    cuts: list[int] = []
    candidates = sorted({f for f in beat_frames if 0 < f < total})
    for i in range(1, max(1, parts)):
        ideal = i * total / parts
        free = [f for f in candidates if f not in cuts]
        if not free:
            break
        cuts.append(min(free, key=lambda f: (abs(f - ideal), f)))
    bounds = [0, *sorted(cuts), total]
    # merge any part shorter than min_frames into its neighbour
    merged = [0]
    for b in bounds[1:-1]:
        if b - merged[-1] >= min_frames and total - b >= min_frames:
            merged.append(b)
    merged.append(total)
    return [Part(i, a, b) for i, (a, b) in enumerate(zip(merged, merged[1:]))]


def cached(job: RenderJob, cache_dir: Path) -> Path | None:
    """The verified cached render of ``job`` (see ``pipeline.rendering.cache.lookup``), or None."""
    return cache.lookup(cache_dir, job.key, job.quality, job.expected_frames)


def render_command(job: RenderJob | None = None) -> list[str]:
    """The child's command line (its inputs travel in the environment): a lecture's own
    scene renders in ``author_process``, which wraps ``scene_process``."""
    child = "author_process" if job is not None and job.author is not None else "scene_process"
    return [sys.executable, "-m", f"pipeline.rendering.{child}"]


def child_env(job: RenderJob, target: Target) -> dict[str, str]:
    # One math thread per scene: the pipeline already runs one scene per core. CHILD_ENV
    # (a fixed hash seed) is part of every render key.
    env = {"OMP_NUM_THREADS": "1", **os.environ, **fingerprint.CHILD_ENV,
           JOB_ENV: job.env_payload(), TARGET_ENV: target.model_dump_json(),
           PROGRESS_ENV: "1"}
    if job.author is not None:
        env[SCENE_ENV] = job.author.model_dump_json()
    return env



def render_part(
    job: RenderJob, part: Part, out: Path, *,
    on_frames: Callable[[int], None] | None = None,
) -> float:
    """Render ``part`` of ``job`` into ``out``; return the wall time it took.

    ``on_frames`` gets the number of this part's frames written so far, at each beat end.
    """
    q = job.quality
    target = Target(
        scene=job.scene, out=str(out), quality=asdict(q), first=part.first,
        last=part.last if part.last < job.expected_frames else None,
        keyframes=job.keyframes,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    t0 = time.perf_counter()
    with open(log, "w+", encoding="utf-8") as err:
        proc = subprocess.Popen(
            render_command(job), env=child_env(job, target), cwd=out.parent,
            stdout=subprocess.PIPE, stderr=err, text=True,
        )
        assert proc.stdout is not None
        other: list[str] = []
        for line in proc.stdout:
            if line.startswith(PROGRESS_TAG):
                done = int(line.split()[1])
                if on_frames is not None:
                    on_frames(max(0, min(done, part.last) - part.first))
            else:
                other.append(line)
        code = proc.wait()
        err.seek(0)
        stderr = err.read()
    log.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    if code != 0:
        lines = [ln for ln in (stderr + "".join(other)).splitlines() if ln.strip()]
        # Parameters were checked against the scene catalog before any render, so
        # whatever the scene raised here is a render failure (exit 1), not bad input.
        reason = _last_error(lines)
        raise RenderError(f"segment {job.segment_id}: scene {job.scene} failed: {reason}")
    if not out.exists():
        raise RenderError(f"segment {job.segment_id}: the renderer wrote no video")
    frames = media.header_frame_count(out)
    if frames != part.frames:
        raise RenderError(
            f"segment {job.segment_id}: scene {job.scene} rendered {frames} frames"
            f"{f' in part {part.index}' if part.first else ''}, plan needs {part.frames}"
        )
    return seconds


def join_parts(job: RenderJob, parts: Sequence[tuple[Part, Path]], cache_dir: Path) -> Path:
    """Join rendered parts by stream copy and store the result in the cache; return it.

    ``pipeline.rendering.cache.store`` checks the joined file against the plan before keeping it.
    """
    first = parts[0][1]
    if len(parts) == 1:
        joined = first
    else:
        joined = first.with_name(f"joined-{os.getpid()}-{threading.get_ident()}.mp4")
        media.concat_copy([(p, part.frames) for part, p in parts], job.quality.fps, joined,
                          faststart=True)
    try:
        return cache.store(cache_dir, job.key, joined, job.quality, job.expected_frames)
    except media.MediaError as exc:
        raise RenderError(f"segment {job.segment_id}: {exc}") from None


def work_dir(cache_dir: Path, key: str) -> Path:
    return work_root(cache_dir) / f"{key}-{os.getpid()}"


def render(
    job: RenderJob, cache_dir: Path, on_frames: Callable[[int], None] | None = None, *,
    parts: int = 1,
) -> Path:
    """Render ``job`` unless its key is cached (parts one after another); return the file.

    ``on_frames`` is called with the number of frames written so far, at each beat end.
    """
    hit = cached(job, cache_dir)
    if hit is not None:
        return hit
    work = work_dir(cache_dir, job.key)
    shutil.rmtree(work, ignore_errors=True)
    try:
        done = []
        for part in split_at_beats(job.beat_frames, job.expected_frames, parts):
            out = work / f"part{part.index:02d}.mp4"
            render_part(job, part, out, on_frames=on_frames)
            done.append((part, out))
        return join_parts(job, done, cache_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _last_error(lines: list[str]) -> str:
    """The most telling line of a manim traceback (the exception line)."""
    for ln in lines:  # a lecture's own scene names its file and line
        if ln.startswith(ERROR_TAG):
            return ln.removeprefix(ERROR_TAG).strip()
    for ln in reversed(lines):
        s = ln.strip(" │╭╰─")
        if any(tag in s for tag in ("Error", "Exception")) and not s.startswith("File "):
            return s.strip()
    return lines[-1].strip() if lines else "no output"
