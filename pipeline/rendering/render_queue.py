"""Stage 2: run many segment renders on a few cores: costliest first, long segments split.

:func:`render_segments` takes the plans, reuses cached renders and queues the rest.

Each distinct render job's cost is estimated from the seconds per frame its scene took
last time at this quality (``render-costs.json`` in the cache; unknown scenes count
their frames). A job costlier than a fair share of the whole (total cost / jobs) would
be the critical path, so it is split at beat boundaries into parts that render in
parallel (see ``pipeline.rendering.scene_render``). Parts are queued costliest first; when the
last part of a job is done, its parts are joined by stream copy into the cache.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from pipeline.options import RenderOptions
from pipeline.planning.plan import SegmentPlan
from pipeline.progress import Reporter
from pipeline.rendering.scene_render import (
    MIN_PART_SECONDS,
    Part,
    RenderJob,
    cached,
    join_parts,
    render_part,
    split_at_beats,
    work_dir,
)

COSTS_FILE = "render-costs.json"


def load_costs(cache_dir: Path) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads((cache_dir / COSTS_FILE).read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def save_costs(cache_dir: Path, costs: dict[str, float]) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{COSTS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(costs, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, cache_dir / COSTS_FILE)


def cost_key(job: RenderJob) -> str:
    return f"{job.scene}@{job.quality.name}"


def plan_parts(jobs: Sequence[RenderJob], costs: dict[str, float], workers: int
               ) -> list[tuple[float, RenderJob, Part, int]]:
    """Every part to render as ``(estimated cost, job, part, parts of its job)``,
    costliest first. Pure."""
    known = [c for c in costs.values() if c > 0]
    fallback = sum(known) / len(known) if known else 1.0
    est = {j.key: j.expected_frames * costs.get(cost_key(j), fallback) for j in jobs}
    share = sum(est.values()) / max(1, workers)
    out = []
    for j in jobs:
        n = 1
        if workers > 1 and est[j.key] > share * 1.05:
            n = min(workers, math.ceil(est[j.key] / share))
        min_frames = round(MIN_PART_SECONDS * j.quality.fps)
        parts = split_at_beats(j.beat_frames, j.expected_frames, n, min_frames=min_frames)
        for p in parts:
            out.append((est[j.key] * p.frames / j.expected_frames, j, p, len(parts)))
    out.sort(key=lambda t: -t[0])
    return out


def render_all(
    jobs: Sequence[RenderJob], cache_dir: Path, workers: int,
    on_progress: Callable[[RenderJob, str, int], None],
) -> dict[str, Path]:
    """Render every job (distinct keys) with ``workers`` children at once.

    ``on_progress(job, state, frames)``: "rendering" with the job's frames written so
    far, "done" when its file is in the cache. Returns key -> cached file.
    """
    costs = load_costs(cache_dir)
    todo = plan_parts(jobs, costs, workers)
    lock = threading.Lock()
    progress: dict[tuple[str, int], int] = {}
    finished: dict[str, list[tuple[Part, Path, float]]] = {j.key: [] for j in jobs}
    expected = {j.key: n for _, j, _, n in todo}
    results: dict[str, Path] = {}
    works = {j.key: work_dir(cache_dir, j.key) for j in jobs}
    for w in works.values():
        shutil.rmtree(w, ignore_errors=True)

    def report(job: RenderJob, part: Part, n: int) -> None:
        with lock:
            progress[(job.key, part.index)] = n
            total = sum(v for (k, _), v in progress.items() if k == job.key)
        on_progress(job, "rendering", total)

    def run(job: RenderJob, part: Part) -> tuple[RenderJob, Part, Path, float]:
        out = works[job.key] / f"part{part.index:02d}.mp4"
        report(job, part, 0)
        secs = render_part(job, part, out,
                           on_frames=lambda n: report(job, part, n))
        return job, part, out, secs

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(run, j, p) for _, j, p, _ in todo]
            try:
                for fut in as_completed(futures):
                    job, part, out, secs = fut.result()
                    done = finished[job.key]
                    done.append((part, out, secs))
                    if len(done) < expected[job.key]:
                        continue
                    done.sort(key=lambda t: t[0].first)
                    dst = join_parts(job, [(p, o) for p, o, _ in done], cache_dir)
                    costs[cost_key(job)] = sum(s for *_, s in done) / job.expected_frames
                    results[job.key] = dst
                    shutil.rmtree(works[job.key], ignore_errors=True)
                    on_progress(job, "done", job.expected_frames)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    finally:
        for w in works.values():
            shutil.rmtree(w, ignore_errors=True)
        if results:
            save_costs(cache_dir, costs)
    return results


def render_segments(
    plans: Sequence[SegmentPlan], opts: RenderOptions, reporter: Reporter
) -> tuple[dict[str, Path], list[str], list[str]]:
    """Render what is not cached, ``opts.jobs`` at a time. Returns paths, rendered, cached.

    Segments with the same key (same scene, parameters and plan) share one render;
    ``pipeline.rendering.render_queue`` orders the renders costliest first and splits a long one
    into beat ranges that render in parallel.
    """
    videos: dict[str, Path] = {}
    by_key: dict[str, list[SegmentPlan]] = {}
    hits = []
    for p in plans:
        path = cached(p.job, opts.cache_dir)
        if path is not None:
            videos[p.spec.id] = path
            hits.append(p.spec.id)
            reporter.segment(p.spec.id, "cached", p.timing.frames)
        else:
            by_key.setdefault(p.job.key, []).append(p)
            reporter.segment(p.spec.id, "queued", p.timing.frames)
    jobs = [g[0].job for g in by_key.values()]

    def progress(job: RenderJob, state: str, frames: int) -> None:
        for p in by_key[job.key]:
            reporter.segment(p.spec.id, state, frames)

    done = render_all(jobs, opts.cache_dir, opts.jobs, progress)
    for key, group in by_key.items():
        for p in group:
            videos[p.spec.id] = done[key]
    rendered = {p.spec.id for g in by_key.values() for p in g}
    return videos, [p.spec.id for p in plans if p.spec.id in rendered], hits
