"""Cost of the render cache keys of a whole lecture (measured here, never in tests).

    .venv/bin/python bench/bench_cache_keys.py [--lecture forward-diffusion]

Each measurement runs in a fresh interpreter so it sees what a new ``render.py`` sees:

* ``cold``: no remembered probes (empty ``XDG_CACHE_HOME``): the toolchain programs run,
  every source file and font is hashed;
* ``warm``: the probes and file checksums remembered on disk by an earlier run.

The interpreter first imports every scene class (planning does that anyway), so the
figures are the keys' own cost. Results are appended to ``bench/results/cache_keys.txt``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import sys, time
from pipeline.planning.manifest import load_lecture, QUALITIES
from scenes.registry import load_scene_class
spec = load_lecture(sys.argv[1])
for s in spec.segments:
    load_scene_class(s.scene)
from pipeline.rendering.cache import render_key
t = time.perf_counter()
for s in spec.segments:
    render_key(scene=s.scene, params=s.params, plan={"x": 1.0}, quality=QUALITIES["1080p"],
               seed=spec.seed)
print(f"{time.perf_counter() - t:.3f} {len(spec.segments)}")
"""


def run(lecture: str, cache_home: str) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": cache_home}
    out = subprocess.run([sys.executable, "-c", CHILD, lecture], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lecture", default="forward-diffusion")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        cold, n = run(args.lecture, home)
        warm = [run(args.lecture, home)[0] for _ in range(3)]
    line = (f"{time.strftime('%Y-%m-%d %H:%M')} {args.lecture}: {n} segment keys, cold "
            f"{cold:.2f} s, warm {min(warm):.2f} s (best of 3), ratio {cold / min(warm):.1f}x")
    print(line)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with open(results / "cache_keys.txt", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


if __name__ == "__main__":
    main()
