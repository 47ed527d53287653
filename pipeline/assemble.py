"""Turn a lecture spec into a finished lecture: plan → render → lay out sound → assemble.

Stages, each a typed value:

1. ``plan_lecture``: narration for every segment (clip, speech or silence), its timing
   on the frame grid, and the render cache key; scene beats and parameters come from
   the manim-free catalog (``scenes.catalog``). Then the assembly key
   (``pipeline.parts``): when ``manifest.json`` holds the same key and every output is
   still there, nothing else runs.
2. ``render_segments``: silent scene renders, one manim subprocess per segment, in
   parallel, reused from the cache when the key matches.
3. ``assemble``, in stages: ``layout`` → ``narration_track`` and
   ``pipeline.loudness.normalise`` (in-process, one gain and a true-peak limiter) →
   ``clips_and_lecture`` (the lecture in one ffmpeg call; segment clips as cached parts)
   → ``texts`` (captions, chapters, description) → ``thumbnail`` (a cached part) → a
   ``pipeline.records.LectureRecord``. Everything is written to a staging folder and
   published as one set (``pipeline.publish``).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from audio.narration import Narration, release_voices, resolve_narration
from audio.pcm import is_dual_mono
from audio.script import mark_time, parse_marks
from pipeline import captions, chapters, housekeeping, loudness, media, parts, preflight
from pipeline.cache import DEFAULT_MAX_BYTES, render_key, versions
from pipeline.manifest import (
    QUALITIES,
    InputError,
    LectureSpec,
    Quality,
    SegmentSpec,
    resolve_params,
)
from pipeline.publish import LectureWriter
from pipeline.records import (
    ChapterRecord,
    LectureRecord,
    LoudnessRecord,
    NarrationRecord,
    RecordError,
    SegmentFiles,
    SegmentRecord,
    SentenceRecord,
    TakeRecord,
    read_record,
)
from pipeline.render_queue import render_all
from pipeline.scene_render import RenderJob, cached
from pipeline.timing import SegmentTiming, frame_to_sample, plan_segment, segment_starts
from scenes.catalog import spec as scene_spec
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
    cache_root: Path | None = None  # the render cache; default <out_root>/.cache

    @property
    def cache_dir(self) -> Path:
        return self.cache_root if self.cache_root is not None else self.out_root / ".cache"


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
    record: LectureRecord | None = None  # what manifest.json holds
    assembled: bool = True  # False: the outputs were up to date, nothing was written


# ------------------------------------------------------------------ stage 1
@dataclass(frozen=True)
class CheckedScene:
    """A segment's scene after its parameters passed the catalog: beats and full params."""

    beats: tuple[Beat, ...]
    params: dict[str, Any]


def check_params(spec: LectureSpec, seg: SegmentSpec, source: str) -> CheckedScene:
    """Validate ``seg``'s parameters against the scene catalog (bad input: ``InputError``)."""
    index = next(i for i, s in enumerate(spec.segments) if s.id == seg.id)
    params = resolve_params(seg, index, source)
    return CheckedScene(tuple(scene_spec(seg.scene).beats), params)


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
        scene = check_params(spec, seg, source)  # bad input fails before any render
        reporter.segment(seg.id, "narration")
        narration = resolve_narration(
            segment_id=seg.id, script=seg.narration, clip=seg.clip,
            narration_dir=opts.narration_dir, strict=opts.strict,
            cache_dir=opts.speech_cache, voice=spec.voice, wpm=spec.wpm,
            allow_clipped=opts.allow_clipped, allow_unaligned=opts.allow_unaligned,
        )
        plans.append(plan_one(spec, index, seg, scene, narration, q, source))
    release_voices()  # the voice model's memory is not needed while rendering
    return plans


def plan_one(
    spec: LectureSpec, index: int, seg: SegmentSpec, scene: CheckedScene,
    narration: Narration, q: Quality, source: str,
) -> SegmentPlan:
    """One segment's timing on the frame grid and its render job, from its narration."""
    preflight.check_clip(seg.id, narration)
    marks = bookmark_times(seg, scene.beats, narration, source)
    try:
        timing = plan_segment(
            beats=scene.beats, narration_seconds=narration.duration,
            sentence_starts=[s.start for s in narration.sentences], cues=seg.cues,
            marks=marks, lead_in=spec.lead_in, tail=spec.tail, fps=q.fps,
        )
    except ValueError as exc:
        raise InputError(f"{source}: segments ({seg.id}): {exc}") from None
    plan = timing.beat_seconds()
    key = render_key(scene=seg.scene, params=scene.params, plan=plan, quality=q,
                     seed=spec.seed)
    # The beat starts are forced keyframes in every render of the job, whichever
    # executor runs it (and where a long one may be split).
    job = RenderJob(seg.id, seg.scene, dict(scene.params), plan, spec.seed, q, timing.frames,
                    key, tuple(timing.beat_frames))
    return SegmentPlan(index, seg, narration, timing, job)


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
    jobs = [g[0].job for g in by_key.values()]

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
# Assembly, in stages along the records: layout -> narration track (loudness) ->
# segment clips and the lecture file (encoded once each) -> captions, chapters,
# description -> thumbnail -> LectureRecord. Every stage writes into a staging folder.


@dataclass(frozen=True)
class Layout:
    """Where each segment sits in the lecture, on the frame grid."""

    fps: int
    starts: tuple[int, ...]  # first frame of each segment
    frames: int  # total

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def layout(plans: Sequence[SegmentPlan], fps: int) -> Layout:
    frames = [p.timing.frames for p in plans]
    return Layout(fps, tuple(segment_starts(frames)), sum(frames))


def narration_track(plans: Sequence[SegmentPlan], fps: int) -> np.ndarray:
    """One continuous 48 kHz track: each clip at its segment's frame-exact start.

    ``[n, 1]`` when every clip says the same on both channels (synthetic speech, mono
    takes: the usual case), which halves the assembly's largest arrays; ``[n, 2]`` as
    soon as one take is really stereo. Either way it is published as stereo.
    """
    starts = segment_starts([p.timing.frames for p in plans])
    total = frame_to_sample(sum(p.timing.frames for p in plans), fps)
    mono = all(is_dual_mono(p.narration.samples) for p in plans)
    track = np.zeros((total, 1 if mono else 2), dtype=np.float32)
    for p, start in zip(plans, starts):
        at = frame_to_sample(start + p.timing.speech_frame, fps)
        clip = p.narration.samples[:, :1] if mono else p.narration.samples
        end = min(total, at + len(clip))
        track[at:end] += clip[: end - at]
    return track


def segment_audio(track: np.ndarray, lay: Layout, i: int, plan: SegmentPlan) -> np.ndarray:
    """The slice of the lecture's track under segment ``i``."""
    a = frame_to_sample(lay.starts[i], lay.fps)
    return track[a: frame_to_sample(lay.starts[i] + plan.timing.frames, lay.fps)]


@dataclass
class ClipStage:
    keys: dict[str, str]  # segment id -> clip key
    made: list[str]  # segment ids whose clip was encoded by this run


def clips_and_lecture(
    plans: Sequence[SegmentPlan], videos: dict[str, Path], track: np.ndarray, lay: Layout,
    opts: RenderOptions, stage_dir: Path,
) -> ClipStage:
    """``lecture.mp4`` (one ffmpeg call) and every segment clip (cached parts).

    The lecture's encode and the encodes of changed segment clips run side by side.
    """
    seg_dir = stage_dir / "segments"
    seg_dir.mkdir(exist_ok=True)
    keys, todo = {}, []
    for i, p in enumerate(plans):
        key = parts.clip_key(p.job.key, segment_audio(track, lay, i, p))
        keys[p.spec.id] = key
        cached = parts.part_path(opts.cache_dir, key, ".mp4")
        if cached.exists():
            parts.place(cached, seg_dir / f"{p.name}.mp4")
        else:
            todo.append((i, p, key))

    def clip(i: int, p: SegmentPlan, key: str) -> None:
        tmp = seg_dir / f".{p.name}.part.mp4"
        media.mux_pcm([(videos[p.spec.id], p.timing.frames)], lay.fps,
                      segment_audio(track, lay, i, p), tmp)
        parts.place(parts.store(tmp, opts.cache_dir, key, ".mp4"), seg_dir / f"{p.name}.mp4")

    lecture_parts = [(videos[p.spec.id], p.timing.frames) for p in plans]
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        jobs = [pool.submit(media.mux_pcm, lecture_parts, lay.fps, track,
                            stage_dir / "lecture.mp4")]
        jobs += [pool.submit(clip, i, p, key) for i, p, key in todo]
        for job in jobs:
            job.result()
    return ClipStage(keys, [p.spec.id for _, p, _ in todo])


def texts(spec: LectureSpec, plans: Sequence[SegmentPlan], lay: Layout,
          stage_dir: Path) -> tuple[int, list[chapters.Chapter]]:
    """Captions (SRT, VTT), YouTube chapters and the description; returns cue count."""
    fps = lay.fps
    per_segment = [
        captions.build_cues(
            p.narration.sentences, offset=(start + p.timing.speech_frame) / fps, fps=fps,
            # a segment's cues may run to its own end (the lecture's end for the last)
            video_end=(start + p.timing.frames) / fps,
        )
        for p, start in zip(plans, lay.starts)
    ]
    cues = captions.merge_cues(per_segment, fps=fps, video_end=lay.duration)
    (stage_dir / "captions.srt").write_text(captions.to_srt(cues), encoding="utf-8")
    (stage_dir / "captions.vtt").write_text(captions.to_vtt(cues), encoding="utf-8")
    chaps = chapters.build_chapters(
        [(start / fps, p.timing.frames / fps, p.spec.chapter)
         for p, start in zip(plans, lay.starts)]
    )
    chapter_text = chapters.to_youtube(chaps, total=lay.duration)
    (stage_dir / "chapters.txt").write_text(chapter_text, encoding="utf-8")
    (stage_dir / "description.txt").write_text(description(spec, chapter_text), encoding="utf-8")
    return len(cues), chaps


def thumbnail(spec: LectureSpec, plans: Sequence[SegmentPlan], videos: dict[str, Path],
              opts: RenderOptions, stage_dir: Path) -> None:
    """The thumbnail: a frame of one segment's render with the title (a cached part)."""
    thumb_seg = spec.thumbnail.segment or spec.segments[len(spec.segments) // 2].id
    tp = next((p for p in plans if p.spec.id == thumb_seg), plans[len(plans) // 2])
    fps = opts.quality.fps
    at = round(spec.thumbnail.at * (tp.timing.frames - 1)) / fps
    key = parts.thumb_key(tp.job.key, at, spec.title)
    cached = parts.part_path(opts.cache_dir, key, ".png")
    if not cached.exists():
        from pipeline.thumbnail import make_thumbnail  # moviepy composes the frame

        tmp = stage_dir / ".thumbnail.part.png"
        make_thumbnail(videos[tp.spec.id], at, spec.title, tmp)
        cached = parts.store(tmp, opts.cache_dir, key, ".png")
    parts.place(cached, stage_dir / "thumbnail.png")


def assemble(
    spec: LectureSpec,
    plans: Sequence[SegmentPlan],
    videos: dict[str, Path],
    opts: RenderOptions,
    reporter: Reporter,
    stage_dir: Path,
    *,
    prefer_gain_db: float | None = None,
) -> LectureRecord:
    """Write every lecture output into ``stage_dir``; return the lecture's record.

    ``prefer_gain_db`` is the narration gain of the published outputs: kept while it still
    puts the lecture within ``loudness.STICKY_LU`` of the target, so that a changed take
    leaves every other segment's audio, and so its segment clip, as it was.
    """
    q = opts.quality
    lay = layout(plans, q.fps)

    stages: dict[str, float] = {}  # seconds per assembly stage, kept in the record
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    reporter.stage("narration track")
    loud = loudness.normalise(narration_track(plans, q.fps), prefer_gain_db=prefer_gain_db)
    lap("assemble.loudness")

    reporter.stage("lecture and segment clips")
    clips = clips_and_lecture(plans, videos, loud.samples, lay, opts, stage_dir)
    lap("assemble.mux")

    reporter.stage("captions and chapters")
    n_cues, chaps = texts(spec, plans, lay, stage_dir)
    lap("assemble.texts")

    reporter.stage("thumbnail")
    thumbnail(spec, plans, videos, opts, stage_dir)
    lap("assemble.thumbnail")

    return LectureRecord(
        lecture=spec.id,
        title=spec.title,
        quality=q.name,
        width=q.width,
        height=q.height,
        fps=q.fps,
        frames=lay.frames,
        duration=lay.duration,
        seed=spec.seed,
        versions=versions(),
        loudness=LoudnessRecord(
            integrated_lufs=round(loud.integrated_lufs, 3),
            true_peak_dbtp=round(loud.true_peak_dbtp, 3),
            gain_db=round(loud.gain_db, 3), limited_ms=round(loud.limited_ms, 1),
        ),
        captions=n_cues,
        chapters=[ChapterRecord(start=c.start, title=c.title) for c in chaps],
        segments=[segment_record(p, start, videos, clips.keys, q.fps)
                  for p, start in zip(plans, lay.starts)],
        created=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        clips_made=clips.made,
        captions_approximate=[p.spec.id for p in plans if _approximate(p.narration)],
        timings=stages,
    )


def _approximate(n: Narration) -> bool:
    return bool(n.take and n.take.approximate)


def take_record(n: Narration) -> TakeRecord | None:
    """A recorded take's level and alignment (``None`` for speech and silence)."""
    t = n.take
    if t is None:
        return None
    lv = t.level
    return TakeRecord(
        speech_lufs=lv.loudness_lufs if np.isfinite(lv.loudness_lufs) else None,
        gain_db=lv.gain_db, limited_db=lv.limited_db, true_peak_dbtp=lv.true_peak_dbtp,
        floor_dbfs=lv.floor_dbfs, clipped=lv.clipped, clipped_share=lv.clipped_share,
        noisy=lv.noisy, trimmed_start=t.trimmed_start, words_found=t.words_found,
        words_expected=t.words_expected, approximate=t.approximate, transcript=t.transcript,
    )


def segment_record(p: SegmentPlan, start: int, videos: dict[str, Path],
                   clip_keys: dict[str, str], fps: int) -> SegmentRecord:
    n = p.narration
    return SegmentRecord(
        index=p.index,
        id=p.spec.id,
        chapter=p.spec.chapter,
        scene=p.spec.scene,
        params=dict(p.job.params),
        start=start / fps,
        start_frame=start,
        duration=p.timing.frames / fps,
        frames=p.timing.frames,
        speech_start=(start + p.timing.speech_frame) / fps,
        narration=NarrationRecord(
            source=n.source, detail=n.detail, duration=n.duration,
            path=str(n.path) if n.path else None, cache_key=n.cache_key,
            sentences=[SentenceRecord(text=s.text, start=s.start, end=s.end)
                       for s in n.sentences],
            take=take_record(n),
        ),
        captions_approximate=_approximate(n),
        beats=p.timing.beat_seconds(),
        padding=p.timing.padding_seconds,
        cache_key=p.job.key,
        render=str(videos[p.spec.id]),
        files=SegmentFiles(segment=f"segments/{p.name}.mp4"),
        slide=p.spec.slide,
        clip_key=clip_keys[p.spec.id],
    )


def description(spec: LectureSpec, chapter_text: str) -> str:
    parts_ = [spec.title, ""]
    if spec.summary:
        parts_ += [spec.summary.strip(), ""]
    parts_ += ["Chapters:", chapter_text.rstrip("\n"), ""]
    parts_ += ["Every number and image on screen is computed by the code that made this video.", ""]
    return "\n".join(parts_)


def published_gain(out_dir: Path) -> float | None:
    """The narration gain of the outputs published in ``out_dir`` (None if there are none)."""
    try:
        loud = read_record(out_dir / "manifest.json").loudness
    except RecordError:
        return None
    return loud.gain_db if loud is not None else None


def up_to_date(out_dir: Path, key: str) -> LectureRecord | None:
    """The record of the outputs in ``out_dir`` when they were made with ``key`` and are
    all still there; else None."""
    try:
        record = read_record(out_dir / "manifest.json")
    except RecordError:
        return None
    if record.assembly_key != key:
        return None
    if not all((out_dir / f).is_file() for f in record.files()):
        return None
    return record


class Renderer(Protocol):
    """Stages 1 and 2 run elsewhere, e.g. on a Dask cluster (``pipeline.executors``)."""

    def plan(self, spec: LectureSpec, opts: RenderOptions, source: str,
             reporter: Reporter) -> list[SegmentPlan]: ...

    def render(self, plans: Sequence[SegmentPlan], opts: RenderOptions,
               reporter: Reporter) -> tuple[dict[str, Path], list[str], list[str]]: ...


def select_segments(spec: LectureSpec, only: Sequence[str], source: str) -> LectureSpec:
    """The lecture cut down to the ``--only`` segments (all when ``only`` is empty)."""
    if not only:
        return spec
    unknown = [s for s in only if s not in {seg.id for seg in spec.segments}]
    if unknown:
        raise InputError(f"--only: unknown segment id(s) {unknown} in {source}")
    return spec.model_copy(update={"segments": [s for s in spec.segments if s.id in only]})


def build_lecture(
    spec: LectureSpec, opts: RenderOptions, *, source: str = "config",
    reporter: Reporter | None = None, renderer: Renderer | None = None,
) -> LectureResult:
    """The whole job: plan, render what changed, assemble, publish (one writer at a time,
    the new set switched in at once: see ``pipeline.publish``).

    When the assembly key of the plan matches the one stored with the outputs (and they
    are all there), nothing is rendered or written. ``renderer`` runs stages 1 and 2
    (planning and rendering) elsewhere, e.g. on a Dask cluster; by default they run here,
    renders in a local thread pool.
    """
    reporter = reporter or SilentReporter()
    media.require_tools()
    preflight.check_clip_names(opts.narration_dir, [s.id for s in spec.segments], source,
                               strict=opts.strict)
    spec = select_segments(spec, opts.only, source)
    if opts.strict:
        preflight.require_clips(spec, opts.narration_dir, source)
    # Planning reads inputs only (and fills the speech cache): bad input fails here,
    # before the lecture's lock, so it never waits for another run.
    t0 = time.perf_counter()
    reporter.stage("planning")
    if renderer is None:
        plans = plan_lecture(spec, opts, source=source, reporter=reporter)
    else:
        plans = renderer.plan(spec, opts, source, reporter)
    key = parts.assembly_key(spec, plans, opts.quality)
    out_dir = opts.out_root / spec.id
    if opts.only:
        out_dir = out_dir / "only"
    t1 = time.perf_counter()

    with LectureWriter(opts.out_root, spec.id, wait=opts.wait, on_wait=_waiting(opts),
                       on_stage=reporter.stage) as writer, \
            housekeeping.using_cache(opts.cache_dir):
        # Checked under the lock: a run in progress may be about to publish another set.
        current = up_to_date(out_dir, key)
        if current is not None:
            for p in plans:
                reporter.segment(p.spec.id, "cached", p.timing.frames)
            return _result(out_dir, plans, current, rendered=[],
                           cached=[p.spec.id for p in plans], assembled=False,
                           timings={"plan": t1 - t0})
        reporter.stage("rendering")
        if renderer is None:
            videos, rendered, hits = render_segments(plans, opts, reporter)
        else:
            videos, rendered, hits = renderer.render(plans, opts, reporter)
        t2 = time.perf_counter()
        reporter.stage("assembling")
        stage_dir = writer.derive() if opts.only else writer.stage()
        if opts.only:
            shutil.rmtree(stage_dir / "only", ignore_errors=True)
            (stage_dir / "only").mkdir()
        target = stage_dir / "only" if opts.only else stage_dir
        record = assemble(spec, plans, videos, opts, reporter, target,
                          prefer_gain_db=published_gain(out_dir))
        t3 = time.perf_counter()
        record = record.model_copy(update={
            "assembly_key": key,
            "timings": {"plan": t1 - t0, "render": t2 - t1, "assemble": t3 - t2,
                        **record.timings},
            "rendered": rendered,
            "cached": hits,
        })
        record.write(target / "manifest.json")
        writer.commit(stage_dir, carry_slides=not opts.only)
    housekeeping.auto_prune(opts.cache_dir, opts.cache_max_bytes)
    return _result(out_dir, plans, record, rendered=rendered, cached=hits, assembled=True,
                   timings=record.timings)


def _waiting(opts: RenderOptions) -> Callable[[str], None]:
    def say(holder: str) -> None:
        log.warning("%s: another render (pid %s) is writing this lecture; waiting for it "
                    "(--no-wait to stop instead)", opts.out_root, holder)
    return say


def _result(out_dir: Path, plans: list[SegmentPlan], record: LectureRecord, *,
            rendered: list[str], cached: list[str], assembled: bool,
            timings: dict[str, float]) -> LectureResult:
    loud = record.loudness
    return LectureResult(
        out_dir=out_dir, plans=plans, rendered=rendered, cached=cached, record=record,
        assembled=assembled, duration=record.duration, timings=dict(timings),
        loudness=media.Loudness(loud.integrated_lufs, loud.true_peak_dbtp, 0.0) if loud else None,
    )


def quality(name: str) -> Quality:
    if name not in QUALITIES:
        raise InputError(f"--quality: {name!r} is not one of {', '.join(QUALITIES)}")
    return QUALITIES[name]
