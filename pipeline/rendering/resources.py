"""How many renders run at once.

A render job is one manim child (Cairo draws on one core) feeding one ffmpeg/x264
process. ``default_jobs`` allows as many jobs as there are cores, and no more than the
memory that is free right now holds at each job's measured peak (manim child plus its
encoder, sampled by ``bench/bench_engine.py``; see bench/results/engine-1080p.md).
Each encoder runs one x264 thread, a fixed encoder setting (``media.video_encoder_settings``)
so that a render's bytes do not depend on the machine or ``--jobs``.
"""

from __future__ import annotations

import os

from pipeline.planning.manifest import Quality

#: Peak resident memory of one render job (manim child + ffmpeg), in MiB: a fixed base
#: plus a share per megapixel of the frame. Measured at 1080p60 (ForwardDotGrid,
#: bench/bench_engine.py): manim child 999 MiB + ffmpeg/x264 242 MiB = 1241 MiB.
JOB_BASE_MIB = 800  # python + manim + torch + the scene's objects
JOB_PER_MPIXEL_MIB = 215  # Cairo's canvas, frame copies, the pipe, x264's lookahead
MEMORY_RESERVE = 0.8  # use at most this share of the memory that is free now


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def available_mib() -> float | None:
    """``MemAvailable`` from /proc/meminfo, or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def job_budget_mib(q: Quality) -> float:
    return JOB_BASE_MIB + JOB_PER_MPIXEL_MIB * q.width * q.height / 1e6


def default_jobs(q: Quality) -> int:
    """Jobs the cores and the free memory allow (at least one)."""
    n = cores()
    free = available_mib()
    if free is not None:
        n = min(n, int(free * MEMORY_RESERVE // job_budget_mib(q)))
    return max(1, n)
