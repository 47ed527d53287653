"""Benchmark the render engine alone (one run; compare ratios, not absolute seconds).

1. For a few scenes at a quality (default 1080p60), cut to ``--seconds`` of video:
   * old path: ``manim render`` writing CRF 23 partial movies, joined, decoded to count
     the frames, then re-encoded at the publishing settings (what the pipeline did
     before issue 8);
   * new path: the pipeline's child piping manim's pixels into one x264 encoder;
   each with its wall time and the peak RSS of the manim child and of ffmpeg (sampled
   from /proc every 50 ms with psutil, not ``RUSAGE_CHILDREN``).
2. The longest segment of a lecture (its real timing plan, espeak narration) rendered
   unsplit and in ``--jobs`` beat-range parts at once: wall times and their ratio.

Results: ``bench/results/engine-<quality>.json`` and a Markdown table printed and
written beside it.

    .venv/bin/python bench/bench_engine.py --scenes ForwardDotGrid KeyConcepts --seconds 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import media  # noqa: E402
from pipeline.options import RenderOptions  # noqa: E402
from pipeline.paths import speech_cache  # noqa: E402
from pipeline.planning.manifest import QUALITIES, Quality, load_lecture  # noqa: E402
from pipeline.planning.plan import plan_lecture  # noqa: E402
from pipeline.rendering.render_queue import render_all  # noqa: E402
from pipeline.rendering.resources import cores  # noqa: E402
from pipeline.rendering.scene_render import Part, RenderJob, render_part  # noqa: E402
from scenes.base import JOB_ENV  # noqa: E402
from scenes.registry import SCENES, load_scene_class, scene_file  # noqa: E402
from scenes.timing import plan_beats  # noqa: E402

RESULTS = ROOT / "bench" / "results"
OLD_CRF = 18  # the publishing CRF the old re-encode used at 1080p


class PeakRSS:
    """Samples every descendant of this process; keeps the peak RSS per kind."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak: dict[str, float] = {"manim child": 0.0, "ffmpeg": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for p in me.children(recursive=True):
                try:
                    kind = "ffmpeg" if p.name().startswith("ffmpeg") else "manim child"
                    rss = p.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peak[kind] = max(self.peak[kind], rss)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(fn: Callable[[], Any]) -> tuple[Any, float, dict[str, float]]:
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t0
    return out, secs, {k: round(v) for k, v in rss.peak.items()}


def scene_job(name: str, q: Quality, seconds: float, key: str) -> RenderJob:
    cls = load_scene_class(name)
    plan = plan_beats(cls.BEATS, {"total": max(seconds, sum(b.minimum for b in cls.BEATS))})
    starts, acc = [], 0.0
    for secs in plan.values():
        starts.append(round(acc * q.fps))
        acc += secs
    return RenderJob(name, name, {}, plan, 0, q, round(acc * q.fps), key, tuple(starts))


def old_path(job: RenderJob, work: Path) -> Path:
    """manim's own writer (CRF 23 partial movies), decode to count, re-encode once more."""
    q = job.quality
    cmd = [sys.executable, "-m", "manim", "render", str(scene_file(job.scene)),
           SCENES[job.scene].split(":")[1], "--resolution", f"{q.width},{q.height}",
           "--fps", str(q.fps), "--media_dir", str(work), "--disable_caching",
           "--format", "mp4", "--progress_bar", "none", "--verbosity", "WARNING", "-o", "scene"]
    env = {"OMP_NUM_THREADS": "1", **os.environ, JOB_ENV: job.env_payload()}
    subprocess.run(cmd, env=env, cwd=work, check=True, capture_output=True)
    src = next(p for p in work.rglob("scene.mp4") if "partial_movie_files" not in p.parts)
    assert media.count_frames(src) == job.expected_frames
    dst = work / "encoded.mp4"
    old = replace(q, qp=OLD_CRF)
    args = media.x264_args(old)
    args[args.index("-qp")] = "-crf"
    media.ffmpeg("-i", str(src), "-an", "-vf", f"scale={q.width}:{q.height}:flags=lanczos,setsar=1",
                 *args, "-movflags", "+faststart", str(dst), what="old re-encode")
    return dst


def new_path(job: RenderJob, work: Path) -> Path:
    out = work / "new.mp4"
    render_part(job, Part(0, 0, job.expected_frames), out)
    return out


def bench_scenes(names: list[str], q: Quality, seconds: float, keep: Path) -> list[dict]:
    rows = []
    for name in names:
        job = scene_job(name, q, seconds, f"bench-{name}")
        with tempfile.TemporaryDirectory(dir=keep) as tmp:
            w_old, w_new = Path(tmp) / "old", Path(tmp) / "new"
            w_old.mkdir()
            w_new.mkdir()
            old, t_old, rss_old = measure(lambda: old_path(job, w_old))  # noqa: B023
            new, t_new, rss_new = measure(lambda: new_path(job, w_new))  # noqa: B023
            row = {
                "scene": name, "frames": job.expected_frames,
                "old_s": round(t_old, 1), "new_s": round(t_new, 1),
                "new_over_old": round(t_new / t_old, 3),
                "old_rss_mib": rss_old, "new_rss_mib": rss_new,
                "old_kib": old.stat().st_size // 1024, "new_kib": new.stat().st_size // 1024,
            }
            # keep one mid-beat frame of each for looking at side by side
            at = (job.beat_frames[min(1, len(job.beat_frames) - 1)] + 20) / q.fps
            media.extract_frame(old, at, keep / f"{name}-old.png")
            media.extract_frame(new, at, keep / f"{name}-new.png")
            shutil.copyfile(old, keep / f"{name}-old.mp4")
            shutil.copyfile(new, keep / f"{name}-new.mp4")
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def bench_longest(lecture: str, q: Quality, jobs: int, keep: Path) -> dict:
    spec = load_lecture(lecture)
    opts = RenderOptions(quality=q, out_root=keep / "plan", jobs=jobs, speech_cache=speech_cache())
    plans = plan_lecture(spec, opts)
    p = max(plans, key=lambda p: p.timing.frames)
    job = replace(p.job, beat_frames=tuple(p.timing.beat_frames))
    out: dict[str, Any] = {"segment": p.spec.id, "scene": p.spec.scene,
                           "frames": job.expected_frames, "jobs": jobs}
    for label, workers in (("unsplit", 1), ("split", jobs)):
        cache = keep / f"cache-{label}"
        shutil.rmtree(cache, ignore_errors=True)
        # alone in the queue, a job is split into `workers` parts
        _, secs, rss = measure(lambda: render_all([job], cache, workers,  # noqa: B023
                                                  lambda *a: None))
        out[f"{label}_s"] = round(secs, 1)
        out[f"{label}_rss_mib"] = rss
    out["split_over_unsplit"] = round(out["split_s"] / out["unsplit_s"], 3)
    print(json.dumps(out), flush=True)
    return out


def table(q: Quality, rows: list[dict], longest: dict | None) -> str:
    lines = [f"# Render engine at {q.name} ({q.width}x{q.height}@{q.fps}), {cores()} cores", "",
             "| scene | frames | old s | new s | new/old | old peak RSS manim/ffmpeg MiB "
             "| new peak RSS manim/ffmpeg MiB | old KiB | new KiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['scene']} | {r['frames']} | {r['old_s']} | {r['new_s']} | "
            f"{r['new_over_old']} | {r['old_rss_mib']['manim child']}/{r['old_rss_mib']['ffmpeg']} "
            f"| {r['new_rss_mib']['manim child']}/{r['new_rss_mib']['ffmpeg']} | "
            f"{r['old_kib']} | {r['new_kib']} |")
    if longest:
        lines += ["", f"Longest segment {longest['segment']} ({longest['scene']}, "
                  f"{longest['frames']} frames): unsplit {longest['unsplit_s']} s, "
                  f"{longest['jobs']} parts in parallel {longest['split_s']} s "
                  f"(ratio {longest['split_over_unsplit']})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quality", default="1080p", choices=list(QUALITIES))
    ap.add_argument("--scenes", nargs="*", default=["ForwardDotGrid", "KeyConcepts"])
    ap.add_argument("--seconds", type=float, default=8.0, help="video length per scene")
    ap.add_argument("--lecture", default="forward-diffusion")
    ap.add_argument("--jobs", type=int, default=2, help="parts for the longest segment")
    ap.add_argument("--no-longest", action="store_true")
    ap.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "bench-engine")
    args = ap.parse_args()
    q = QUALITIES[args.quality]
    args.keep.mkdir(parents=True, exist_ok=True)
    rows = bench_scenes(args.scenes, q, args.seconds, args.keep) if args.scenes else []
    longest = None if args.no_longest else bench_longest(args.lecture, q, args.jobs, args.keep)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"engine-{q.name}.json").write_text(
        json.dumps({"cores": cores(), "quality": q.name, "scenes": rows, "longest": longest},
                   indent=1), encoding="utf-8")
    text = table(q, rows, longest)
    (RESULTS / f"engine-{q.name}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
