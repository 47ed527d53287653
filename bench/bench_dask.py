"""Benchmark: a local Dask cluster against the local executor, on this machine.

Both render the same lecture cold (fresh output and render cache; the speech cache is
warmed first, so both start from the same synthesised narration):

* local executor, ``--jobs N``: wall time, and its plan / render / assemble split;
* ``dask-local:N`` (N single-threaded worker processes): cluster start-up time, wall time
  of the render and its split; the Dask render stage includes the narration tasks;
* Dask overhead per task on the same cluster: round trip of one empty task at a time,
  and the throughput of a batch of empty tasks;
* that the two lectures decode to the same frames and audio.

Shared machines are noisy: compare the ratios within one run.

    .venv/bin/python bench/bench_dask.py [--lecture diffusion-overview] [--quality preview]
                                         [--only ID ...] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(  # workers import the project from here too
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

from pipeline.lecture import render_lectures  # noqa: E402
from pipeline.options import RenderOptions  # noqa: E402
from pipeline.planning.manifest import load_lecture  # noqa: E402
from pipeline.planning.plan import plan_lecture, quality  # noqa: E402
from pipeline.rendering.executors import (  # noqa: E402
    DaskExecutor,
    LectureRequest,
    LocalExecutor,
)
from pipeline.rendering.store import RenderStore  # noqa: E402


def decoded_hash(mp4: Path) -> str:
    h = hashlib.sha256()
    for args in (["-map", "0:v:0", "-f", "rawvideo"], ["-map", "0:a:0", "-f", "s16le"]):
        out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp4), *args, "-"],
                             capture_output=True, check=True).stdout
        h.update(out)
    return h.hexdigest()


def empty() -> None:
    return None


def task_overhead(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per empty task: one at a time (latency) and 400 at once (throughput)."""
    client.submit(empty, pure=False).result()  # warm
    n = 40
    t0 = time.perf_counter()
    for _ in range(n):
        client.submit(empty, pure=False).result()
    latency = (time.perf_counter() - t0) / n
    n = 400
    t0 = time.perf_counter()
    client.gather(client.map(lambda i: i, range(n), pure=False))
    batch = (time.perf_counter() - t0) / n
    return {"round_trip_s": latency, "batched_s": batch}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lecture", default="diffusion-overview")
    ap.add_argument("--quality", default="preview")
    ap.add_argument("--only", nargs="*", default=())
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)

    spec = load_lecture(args.lecture)
    if args.only:
        kept = [s for s in spec.segments if s.id in args.only]
        thumb = spec.thumbnail
        if thumb.segment not in {s.id for s in kept}:
            thumb = thumb.model_copy(update={"segment": None})  # the middle kept segment
        spec = spec.model_copy(update={"segments": kept, "thumbnail": thumb})
    source = str(spec.source)
    work = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    speech = work / "speech"

    def opts(name: str) -> RenderOptions:
        return RenderOptions(quality=quality(args.quality), out_root=work / name,
                             jobs=args.workers, speech_cache=speech)

    # Warm the speech cache so both executors start from the same narration.
    plan_lecture(spec, opts("warm"), source=source)

    row: dict[str, object] = {
        "lecture": spec.id, "segments": len(spec.segments), "quality": args.quality,
        "workers": args.workers, "cores": os.cpu_count(), "python": platform.python_version(),
    }
    t0 = time.perf_counter()
    [local] = render_lectures([LectureRequest(spec, source, opts("local"))], LocalExecutor())
    row["local_wall_s"] = time.perf_counter() - t0
    row["local_split_s"] = local.timings
    row["video_s"] = local.duration

    t0 = time.perf_counter()
    ex = DaskExecutor.local_cluster(args.workers, RenderStore.for_path(work / "dask-cache"))
    row["cluster_start_s"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        [dask] = render_lectures([LectureRequest(spec, source, opts("dask"))], ex)
        row["dask_wall_s"] = time.perf_counter() - t0
        row["dask_split_s"] = dask.timings
        row["empty_task"] = task_overhead(ex.client)
    finally:
        ex.close()
    row["same_output"] = (decoded_hash(local.out_dir / "lecture.mp4")
                          == decoded_hash(dask.out_dir / "lecture.mp4"))
    row["dask_over_local"] = float(row["dask_wall_s"]) / float(row["local_wall_s"])  # type: ignore[arg-type]
    row["render_stage_ratio"] = dask.timings["render"] / (local.timings["plan"]
                                                         + local.timings["render"])
    n_tasks = 2 * len(spec.segments)  # a narration and a render per segment
    row["overhead_per_task_s"] = (
        (dask.timings["render"] - local.timings["plan"] - local.timings["render"]) / n_tasks)

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.results / f"dask-{stamp}.json").write_text(json.dumps(row, indent=2))
    et = row["empty_task"]
    assert isinstance(et, dict)
    lines = [
        f"# Dask LocalCluster vs local executor ({spec.id}, {len(spec.segments)} segments, "
        f"{args.quality}, {row['video_s']:.1f} s of video; {os.cpu_count()} cores, "
        f"{args.workers} workers / --jobs {args.workers})",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| local executor, cold, wall | {row['local_wall_s']:.1f} s |",
        f"| dask-local, cold, wall (after start-up) | {row['dask_wall_s']:.1f} s |",
        f"| dask ÷ local, wall | {row['dask_over_local']:.2f} |",
        f"| narration + render stages, dask ÷ local | {row['render_stage_ratio']:.2f} |",
        f"| extra seconds per task (narration+render stages, over local) | "
        f"{row['overhead_per_task_s']:.2f} s |",
        f"| LocalCluster start-up | {row['cluster_start_s']:.1f} s |",
        f"| empty task round trip | {et['round_trip_s'] * 1000:.1f} ms |",
        f"| empty task, batched | {et['batched_s'] * 1000:.2f} ms |",
        f"| same decoded frames and audio | {row['same_output']} |",
        "",
        f"local split: {json.dumps({k: round(v, 1) for k, v in local.timings.items()})}; "
        f"dask split: {json.dumps({k: round(v, 1) for k, v in dask.timings.items()})}",
        "",
    ]
    (args.results / f"dask-{stamp}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
