"""Peak memory of the orchestrator, stage by stage, on a cold render.

Runs ``render.py`` the way a new user or a CI machine would (fresh speech cache, fresh
render cache, fresh user cache) from one or more source trees, e.g. the commit before a
change and after it, one after another in the same run. The orchestrator's RSS (and its
children's, by kind) is sampled from ``/proc`` every 50 ms; each sample is put in the
pipeline stage the run had reached, read from the status file render.py appends its
stage names to (``LECTURE_STATUS_FILE``). Memory figures hold on a busy machine; times
do not.

    .venv/bin/python bench/bench_memory.py --tree /path/to/old/checkout --tree .
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_render import run_sampled  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def git_head(tree: Path) -> str:
    out = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out[:90] or str(tree)


def cold_run(tree: Path, lecture: str, quality: str) -> dict:
    """One cold render from ``tree``; peak RSS per stage and per process kind."""
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    speech = tree / "audio" / "cache"
    moved = None
    if speech.exists():  # the tree's speech cache is put aside: synthesis is measured too
        moved = work / "speech-cache-aside"
        shutil.move(str(speech), moved)
    status = work / "status.txt"
    status.write_text("planning\n", encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "xdg"), "LECTURE_STATUS_FILE": str(status),
           "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(tree / "render.py"), "--lecture", lecture, "--quality", quality,
           "--out", str(work / "out")]
    by_stage: dict[str, float] = {}
    timeline: list[tuple[float, str, float]] = []
    t0 = time.perf_counter()

    def stage_of(pid: int, kind: str, mb: float) -> None:
        if kind == "orchestrator":  # (a child between fork and exec reads the same)
            stage = status.read_text(encoding="utf-8").strip().splitlines()[-1]
            by_stage[stage] = max(by_stage.get(stage, 0.0), mb)
            timeline.append((round(time.perf_counter() - t0, 2), stage, round(mb)))

    run = run_sampled(cmd, env, cwd=tree, on_sample=stage_of)
    seconds, by_kind, err, code = run.seconds, run.peak_mb, run.stderr, run.returncode
    if moved is not None:
        shutil.rmtree(speech, ignore_errors=True)
        shutil.move(str(moved), speech)
    record = json.loads((work / "out" / lecture / "manifest.json").read_text("utf-8")) \
        if code == 0 else {}
    shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        raise SystemExit(f"{tree}: render failed (exit {code}): {err.strip()[-400:]}")
    return {
        "tree": git_head(tree), "seconds": round(seconds, 1),
        "video_seconds": round(record.get("duration", 0.0), 1),
        "orchestrator_peak_mb": round(max(by_stage.values())),
        "orchestrator_by_stage_mb": {k: round(v) for k, v in by_stage.items()},
        "peak_by_kind_mb": {k: round(v) for k, v in by_kind.items()},
        "timeline": timeline[:: max(1, len(timeline) // 400)],
    }


def table(lecture: str, quality: str, runs: list[dict]) -> str:
    stages: list[str] = []
    for r in runs:
        stages += [s for s in r["orchestrator_by_stage_mb"] if s not in stages]
    head = "| stage | " + " | ".join(f"`{r['tree'][:40]}`" for r in runs) + " |"
    rows = [head, "|---" * (len(runs) + 1) + "|"]
    for s in stages:
        rows.append(f"| {s} | " + " | ".join(
            str(r["orchestrator_by_stage_mb"].get(s, "")) for r in runs) + " |")
    rows.append("| **orchestrator peak (MB)** | " + " | ".join(
        f"**{r['orchestrator_peak_mb']}**" for r in runs) + " |")
    for kind in ("manim child", "ffmpeg"):
        rows.append(f"| {kind} peak (MB) | " + " | ".join(
            str(r["peak_by_kind_mb"].get(kind, "")) for r in runs) + " |")
    rows.append("| wall time (s) | " + " | ".join(str(r["seconds"]) for r in runs) + " |")
    return (f"Cold render of `{lecture}` at `{quality}` ({runs[0]['video_seconds']} s of "
            f"video), fresh caches, {os.cpu_count()} cores; RSS in MB sampled every 50 ms.\n\n"
            + "\n".join(rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tree", type=Path, action="append", default=[],
                    help="source tree to run render.py from (repeat; default: this one)")
    ap.add_argument("--lecture", default="forward-diffusion")
    ap.add_argument("--quality", default="tiny")
    args = ap.parse_args()
    trees = [t.resolve() for t in args.tree] or [ROOT]
    runs = []
    for tree in trees:
        runs.append(cold_run(tree, args.lecture, args.quality))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "timeline"}),
              file=sys.stderr, flush=True)
    text = table(args.lecture, args.quality, runs)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"memory-{args.lecture}-{args.quality}"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stem.with_suffix(".md").write_text(f"# Orchestrator memory, {stamp}\n\n{text}\n", "utf-8")
    stem.with_suffix(".json").write_text(  # a run a line: the timelines are long
        "[\n" + ",\n".join(json.dumps(r) for r in runs) + "\n]\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
