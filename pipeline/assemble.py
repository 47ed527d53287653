"""Turn a lecture spec into a finished lecture: plan → render → lay out sound → assemble.

Stages, each a typed value:

1. ``plan_lecture``: narration for every segment (clip, speech or silence), its timing
   on the frame grid, and the render cache key. Pure apart from reading narration.
2. ``render_segments``: silent scene renders, one manim subprocess per segment, in
   parallel, reused from the cache when the key matches.
3. ``assemble``: one continuous PCM narration track, loudness-normalised in two passes
   and encoded once; segment videos joined without re-encoding; captions, chapters,
   description, thumbnail, per-segment clips and ``manifest.json``. Everything is
   written to a staging folder and published as one set (``pipeline.publish``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from audio.clips import write_wav
from audio.narration import Narration, resolve_narration
from audio.script import mark_time, parse_marks
from pipeline import captions, chapters, housekeeping, media, preflight
from pipeline.cache import DEFAULT_MAX_BYTES, render_key, versions
from pipeline.manifest import QUALITIES, InputError, LectureSpec, Quality, SegmentSpec
from pipeline.publish import LectureWriter
from pipeline.render_queue import render_all
from pipeline.scene_render import RenderJob, SceneInputError, cached
from pipeline.timing import SegmentTiming, frame_to_sample, plan_segment, segment_starts
from scenes.registry import load_scene_class
from scenes.timing import Beat

log = logging.getLogger("pipeline")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = preflight.DEFAULT_OUT
SPEECH_CACHE = ROOT / "audio" / "cache"


class Reporter(Protocol):
    """Progress sink; the CLI's rich display implements it."""

    def stage(self, name: str) -> None: ...
    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        """``frames``: the segment's total when "queued", "cached" or "done"; frames
        written so far while "rendering"."""


class SilentReporter:
    def stage(self, name: str) -> None:
        pass

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        pass


@dataclass(frozen=True)
class RenderOptions:
    quality: Quality
    out_root: Path = DEFAULT_OUT
    narration_dir: Path | None = None
    jobs: int = max(1, os.cpu_count() or 1)
    strict: bool = False
    allow_clipped: bool = False  # under strict: a clipped take is only a warning
    allow_unaligned: bool = False  # under strict: an off-script take is only a warning
    only: tuple[str, ...] = ()
    speech_cache: Path = SPEECH_CACHE
    wait: bool = True  # another run holds the lecture: wait (else LockBusy)
    cache_max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def cache_dir(self) -> Path:
        return self.out_root / ".cache"


@dataclass(frozen=True)
class SegmentPlan:
    index: int
    spec: SegmentSpec
    narration: Narration
    timing: SegmentTiming
    job: RenderJob

    @property
    def name(self) -> str:
        return f"{self.index:02d}_{self.spec.id}"


@dataclass
class LectureResult:
    out_dir: Path
    plans: list[SegmentPlan]
    rendered: list[str] = field(default_factory=list)  # segment ids rendered this run
    cached: list[str] = field(default_factory=list)  # segment ids taken from the cache
    loudness: media.Loudness | None = None
    duration: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ stage 1
def _check_params(spec: LectureSpec, seg: SegmentSpec, path_hint: str) -> type:
    cls = load_scene_class(seg.scene)
    allowed = getattr(cls, "PARAMS", {})
    for key, value in seg.params.items():
        if key not in allowed:
            raise InputError(
                f"{path_hint}: segments ({seg.id}).params.{key}: unknown parameter for "
                f"{seg.scene}; allowed: {', '.join(sorted(allowed)) or 'none'}"
            )
        default = allowed[key]
        if default is not None and not _same_kind(default, value):
            raise InputError(
                f"{path_hint}: segments ({seg.id}).params.{key}: expected "
                f"{type(default).__name__}, got {type(value).__name__}"
            )
    return cls


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def bookmark_times(
    seg: SegmentSpec, beats: Sequence[Beat], narration: Narration, source: str
) -> dict[int, float]:
    """Beat index -> seconds into the narration, from the script's ``<mark name=.../>``.

    Bad markers are bad input naming the segment and the marker: a name that is not a
    beat of the scene, markers out of the scene's beat order, a repeated marker, a
    marker on the first beat after the first word, markers together with ``cues``.
    """
    markers = parse_marks(seg.narration)
    if not markers:
        return {}
    where = f"{source}: segments ({seg.id})"
    names = [b.name for b in beats]
    if seg.cues is not None:
        raise InputError(f"{where}: marker {markers[0].name!r}: use markers or cues, not both")
    out: dict[int, float] = {}
    last = 0
    for m in markers:
        if m.name not in names:
            raise InputError(
                f"{where}: marker {m.name!r} is not a beat of {seg.scene} "
                f"(beats: {', '.join(names)})"
            )
        b = names.index(m.name)
        if b in out or (b == 0 and m.word > 0):
            why = "is repeated" if b in out else "marks the first beat, which starts the segment"
            raise InputError(f"{where}: marker {m.name!r} {why}")
        if b < last:
            raise InputError(
                f"{where}: marker {m.name!r} is out of order: beat {m.name!r} plays before "
                f"{names[last]!r} in {seg.scene}"
            )
        last = b
        if b > 0:
            out[b] = mark_time(m, seg.narration, narration.words, narration.sentences)[0]
    return out


def plan_lecture(
    spec: LectureSpec,
    opts: RenderOptions,
    *,
    source: str = "config",
    reporter: Reporter | None = None,
) -> list[SegmentPlan]:
    reporter = reporter or SilentReporter()
    q = opts.quality
    plans = []
    for index, seg in enumerate(spec.segments, start=1):
        cls = _check_params(spec, seg, source)
        reporter.segment(seg.id, "narration")
        narration = resolve_narration(
            segment_id=seg.id, script=seg.narration, clip=seg.clip,
            narration_dir=opts.narration_dir, strict=opts.strict,
            cache_dir=opts.speech_cache, voice=spec.voice, wpm=spec.wpm,
            allow_clipped=opts.allow_clipped, allow_unaligned=opts.allow_unaligned,
        )
        preflight.check_clip(seg.id, narration)
        marks = bookmark_times(seg, cls.BEATS, narration, source)
        try:
            timing = plan_segment(
                beats=cls.BEATS, narration_seconds=narration.duration,
                sentence_starts=[s.start for s in narration.sentences], cues=seg.cues,
                marks=marks, lead_in=spec.lead_in, tail=spec.tail, fps=q.fps,
            )
        except ValueError as exc:
            raise InputError(f"{source}: segments ({seg.id}): {exc}") from None
        plan = timing.beat_seconds()
        key = render_key(scene=seg.scene, params=seg.params, plan=plan, quality=q,
                         seed=spec.seed)
        job = RenderJob(seg.id, seg.scene, dict(seg.params), plan, spec.seed, q, timing.frames, key)
        plans.append(SegmentPlan(index, seg, narration, timing, job))
    return plans


# ------------------------------------------------------------------ stage 2
def render_segments(
    plans: Sequence[SegmentPlan], opts: RenderOptions, reporter: Reporter
) -> tuple[dict[str, Path], list[str], list[str]]:
    """Render what is not cached, ``opts.jobs`` at a time. Returns paths, rendered, cached.

    Segments with the same key (same scene, parameters and plan) share one render;
    ``pipeline.render_queue`` orders the renders costliest first and splits a long one
    into beat ranges that render in parallel.
    """
    videos: dict[str, Path] = {}
    by_key: dict[str, list[SegmentPlan]] = {}
    hits = []
    for p in plans:
        path = cached(p.job, opts.cache_dir)
        if path is not None:
            videos[p.spec.id] = path
            hits.append(p.spec.id)
            reporter.segment(p.spec.id, "cached", p.timing.frames)
        else:
            by_key.setdefault(p.job.key, []).append(p)
            reporter.segment(p.spec.id, "queued", p.timing.frames)
    jobs = [replace(g[0].job, beat_frames=tuple(g[0].timing.beat_frames))
            for g in by_key.values()]

    def progress(job: RenderJob, state: str, frames: int) -> None:
        for p in by_key[job.key]:
            reporter.segment(p.spec.id, state, frames)

    done = render_all(jobs, opts.cache_dir, opts.jobs, progress)
    for key, group in by_key.items():
        for p in group:
            videos[p.spec.id] = done[key]
    rendered = {p.spec.id for g in by_key.values() for p in g}
    return videos, [p.spec.id for p in plans if p.spec.id in rendered], hits


# ------------------------------------------------------------------ stage 3
def narration_track(plans: Sequence[SegmentPlan], fps: int) -> np.ndarray:
    """One continuous 48 kHz stereo track: each clip at its segment's frame-exact start."""
    starts = segment_starts([p.timing.frames for p in plans])
    total = frame_to_sample(sum(p.timing.frames for p in plans), fps)
    track = np.zeros((total, 2), dtype=np.float32)
    for p, start in zip(plans, starts):
        at = frame_to_sample(start + p.timing.speech_frame, fps)
        clip = p.narration.samples
        end = min(total, at + len(clip))
        track[at:end] += clip[: end - at]
    return track


def assemble(
    spec: LectureSpec,
    plans: Sequence[SegmentPlan],
    videos: dict[str, Path],
    opts: RenderOptions,
    reporter: Reporter,
    stage_dir: Path,
) -> dict[str, Any]:
    """Write every lecture output into ``stage_dir``; return the manifest dict."""
    q = opts.quality
    fps = q.fps
    starts = segment_starts([p.timing.frames for p in plans])
    total_frames = sum(p.timing.frames for p in plans)
    duration = total_frames / fps

    reporter.stage("narration track")
    raw_wav = stage_dir / "narration-raw.wav"
    write_wav(raw_wav, narration_track(plans, fps))
    wav = stage_dir / "narration.wav"
    media.normalise_loudness(raw_wav, wav)
    raw_wav.unlink()

    reporter.stage("joining video, segment clips")
    video_only = stage_dir / "video-only.mp4"
    media.concat_copy([(videos[p.spec.id], p.timing.frames) for p in plans], fps, video_only)
    lecture = stage_dir / "lecture.mp4"
    seg_dir = stage_dir / "segments"
    seg_dir.mkdir()
    # AAC encoding dominates assembly: the lecture and each segment clip in parallel.
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        jobs = [pool.submit(media.mux, video_only, wav, lecture)]
        jobs += [
            pool.submit(media.mux, videos[p.spec.id], wav, seg_dir / f"{p.name}.mp4",
                        start=start / fps, duration=p.timing.frames / fps)
            for p, start in zip(plans, starts)
        ]
        for job in jobs:
            job.result()
    loud = media.measure_loudness(lecture)

    reporter.stage("captions and chapters")
    per_segment = [
        captions.build_cues(
            p.narration.sentences, offset=(start + p.timing.speech_frame) / fps, fps=fps,
            # a segment's cues may run to its own end (the lecture's end for the last)
            video_end=(start + p.timing.frames) / fps,
        )
        for p, start in zip(plans, starts)
    ]
    cues = captions.merge_cues(per_segment, fps=fps, video_end=duration)
    (stage_dir / "captions.srt").write_text(captions.to_srt(cues), encoding="utf-8")
    (stage_dir / "captions.vtt").write_text(captions.to_vtt(cues), encoding="utf-8")
    chaps = chapters.build_chapters(
        [(start / fps, p.timing.frames / fps, p.spec.chapter) for p, start in zip(plans, starts)]
    )
    chapter_text = chapters.to_youtube(chaps, total=duration)
    (stage_dir / "chapters.txt").write_text(chapter_text, encoding="utf-8")
    (stage_dir / "description.txt").write_text(description(spec, chapter_text), encoding="utf-8")

    reporter.stage("thumbnail")
    from pipeline.thumbnail import make_thumbnail  # moviepy import is slow: only when needed

    thumb_seg = spec.thumbnail.segment or spec.segments[len(spec.segments) // 2].id
    # the manifest's thumbnail segment, or the middle one when --only left it out
    tp = next((p for p in plans if p.spec.id == thumb_seg), plans[len(plans) // 2])
    t_thumb = (starts[plans.index(tp)] + spec.thumbnail.at * (tp.timing.frames - 1)) / fps
    make_thumbnail(video_only, t_thumb, spec.title, stage_dir / "thumbnail.png")
    video_only.unlink()
    wav.unlink()

    return {
        "lecture": spec.id,
        "title": spec.title,
        "quality": q.name,
        "width": q.width,
        "height": q.height,
        "fps": fps,
        "frames": total_frames,
        "duration": duration,
        "seed": spec.seed,
        "versions": versions(),
        "loudness": {"integrated_lufs": loud.integrated, "true_peak_dbtp": loud.true_peak,
                     "lra_lu": loud.lra},
        "captions": len(cues),
        "captions_approximate": [
            p.spec.id for p in plans if p.narration.take and p.narration.take.approximate
        ],
        "chapters": [{"start": c.start, "title": c.title} for c in chaps],
        "segments": [
            {
                "index": p.index,
                "id": p.spec.id,
                "chapter": p.spec.chapter,
                "scene": p.spec.scene,
                "params": p.spec.params,
                "start": start / fps,
                "start_frame": start,
                "duration": p.timing.frames / fps,
                "frames": p.timing.frames,
                "speech_start": (start + p.timing.speech_frame) / fps,
                "narration": {
                    "source": p.narration.source,
                    "detail": p.narration.detail,
                    "duration": p.narration.duration,
                    "path": str(p.narration.path) if p.narration.path else None,
                    "cache_key": p.narration.cache_key,
                    "sentences": [
                        {"text": s.text, "start": s.start, "end": s.end}
                        for s in p.narration.sentences
                    ],
                    "take": take_record(p.narration),
                },
                "captions_approximate": bool(p.narration.take and p.narration.take.approximate),
                "beats": p.timing.beat_seconds(),
                "padding": p.timing.padding_seconds,
                "cache_key": p.job.key,
                "render": str(videos[p.spec.id]),
                "files": {"segment": f"segments/{p.name}.mp4"},
                "slide": p.spec.slide.model_dump(),
            }
            for p, start in zip(plans, starts)
        ],
    }


def take_record(n: Narration) -> dict[str, Any] | None:
    """A recorded take's level and alignment, for ``manifest.json`` (``None`` otherwise)."""
    t = n.take
    if t is None:
        return None
    lv = t.level
    return {
        "speech_lufs": lv.loudness_lufs if np.isfinite(lv.loudness_lufs) else None,
        "gain_db": lv.gain_db, "limited_db": lv.limited_db,
        "true_peak_dbtp": lv.true_peak_dbtp, "floor_dbfs": lv.floor_dbfs,
        "clipped": lv.clipped, "clipped_share": lv.clipped_share, "noisy": lv.noisy,
        "trimmed_start": t.trimmed_start, "words_found": t.words_found,
        "words_expected": t.words_expected, "approximate": t.approximate,
        "transcript": t.transcript,
    }


def description(spec: LectureSpec, chapter_text: str) -> str:
    parts = [spec.title, ""]
    if spec.summary:
        parts += [spec.summary.strip(), ""]
    parts += ["Chapters:", chapter_text.rstrip("\n"), ""]
    parts += ["Every number and image on screen is computed by the code that made this video.", ""]
    return "\n".join(parts)


def build_lecture(
    spec: LectureSpec, opts: RenderOptions, *, source: str = "config",
    reporter: Reporter | None = None,
) -> LectureResult:
    """The whole job: plan, render what changed, assemble, publish (one writer at a time,
    the new set switched in at once: see ``pipeline.publish``)."""
    reporter = reporter or SilentReporter()
    media.require_tools()
    preflight.check_clip_names(opts.narration_dir, [s.id for s in spec.segments], source,
                               strict=opts.strict)
    if opts.only:
        unknown = [s for s in opts.only if s not in {seg.id for seg in spec.segments}]
        if unknown:
            raise InputError(f"--only: unknown segment id(s) {unknown} in {source}")
        spec = spec.model_copy(update={"segments": [s for s in spec.segments if s.id in opts.only]})
    # Planning reads inputs only (and fills the speech cache): bad input fails here,
    # before the lecture's lock, so it never waits for another run.
    t0 = time.perf_counter()
    reporter.stage("planning")
    plans = plan_lecture(spec, opts, source=source, reporter=reporter)
    t1 = time.perf_counter()
    with LectureWriter(opts.out_root, spec.id, wait=opts.wait, on_wait=_waiting(opts),
                       on_stage=reporter.stage) as writer, \
            housekeeping.using_cache(opts.cache_dir):
        reporter.stage("rendering")
        try:
            videos, rendered, hits = render_segments(plans, opts, reporter)
        except SceneInputError as exc:
            raise InputError(f"{source}: {exc}") from None
        t2 = time.perf_counter()
        reporter.stage("assembling")
        stage_dir = writer.derive() if opts.only else writer.stage()
        if opts.only:
            shutil.rmtree(stage_dir / "only", ignore_errors=True)
            (stage_dir / "only").mkdir()
        target = stage_dir / "only" if opts.only else stage_dir
        manifest = assemble(spec, plans, videos, opts, reporter, target)
        t3 = time.perf_counter()
        manifest["timings"] = {"plan": t1 - t0, "render": t2 - t1, "assemble": t3 - t2}
        manifest["rendered"] = rendered
        manifest["cached"] = hits
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        writer.commit(stage_dir, carry_slides=not opts.only)
    housekeeping.auto_prune(opts.cache_dir, opts.cache_max_bytes)
    out_dir = opts.out_root / spec.id
    result = LectureResult(out_dir=out_dir / "only" if opts.only else out_dir, plans=plans,
                           rendered=rendered, cached=hits)
    result.duration = manifest["duration"]
    result.timings = manifest["timings"]
    result.loudness = media.Loudness(
        manifest["loudness"]["integrated_lufs"], manifest["loudness"]["true_peak_dbtp"],
        manifest["loudness"]["lra_lu"],
    )
    return result


def _waiting(opts: RenderOptions) -> Callable[[str], None]:
    def say(holder: str) -> None:
        log.warning("%s: another render (pid %s) is writing this lecture; waiting for it "
                    "(--no-wait to stop instead)", opts.out_root, holder)
    return say


def quality(name: str) -> Quality:
    if name not in QUALITIES:
        raise InputError(f"--quality: {name!r} is not one of {', '.join(QUALITIES)}")
    return QUALITIES[name]
