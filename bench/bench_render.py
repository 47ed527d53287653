"""Benchmark the lecture pipeline in one run (timings belong here, never in tests).

For each quality it measures, on a private output root so the first run is truly cold:

* cold render time / video duration;
* warm re-run time (nothing changed: everything from the cache);
* one-clip-changed re-run time (one segment gets a recorded clip with new timing);
* assembly time of the warm run;
* that assembly against a plain moviepy ``concatenate_videoclips`` + ``write_videofile``
  of the same segment files, as a ratio;
* peak memory (the orchestrator, and the largest manim subprocess).

Shared machines are noisy: compare ratios within one run, not absolute seconds.

    .venv/bin/python bench/bench_render.py --qualities preview 1080p [--lecture ID]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio.clips import write_wav  # noqa: E402
from audio.speech import speak  # noqa: E402
from pipeline.assemble import SPEECH_CACHE, RenderOptions, build_lecture  # noqa: E402
from pipeline.manifest import QUALITIES, load_lecture  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def moviepy_baseline(segment_files: list[Path], dst: Path, fps: int) -> float:
    from moviepy import VideoFileClip, concatenate_videoclips

    clips = [VideoFileClip(str(p)) for p in segment_files]
    t0 = time.perf_counter()
    joined = concatenate_videoclips(clips)
    joined.write_videofile(str(dst), fps=fps, codec="libx264", audio_codec="aac",
                           audio_fps=48000, logger=None)
    elapsed = time.perf_counter() - t0
    joined.close()
    for c in clips:
        c.close()
    return elapsed


def bench_quality(
    lecture: str, qname: str, jobs: int, keep: Path | None, moviepy: bool = True
) -> dict:
    spec = load_lecture(lecture)
    q = QUALITIES[qname]
    root = Path(tempfile.mkdtemp(prefix=f"bench-{qname}-"))
    try:
        opts = RenderOptions(quality=q, out_root=root, jobs=jobs, speech_cache=SPEECH_CACHE)
        cold, t_cold = timed(lambda: build_lecture(spec, opts))
        warm, t_warm = timed(lambda: build_lecture(spec, opts))

        # One recorded clip with different timing: a slower take of the middle segment.
        seg = spec.segments[len(spec.segments) // 2]
        takes = root / "takes"
        takes.mkdir()
        slow = speak(seg.narration, cache_dir=SPEECH_CACHE, voice="en-us", wpm=spec.wpm - 25)
        write_wav(takes / f"{seg.id}.wav", slow.samples)
        opts_clip = RenderOptions(quality=q, out_root=root, jobs=jobs, narration_dir=takes,
                                  speech_cache=SPEECH_CACHE)
        changed, t_changed = timed(lambda: build_lecture(spec, opts_clip))

        out_dir = root / spec.id
        segs = sorted((out_dir / "segments").glob("*.mp4"))
        t_moviepy = moviepy_baseline(segs, root / "moviepy.mp4", q.fps) if moviepy else None
        assembly = warm.timings["assemble"]
        result = {
            "quality": qname,
            "segments": len(spec.segments),
            "video_seconds": round(cold.duration, 2),
            "cold_seconds": round(t_cold, 1),
            "cold_per_video_second": round(t_cold / cold.duration, 3),
            "warm_seconds": round(t_warm, 1),
            "warm_rendered": len(warm.rendered),
            "one_clip_changed_seconds": round(t_changed, 1),
            "one_clip_changed_rendered": changed.rendered,
            "assembly_seconds": round(assembly, 1),
            "moviepy_concat_seconds": round(t_moviepy, 1) if t_moviepy else None,
            "moviepy_over_assembly": round(t_moviepy / assembly, 2) if t_moviepy else None,
            "loudness_lufs": round(cold.loudness.integrated, 2) if cold.loudness else None,
            "peak_rss_orchestrator_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_largest_child_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        }
        if keep is not None:
            dst = keep / f"{spec.id}-{qname}"
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(out_dir, dst)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lecture", default="forward-diffusion")
    ap.add_argument("--qualities", nargs="+", default=["preview", "1080p"], choices=list(QUALITIES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="copy each output folder here")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--no-moviepy", action="store_true",
                    help="skip the moviepy baseline (it re-encodes the whole lecture)")
    args = ap.parse_args()
    results = []
    for qname in args.qualities:
        r = bench_quality(args.lecture, qname, args.jobs, args.keep, not args.no_moviepy)
        print(json.dumps(r), flush=True)
        results.append(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
