"""A scene rendered twice into one cache: LaTeX compiled, then reused from the store.

Every render runs manim in a private folder; the SVGs it compiles (LaTeX, Pango text)
are shared through ``<cache>/tex/``. The second render here has another render key (as
another chunk, another segment with the same formulas, or a re-render after a scene
edit would), so it renders every frame again but runs no LaTeX. Both renders run in
this process's run, one after the other; their frames are compared.

    .venv/bin/python bench/bench_tex.py --scene ForwardMath --quality preview
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

from pipeline.manifest import QUALITIES  # noqa: E402
from pipeline.scene_render import RenderJob, render  # noqa: E402
from scenes.timing import min_total, plan_beats  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def frames_digest(video: Path) -> str:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return "\n".join(ln.split(",")[-1] for ln in out.splitlines() if not ln.startswith("#"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scene", default="ForwardMath")
    ap.add_argument("--quality", default="preview", choices=list(QUALITIES))
    args = ap.parse_args()
    q = QUALITIES[args.quality]
    from scenes.registry import load_scene_class

    beats = load_scene_class(args.scene).BEATS
    plan = plan_beats(beats, {"total": max(6.0, min_total(beats))})
    starts, acc = [], 0.0
    for secs in plan.values():  # each beat's first frame, as the scene computes it
        starts.append(round(acc * q.fps))
        acc += secs
    total = round(acc * q.fps)
    root = Path(tempfile.mkdtemp(prefix="bench-tex-"))
    rows = {}
    try:
        for run in ("compiles LaTeX", "reuses the store"):
            job = RenderJob(run, args.scene, {}, plan, 0, q, total, f"bench-{run}",
                            tuple(starts))
            t = time.perf_counter()
            video = render(job, root)
            rows[run] = (time.perf_counter() - t, frames_digest(video))
        svgs = len(list((root / "tex").rglob("*.svg")))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    (a, fa), (b, fb) = rows.values()
    result = {"scene": args.scene, "quality": args.quality, "cores": os.cpu_count(),
              "svgs_in_store": svgs, "first_s": round(a, 2), "second_s": round(b, 2),
              "second_over_first": round(b / a, 3), "same_frames": fa == fb}
    text = "| figure | value |\n|---|---|\n" + "\n".join(
        f"| {k} | {v} |" for k, v in result.items())
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tex.md").write_text(
        f"# Shared LaTeX store, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
        f"{text}\n", encoding="utf-8")
    (RESULTS / "tex.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if fa == fb else 1


if __name__ == "__main__":
    sys.exit(main())
