"""Own scenes with their own cameras: a small ``ThreeDScene`` and a small ``ZoomedScene``
rendered as narrated segments (cold render cache, silent narration), against
``manim render`` of the same class at the same size and rate.

Figures: seconds of wall time per second of video, for the segment render (the
pipeline's ``build_lecture``: dry run, render, encode, assembly) and for manim alone;
the load average before and after, since the machine may be shared.

    .venv/bin/python bench/bench_own_scenes.py --quality preview
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
sys.path.insert(0, str(ROOT))

from bench.results_table import RESULTS, publish  # noqa: E402
from pipeline import media  # noqa: E402
from pipeline.lecture import build_lecture  # noqa: E402
from pipeline.options import RenderOptions  # noqa: E402
from pipeline.planning.manifest import QUALITIES, load_lecture  # noqa: E402

SCENES = """\
from manim import (DEGREES, Create, Cube, Dot, FadeIn, Sphere, Square, ThreeDAxes,
                   ThreeDScene, ZoomedScene)


class Solid(ThreeDScene):
    def construct(self):
        self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)
        self.add(ThreeDAxes())
        self.play(Create(Cube(side_length=1.5, fill_opacity=0.6)), run_time=1.5)
        self.play(FadeIn(Sphere(radius=0.5).shift([2, 0, 0])), run_time=1.0)
        self.move_camera(theta=90 * DEGREES, run_time=1.5)


class Zoom(ZoomedScene):
    def construct(self):
        self.add(Square(), Dot())
        self.play(FadeIn(Dot().shift([1, 1, 0])), run_time=1.0)
        self.activate_zooming(animate=False)
        self.play(self.zoomed_camera.frame.animate.shift([1, 1, 0]), run_time=1.5)
        self.play(self.zoomed_camera.frame.animate.shift([-1, -1, 0]), run_time=1.5)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quality", default="preview", choices=list(QUALITIES))
    args = ap.parse_args()
    q = QUALITIES[args.quality]
    figures: dict[str, object] = {"quality": q.name, "size": f"{q.width}x{q.height}@{q.fps}",
                                  "cpus": os.cpu_count(),
                                  "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="bench-own-") as tmp:
        base = Path(tmp)
        (base / "s.py").write_text(SCENES)
        for cls in ("Solid", "Zoom"):
            toml = base / f"{cls}.toml"
            toml.write_text(f'id = "{cls.lower()}"\ntitle = "{cls}"\nvoice = "silence"\n'
                            "lead_in = 0.1\ntail = 0.1\n\n[[segments]]\nid = \"s\"\n"
                            f'chapter = "s"\nscene = "s.py:{cls}"\nnarration = "Hi."\n')
            opts = RenderOptions(quality=q, out_root=base / "out", jobs=1,
                                 speech_cache=base / "speech")
            t0 = time.perf_counter()
            result = build_lecture(load_lecture(toml), opts, source=str(toml))
            took = time.perf_counter() - t0
            seconds = media.count_frames(base / "out" / cls.lower() / "lecture.mp4") / q.fps
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "manim", "render", "s.py", cls, "-r",
                            f"{q.width},{q.height}", "--fps", str(q.fps), "--media_dir",
                            str(base / "media"), "--disable_caching", "-v", "WARNING",
                            "--progress_bar", "none"], cwd=base, check=True)
            manim_took = time.perf_counter() - t0
            assert result.rendered == ["s"]
            figures[f"{cls}_video_s"] = round(seconds, 2)
            figures[f"{cls}_segment_s_per_video_s"] = round(took / seconds, 2)
            figures[f"{cls}_manim_render_s_per_video_s"] = round(manim_took / seconds, 2)
    figures["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    publish("own-scenes", f"Own ThreeDScene and ZoomedScene at {q.name}", figures)
    with (RESULTS / "own-scenes.md").open("a", encoding="utf-8") as fh:
        fh.write(NOTE)


NOTE = """
Made by `bench/bench_own_scenes.py`. The segment figure is a cold `build_lecture` of a
one-segment lecture (silent narration, one job): planning with the dry run (when the
probe cache is cold), the render, the encode and the assembly; the manim figure is
`manim render` of the same class at the same size, its process start included. Both
scenes render frame for frame like manim's (tests/test_any_scene.py,
`test_three_d_and_zoomed_scenes_render_like_manim`). A load average above the 2 cores
means the machine was shared: read the ratios, not the absolute times.
"""


if __name__ == "__main__":
    main()
