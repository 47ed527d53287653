"""``lecture studio``: from a file's write to the new preview being playable in the page.

A real studio process on a two-segment lecture (a ~30 s segment narrated by the Piper
voice, and a shorter one with a recorded take), a real headless Chromium on its page.
Each case writes one file and reads, from the page, when the new preview could play
(``studio.playable``, set on the video's ``canplay`` after the swap):

a. one sentence of the long segment's narration edited in the TOML; target: at most
   that segment's own render time (``timings.render`` of the run, read from the new
   ``manifest.json``) plus 3 s. The first edit after the studio starts speaks the
   segment's other sentences too (they were read from the speech cache, whole); the
   second (a2, another sentence of it) speaks only its own, as every later edit does;
b. the take of the short segment replaced by another recording; same target;
c. a comment added to the TOML: under 1 s, nothing rendered.

Printed per case: the latency and where it went (the watcher noticing the write, the
build's planning, rendering and assembly, the page's swap). One run each by default.

    .venv/bin/python bench/bench_studio.py               # preview quality, the full bench
    .venv/bin/python bench/bench_studio.py --quick       # tiny quality, short segment
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from audio.clips import write_wav  # noqa: E402
from audio.narration import resolve_narration  # noqa: E402
from bench.results_table import publish  # noqa: E402
from pipeline import paths  # noqa: E402

from helpers.studio import Studio  # noqa: E402

LONG = ("A diffusion model learns to undo noise, one small step at a time. "
        "We start from a clean picture and add a little Gaussian noise at every step. "
        "After enough steps nothing of the picture is left, only noise. "
        "The network is trained to guess the noise that was added at each step. "
        "Sampling runs the chain backwards, from pure noise to a picture. "
        "Each backward step removes a little of the noise the network predicts.")
SHORT = "Two sentences are enough here. They are read from a recorded take."
TOML = """id = "studio-bench"
title = "Studio bench"
seed = 1
quality = "preview"

[[segments]]
id = "long"
chapter = "The long one"
scene = "TitleCard"
params = {{ title = "Noise, step by step" }}
narration = "{long}"

[[segments]]
id = "take"
chapter = "Recorded"
scene = "TitleCard"
params = {{ title = "A take" }}
narration = "{short}"
"""
EDIT = ("After enough steps nothing of the picture is left, only noise.",
        "After enough steps the picture is gone, and only noise remains.")
EDIT2 = ("We start from a clean picture and add a little Gaussian noise at every step.",
         "We begin with a clean picture and add some Gaussian noise at each step.")


def make_takes(folder: Path) -> tuple[Path, Path]:
    """Two recordings of the short script: the voice's speech, and the same said
    slower, later and softer (another take of the same words, timed differently)."""
    n = resolve_narration(segment_id="take", script=SHORT, cache_dir=paths.speech_cache(),
                          voice="piper", wpm=150)
    first, second = folder / "first.wav", folder / "second.wav"
    write_wav(first, n.samples)
    x = n.samples
    at = np.linspace(0, len(x) - 1, int(len(x) * 1.15))
    slow = np.stack([np.interp(at, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])],
                    axis=1).astype(np.float32)
    pad = np.zeros((int(0.4 * 48000), x.shape[1]), dtype=np.float32)
    write_wav(second, np.concatenate([pad, slow * 0.6]))
    return first, second


def replace_file(src: Path, dst: Path) -> None:
    """Write ``dst`` whole at once (a copy beside it, then a rename)."""
    tmp = dst.parent.parent / f".{dst.name}.new"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def measure(studio: Studio, page: Any, change: Any, expect_render: bool) -> dict[str, Any]:
    old = page.evaluate("studio.version")
    done_before = page.evaluate("studio.lastDone ? studio.lastDone.at : 0")
    t0 = time.time()
    change()
    if expect_render:
        page.wait_for_function("v => studio.playable && studio.playable.version !== v",
                               arg=old, timeout=300_000)
        ready = page.evaluate("studio.playable.at") / 1000
    else:
        page.wait_for_function("t => studio.lastDone && studio.lastDone.at > t",
                               arg=done_before, timeout=60_000)
        ready = page.evaluate("studio.lastDone.at") / 1000
    last = page.evaluate("studio.lastDone")
    noticed = page.evaluate("studio.changedAt") or t0
    manifest = json.loads((studio.out / ".studio" / "studio-bench" / "manifest.json")
                          .read_text())
    timings = manifest["timings"] if page.evaluate("studio.version") != old else {}
    return {
        "latency_s": round(ready - t0, 3), "noticed_s": round(noticed - t0, 3),
        "build_s": last["seconds"], "plan_s": round(timings.get("plan", 0.0), 3),
        "render_s": round(timings.get("render", 0.0), 3),
        "assemble_s": round(timings.get("assemble", 0.0), 3),
        "page_s": round(ready - last["at"] / 1000, 3) if expect_render else 0.0,
        "rendered": last.get("rendered", []), "version_changed": page.evaluate(
            "studio.version") != old,
    }


def run(folder: Path, quality: str, quick: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    takes = folder / "takes"
    takes.mkdir(parents=True)
    spare = folder / "spare"
    spare.mkdir()
    first, second = make_takes(spare)
    shutil.copyfile(first, takes / "take.wav")
    toml = folder / "lecture.toml"
    long = LONG if not quick else ". ".join(LONG.split(". ")[:3]) + "."
    toml.write_text(TOML.format(long=long, short=SHORT), encoding="utf-8")
    studio = Studio(folder, toml, quality=quality)
    figures: dict[str, Any] = {}
    try:
        studio.wait(lambda s: s["last"] is not None and s["job"] is None, timeout=600)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(bypass_csp=True)
            page.goto(studio.url)
            page.wait_for_function("window.studio && studio.playable", timeout=120_000)
            time.sleep(0.5)  # the watcher is set up by now
            text = toml.read_text(encoding="utf-8")
            a = measure(studio, page, lambda: toml.write_text(
                text.replace(EDIT[0], EDIT[1]), encoding="utf-8"), True)
            a2 = measure(studio, page, lambda: toml.write_text(toml.read_text(
                encoding="utf-8").replace(EDIT2[0], EDIT2[1]), encoding="utf-8"), True)
            b = measure(studio, page, lambda: replace_file(second, takes / "take.wav"), True)
            c = measure(studio, page, lambda: toml.write_text(
                toml.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8"), False)
            browser.close()
    finally:
        studio.stop()
    for name, m in (("a_sentence", a), ("a2_sentence_again", a2), ("b_take", b),
                    ("c_comment", c)):
        for k, v in m.items():
            figures[f"{name}.{k}"] = v
    figures["a_sentence.target_s"] = round(a["render_s"] + 3, 3)
    figures["a2_sentence_again.target_s"] = round(a2["render_s"] + 3, 3)
    figures["b_take.target_s"] = round(b["render_s"] + 3, 3)
    figures["c_comment.target_s"] = 1.0
    figures["load_average"] = os.getloadavg()[0]
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quality", default="preview")
    ap.add_argument("--quick", action="store_true", help="tiny quality, a short segment "
                    "(checks that the bench runs; its figures mean little)")
    args = ap.parse_args()
    quality = "tiny" if args.quick else args.quality
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        # a speech cache of its own: an edit's new sentence is spoken in the measured
        # build, never found from an earlier run of the bench
        os.environ[paths.CACHE_ENV] = str(Path(tmp) / "user-cache")
        figures = run(Path(tmp), quality, args.quick)
    if args.quick:
        print(json.dumps(figures, indent=1))
    else:
        publish(f"studio-{quality}", f"lecture studio, save to playable ({quality})", figures)


if __name__ == "__main__":
    main()
