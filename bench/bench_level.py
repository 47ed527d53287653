"""Levelling one take: ``audio.level.level_take`` at a git ref against the working tree.

Every synthetic narration and every recorded take is levelled once (speech loudness,
one gain, a true-peak limiter), so its cost is part of every cold render. The take is
real speech: a sentence of the bundled Piper voice, repeated to ``--seconds``. Both
versions run in this process, alternately, so the ratio holds on a busy machine.

    .venv/bin/python bench/bench_level.py --ref HEAD~1 --seconds 120
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio import level  # noqa: E402
from bench.results_table import publish  # noqa: E402

TEXT = ("The forward process adds a little Gaussian noise at every step, "
        "and after a thousand steps only noise is left.")


def old_level(ref: str):  # noqa: ANN201 (a module)
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:audio/level.py"],
                         capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "level_old.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("level_old", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["level_old"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def speech(seconds: float) -> np.ndarray:
    from audio.piper_voice import PiperEngine

    said = PiperEngine(150).say(TEXT, TEXT.split())
    reps = int(np.ceil(seconds * 48_000 / len(said.samples)))
    x = np.concatenate([said.samples] * reps)[: int(seconds * 48_000)]
    return (x * 1.8).astype(np.float32)  # hot: the limiter has peaks to catch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref", default="HEAD~1")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    x = speech(args.seconds)
    old = old_level(args.ref)
    times: dict[str, list[float]] = {"old": [], "new": []}
    out = {}
    for _ in range(args.rounds):
        for name, mod in (("old", old), ("new", level)):
            t = time.perf_counter()
            y, info = mod.level_take(x)
            times[name].append(time.perf_counter() - t)
            out[name] = (y, info)
    (yo, io), (yn, inn) = out["old"], out["new"]
    result = {
        "ref": args.ref, "seconds_of_speech": args.seconds,
        "old_s": round(min(times["old"]), 3), "new_s": round(min(times["new"]), 3),
        "speedup": round(min(times["old"]) / min(times["new"]), 1),
        "old_true_peak_dbtp": round(io.true_peak_dbtp, 3),
        "new_true_peak_dbtp": round(inn.true_peak_dbtp, 3),
        "old_limited_db": round(io.limited_db, 3), "new_limited_db": round(inn.limited_db, 3),
        "new_true_peak_by_old_meter": round(old.true_peak_dbtp(yn), 3),
        "max_sample_difference": float(np.abs(yo - yn).max()),
    }
    publish("level", "Levelling one take", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
