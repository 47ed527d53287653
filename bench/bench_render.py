"""Benchmark the lecture pipeline against what a user would do without it.

Every figure comes from one run of this script, each pipeline run in its own process
(``python render.py``, as a user runs it), on a private output root so that the first
run is truly cold. Figures:

* **cold**: a full render into an empty cache, time ÷ video duration;
* **plain manim + moviepy**: ``manim render`` of every segment's scene one after
  another at the same quality (``-ql`` for preview, ``-qh`` for 1080p60), then moviepy
  ``concatenate_videoclips`` + ``write_videofile`` with the narration track; ours as
  a ratio of that;
* **warm**: the same command again, nothing changed (a fresh process);
* **one clip changed**: the middle segment gets a recorded, longer take; time and
  which segments re-rendered (read from ``manifest.json``);
* **assembly alone**: every render cached, the outputs and the cached parts deleted,
  so the whole assembly runs; against moviepy concatenate + write of the same
  segment renders with the narration;
* **peak RSS** per process kind (the orchestrator, manim children, ffmpeg), sampled
  from ``/proc`` every 50 ms over the process tree (not ``RUSAGE_CHILDREN``, which
  only reports the largest child that has been waited for).

The table goes to stdout and to ``bench/results/render-<lecture>-<quality>.md`` with
the core count. Shared machines are noisy: compare ratios within one run.

    .venv/bin/python bench/bench_render.py --quality preview --lecture diffusion-overview
    .venv/bin/python bench/bench_render.py --quality 1080p            # forward-diffusion
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.planning.manifest import QUALITIES, load_lecture  # noqa: E402
from pipeline.publish import store_of  # noqa: E402
from pipeline.records import LectureRecord, read_record  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MANIM_FLAGS = {"preview": "-ql", "720p": "-qm", "1080p": "-qh", "4k": "-qk", "tiny": "-ql"}


# ------------------------------------------------------------------ sampling
def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return None


def _kind(pid: int, root: int, root_cmd: str | None) -> str:
    if pid == root:
        return "orchestrator"
    cmd = _cmdline(pid)
    if cmd is None:
        return "other"
    if cmd == root_cmd:
        # A child between fork and exec still shares the orchestrator's pages, and its
        # VmRSS counts them: it is the orchestrator's memory, not a process of its own.
        return "orchestrator"
    if "ffmpeg" in cmd.split(" ")[0] or "ffprobe" in cmd.split(" ")[0]:
        return "ffmpeg"
    if "manim" in cmd or "pipeline.rendering.scene_process" in cmd:  # the render child runs manim
        return "manim child"
    return "other"


@dataclass
class Sampled:
    seconds: float
    peak_mb: dict[str, float] = field(default_factory=dict)
    returncode: int = 0
    stderr: str = ""


def run_sampled(cmd: list[str], env: dict[str, str] | None = None, *, cwd: Path = ROOT,
                on_sample: Callable[[int, str, float], None] | None = None) -> Sampled:
    """Run ``cmd``; sample the RSS of it and every descendant, by process kind, every
    50 ms (``on_sample(pid, kind, mb)`` sees each reading)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        root_cmd = _cmdline(proc.pid)
        while not done.is_set():
            stack, seen = [proc.pid], set()
            while stack:
                pid = stack.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                kind = _kind(pid, proc.pid, root_cmd)
                mb = _rss_mb(pid)
                peaks[kind] = max(peaks.get(kind, 0.0), mb)
                if on_sample is not None:
                    on_sample(pid, kind, mb)
                stack += _children(pid)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    return Sampled(elapsed, peaks, proc.returncode, err)


def render_cli(lecture: str, quality: str, out: Path, jobs: int | None,
               narration_dir: Path | None = None) -> list[str]:
    cmd = [sys.executable, str(ROOT / "render.py"), "--lecture", lecture, "--quality", quality,
           "--out", str(out)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if narration_dir is not None:
        cmd += ["--narration-dir", str(narration_dir)]
    return cmd


def checked(s: Sampled, what: str) -> Sampled:
    if s.returncode != 0:
        raise SystemExit(f"{what} failed (exit {s.returncode}): {s.stderr.strip()[-500:]}")
    return s


# ------------------------------------------------------------------ baselines
def plain_manim(record: LectureRecord, quality: str, work: Path) -> tuple[float, list[Path]]:
    """``manim render`` of every segment's scene (its parameters, default timing), in turn."""
    from scenes.registry import SCENES, scene_file

    flag = MANIM_FLAGS[quality]
    files = []
    t0 = time.perf_counter()
    for seg in record.segments:
        media = work / f"media-{seg.index:02d}"
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "LECTURE_SCENE_JOB": json.dumps({"plan": None, "params": seg.params,
                                                "seed": record.seed})}
        subprocess.run(
            [sys.executable, "-m", "manim", "render", flag, str(scene_file(seg.scene)),
             SCENES[seg.scene].split(":")[1], "--media_dir", str(media), "-o", "scene",
             "--progress_bar", "none", "--verbosity", "WARNING"],
            cwd=work, env=env, check=True, capture_output=True,
        )
        files.append(next(media.rglob("scene.mp4")))
    return time.perf_counter() - t0, files


def moviepy_join(videos: list[Path], narration_wav: Path, dst: Path, fps: int) -> float:
    """moviepy ``concatenate_videoclips`` + ``write_videofile`` with the narration."""
    from moviepy import AudioFileClip, VideoFileClip, concatenate_videoclips

    t0 = time.perf_counter()
    clips = [VideoFileClip(str(p), audio=False) for p in videos]
    joined = concatenate_videoclips(clips)
    audio = AudioFileClip(str(narration_wav))
    joined = joined.with_audio(audio.subclipped(0, min(audio.duration, joined.duration)))
    joined.write_videofile(str(dst), fps=fps, codec="libx264", audio_codec="aac",
                           audio_fps=48000, audio_bitrate="384k", logger=None,
                           temp_audiofile=str(dst.with_suffix(".tmp-audio.m4a")))
    joined.close()
    audio.close()
    for c in clips:
        c.close()
    return time.perf_counter() - t0


def narration_wav(lecture_mp4: Path, dst: Path) -> Path:
    """The lecture's narration as a WAV, for the baselines (decoded by ffmpeg)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(lecture_mp4), "-map", "0:a:0",
                    "-c:a", "pcm_s16le", str(dst)], check=True)
    return dst


def loudness_check(mp4: Path) -> tuple[float, float]:
    from pipeline import media

    loud = media.measure_loudness(mp4)
    return loud.integrated_lufs, loud.true_peak_dbtp


# ------------------------------------------------------------------ the run
def _partial(result: dict) -> None:
    """Each figure is kept as soon as it is measured (a long run may be cut short)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"render-{result['lecture']}-{result['quality']}.partial.json"
    stem.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"[bench] {json.dumps(result)[-300:]}", file=sys.stderr, flush=True)


def _video_seconds(files: list[Path]) -> float:
    from pipeline import media

    return sum(float(media.probe(p)["format"]["duration"]) for p in files)


def bench(lecture: str, quality: str, jobs: int | None, baselines: bool) -> dict:
    spec = load_lecture(lecture)
    q = QUALITIES[quality]
    root = Path(tempfile.mkdtemp(prefix=f"bench-{quality}-"))
    out = root / "out"
    lecture_dir = out / spec.id
    result: dict = {"lecture": spec.id, "quality": quality, "cores": os.cpu_count(),
                    "jobs": jobs or "default"}
    try:
        cold = checked(run_sampled(render_cli(lecture, quality, out, jobs)), "cold render")
        record = read_record(lecture_dir / "manifest.json")
        duration = record.duration
        peaks = dict(cold.peak_mb)
        result.update({
            "segments": len(record.segments), "video_seconds": round(duration, 2),
            "voice": sorted({s.narration.source for s in record.segments}),
            "cold_seconds": round(cold.seconds, 1),
            "cold_over_video": round(cold.seconds / duration, 3),
            "cold_timings": {k: round(v, 2) for k, v in record.timings.items()},
        })
        _partial(result)

        warm = checked(run_sampled(render_cli(lecture, quality, out, jobs)), "warm re-run")
        warm_record = read_record(lecture_dir / "manifest.json")
        assembled = warm_record.created != record.created
        result.update({
            "warm_seconds": round(warm.seconds, 2),
            "warm_rendered": warm_record.rendered if assembled else [],
            "warm_assembled": assembled,
        })
        _partial(result)

        # One recorded take, longer than the narration it replaces (a slower reading).
        from audio.clips import write_wav
        from audio.speech import speak
        from audio.textnorm import shown
        from pipeline.paths import speech_cache

        seg = spec.segments[len(spec.segments) // 2]
        takes = root / "takes"
        takes.mkdir()
        slow = speak(shown(seg.narration), cache_dir=speech_cache(), voice="en-us",
                     wpm=max(80, spec.wpm - 40))
        write_wav(takes / f"{seg.id}.wav", slow.samples)
        changed = checked(run_sampled(render_cli(lecture, quality, out, jobs, takes)),
                          "one-clip-changed re-run")
        changed_record = read_record(lecture_dir / "manifest.json")
        for k, v in changed.peak_mb.items():
            peaks[k] = max(peaks.get(k, 0.0), v)
        result.update({
            "changed_segment": seg.id,
            "changed_seconds": round(changed.seconds, 1),
            "changed_rendered": changed_record.rendered,
            "changed_clips_made": changed_record.clips_made,
            "changed_timings": {k: round(v, 2) for k, v in changed_record.timings.items()},
        })
        # The target: 1.2 x (its cold render + the cold assembly). Its cold render is
        # measured: that segment alone (--only), with the same take, into an empty cache.
        checked(run_sampled(render_cli(lecture, quality, root / "only", jobs, takes)
                                   + ["--only", seg.id]), "that segment alone, cold")
        only_record = read_record(root / "only" / spec.id / "only" / "manifest.json")
        own = only_record.timings["render"]
        result["changed_segment_cold_render"] = round(own, 1)
        result["changed_target_seconds"] = round(1.2 * (own + record.timings["assemble"]), 1)
        _partial(result)

        # Assembly alone: renders cached; outputs and cached parts gone.
        lecture_dir.unlink()  # the published link, and every version it pointed at
        shutil.rmtree(store_of(out, spec.id))
        shutil.rmtree(out / ".cache" / "parts", ignore_errors=True)
        alone = checked(run_sampled(render_cli(lecture, quality, out, jobs, takes)),
                        "assembly alone")
        alone_record = read_record(lecture_dir / "manifest.json")
        assembly = alone_record.timings["assemble"]
        integrated, true_peak = loudness_check(lecture_dir / "lecture.mp4")
        result.update({
            "assembly_seconds": round(assembly, 2),
            "assembly_over_video": round(assembly / duration, 4),
            "assembly_process_seconds": round(alone.seconds, 2),
            "assembly_stages": {k.split(".", 1)[1]: v for k, v in alone_record.timings.items()
                                if k.startswith("assemble.")},
            "lufs": round(integrated, 2), "true_peak_dbtp": round(true_peak, 2),
            "peak_rss_mb": {k: round(v) for k, v in sorted(peaks.items())},
        })
        _partial(result)
        if baselines:
            wav = narration_wav(lecture_dir / "lecture.mp4", root / "narration.wav")
            renders = [Path(s.render) for s in alone_record.segments if s.render]
            t_join = moviepy_join(renders, wav, root / "moviepy-join.mp4", q.fps)
            result["moviepy_join_seconds"] = round(t_join, 1)
            result["moviepy_join_over_assembly"] = round(t_join / assembly, 1)
            _partial(result)
            work = root / "plain"
            work.mkdir()
            t_manim, files = plain_manim(record, quality, work)
            result["plain_manim_seconds"] = round(t_manim, 1)
            result["plain_video_seconds"] = round(_video_seconds(files), 1)
            _partial(result)
            t_concat = moviepy_join(files, wav, root / "plain.mp4", q.fps)
            result["plain_moviepy_seconds"] = round(t_concat, 1)
            result["ours_over_plain"] = round(cold.seconds / (t_manim + t_concat), 3)
            _partial(result)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def table(r: dict) -> str:
    rows = [
        ("machine cores", f"{r['cores']} (jobs: {r['jobs']})"),
        ("lecture", f"{r['lecture']} at {r['quality']}: {r['segments']} segments, "
                    f"{r['video_seconds']} s of video, narration {', '.join(r['voice'])}"),
        ("cold render ÷ video duration",
         f"{r['cold_over_video']} ({r['cold_seconds']} s; stages {r['cold_timings']})"),
    ]
    if "ours_over_plain" in r:
        rows.append(("ours ÷ plain manim + moviepy",
                     f"{r['ours_over_plain']} (plain: {r['plain_manim_seconds']} s manim + "
                     f"{r['plain_moviepy_seconds']} s moviepy, for "
                     f"{r['plain_video_seconds']} s of default-timed video)"))
    rows += [
        ("warm re-run, nothing changed (fresh process)",
         f"{r['warm_seconds']} s; rendered {r['warm_rendered'] or 'nothing'}, "
         f"assembled: {'yes' if r['warm_assembled'] else 'no'}"),
        (f"one clip changed ({r['changed_segment']}, longer take)",
         f"{r['changed_seconds']} s (target {r.get('changed_target_seconds', '?')} s = 1.2 × "
         f"({r.get('changed_segment_cold_render', '?')} s its cold render + cold "
         f"assembly)); re-rendered {r['changed_rendered']}; segment clips encoded "
         f"{r['changed_clips_made']}; stages {r['changed_timings']}"),
        ("assembly alone ÷ video duration",
         f"{r['assembly_over_video']} ({r['assembly_seconds']} s in-process, "
         f"{r['assembly_process_seconds']} s with start-up and planning; stages "
         f"{r['assembly_stages']})"),
    ]
    if "moviepy_join_over_assembly" in r:
        rows.append(("moviepy concatenate + write ÷ our assembly",
                     f"{r['moviepy_join_over_assembly']} ({r['moviepy_join_seconds']} s)"))
    rows += [
        ("loudness of lecture.mp4 (ffmpeg ebur128)",
         f"{r['lufs']} LUFS, true peak {r['true_peak_dbtp']} dBTP"),
        ("peak RSS per process kind (sampled)",
         ", ".join(f"{k} {v} MB" for k, v in r["peak_rss_mb"].items())),
    ]
    width = max(len(a) for a, _ in rows)
    lines = [f"| {'figure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {a:<{width}} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lecture", default="forward-diffusion",
                    help="lecture id in config/ (e.g. diffusion-overview)")
    ap.add_argument("--quality", default="preview", choices=list(QUALITIES),
                    help="preview (854x480@15) or 1080p (1080p60), ...")
    ap.add_argument("--jobs", type=int, default=None, help="--jobs for render.py")
    ap.add_argument("--no-baselines", action="store_true",
                    help="skip plain manim and the moviepy joins (they take long at 1080p)")
    args = ap.parse_args()
    result = bench(args.lecture, args.quality, args.jobs, not args.no_baselines)
    text = table(result)
    print(text, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"render-{result['lecture']}-{result['quality']}"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stem.with_suffix(".md").write_text(
        f"# Render benchmark, {stamp}\n\n{text}\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
