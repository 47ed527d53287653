"""What one rendered frame costs, before and after the batched camera and the faster preset.

For each scene, at a quality (default 1080p60) and cut to ``--seconds`` of video, the
pipeline's own render child (``pipeline.rendering.scene_process``) runs three ways, one after
another in this one run:

* ``before``: manim's Cairo ``Camera`` and x264 ``-preset medium`` (the engine until now);
* ``camera``: ``scenes.camera.BatchedCamera`` and ``medium``;
* ``now``: ``BatchedCamera`` and ``veryfast`` (the engine now).

Each run reports wall seconds (the render child and its ffmpeg run side by side, as in
the pipeline) and CPU seconds of the child and ffmpeg together (``RUSAGE_CHILDREN``:
with two jobs on two cores, CPU per second of video is what bounds a cold render), per
second of video. ``before`` and ``camera`` must decode to the same frames (the camera
changes no pixel); ``now`` against ``before`` gives the preset's size and PSNR cost.

    .venv/bin/python bench/bench_frame_cost.py --scenes CodeWalkthrough ForwardDotGrid
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_table import publish  # noqa: E402
from pipeline.planning.manifest import QUALITIES  # noqa: E402
from pipeline.rendering import scene_render  # noqa: E402
from pipeline.rendering.resources import cores  # noqa: E402
from pipeline.rendering.scene_render import Part, RenderJob, render_part  # noqa: E402
from scenes.registry import load_scene_class  # noqa: E402
from scenes.timing import min_total, plan_beats  # noqa: E402

# The render child, with the camera and the preset of a variant swapped in before it runs.
CHILD = """
import sys
import manim.camera.camera
import scenes.camera
from pipeline import media
from pipeline.rendering import scene_process
camera, preset = sys.argv[1], sys.argv[2]
if camera == "manim":
    scenes.camera.BatchedCamera = manim.camera.camera.Camera
settings = media.video_encoder_settings
media.video_encoder_settings = lambda q: {**settings(q), "preset": preset}
sys.exit(scene_process.main())
"""
VARIANTS = {"before": ("manim", "medium"), "camera": ("batched", "medium"),
            "now": ("batched", "veryfast")}
DEFAULT_SCENES = ["CodeWalkthrough", "ForwardDotGrid", "XTStats", "ScheduleCurve",
                  "ForwardMath"]


def job_for(scene: str, quality: str, seconds: float) -> RenderJob:
    q = QUALITIES[quality]
    cls = load_scene_class(scene)
    plan = plan_beats(cls.BEATS, {"total": max(seconds, min_total(cls.BEATS))})
    starts, acc = [], 0.0
    for secs in plan.values():
        starts.append(round(acc * q.fps))
        acc += secs
    total = round(acc * q.fps)
    return RenderJob(scene, scene, {}, plan, 0, q, total, f"bench-{scene}", tuple(starts))


def run_variant(job: RenderJob, variant: str, out: Path) -> dict:
    camera, preset = VARIANTS[variant]
    scene_render.render_command = lambda: [sys.executable, "-c", CHILD, camera, preset]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    render_part(job, Part(0, 0, job.expected_frames), out)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "bytes": out.stat().st_size}


def decoded_md5(path: Path) -> str:
    proc = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v",
                           "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                          capture_output=True, check=True)
    return hashlib.md5(proc.stdout).hexdigest()


def psnr(a: Path, b: Path) -> float:
    proc = subprocess.run(["ffmpeg", "-i", str(a), "-i", str(b), "-lavfi", "psnr",
                           "-f", "null", "-"], capture_output=True, text=True)
    found = re.findall(r"average:([0-9.]+|inf)", proc.stderr)
    return float(found[-1]) if found else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", nargs="+", default=DEFAULT_SCENES)
    ap.add_argument("--quality", default="1080p", choices=sorted(QUALITIES))
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    figures: dict[str, str] = {"machine cores": str(cores()),
                               "quality": args.quality, "variants": "; ".join(
                                   f"{k}: {c} camera, x264 {p}" for k, (c, p) in
                                   VARIANTS.items())}
    totals = {v: [0.0, 0.0] for v in VARIANTS}
    video = 0.0
    with tempfile.TemporaryDirectory(prefix="frame-cost-") as tmp:
        for scene in args.scenes:
            job = job_for(scene, args.quality, args.seconds)
            secs = job.expected_frames / job.quality.fps
            video += secs
            r = {v: run_variant(job, v, Path(tmp) / f"{scene}-{v}.mp4") for v in VARIANTS}
            for v in VARIANTS:
                totals[v][0] += r[v]["wall"]
                totals[v][1] += r[v]["cpu"]
            same = decoded_md5(Path(tmp) / f"{scene}-before.mp4") == \
                decoded_md5(Path(tmp) / f"{scene}-camera.mp4")
            db = psnr(Path(tmp) / f"{scene}-now.mp4", Path(tmp) / f"{scene}-before.mp4")
            cells = ", ".join(
                f"{v} {r[v]['wall'] / secs:.2f} wall / {r[v]['cpu'] / secs:.2f} CPU"
                for v in VARIANTS)
            figures[f"{scene} ({job.expected_frames} frames, {secs:.1f} s)"] = (
                f"per second of video: {cells}; camera frames identical to before: "
                f"{'yes' if same else 'NO'}; now/before bytes "
                f"{r['now']['bytes'] / r['before']['bytes']:.2f}, PSNR now vs before "
                f"{db:.1f} dB")
            print(scene, figures[next(reversed(figures))], flush=True)
    for v in VARIANTS:
        figures[f"all scenes, {v}: s per s of video"] = (
            f"{totals[v][0] / video:.2f} wall, {totals[v][1] / video:.2f} CPU")
    figures["now ÷ before"] = (f"wall {totals['now'][0] / totals['before'][0]:.2f}, "
                               f"CPU {totals['now'][1] / totals['before'][1]:.2f}")
    publish(f"frame-cost-{args.quality}", f"Frame cost at {args.quality}", figures)


if __name__ == "__main__":
    main()
