"""Stage 3: assembly, in stages along the records.

``layout`` → ``narration_track`` and :func:`pipeline.assembly.loudness.normalise`
(in-process, one gain and a true-peak limiter) → ``clips_and_lecture`` (the lecture in one
ffmpeg call; segment clips as cached parts) → ``texts`` (captions, chapters, description)
→ ``thumbnail`` (a cached part) → a :class:`pipeline.records.LectureRecord`. Every stage
writes into a staging folder, which :mod:`pipeline.publish` switches in as one set.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.pcm import is_dual_mono
from pipeline import media
from pipeline.assembly import captions, chapters, loudness, parts
from pipeline.assembly.lecture_record import lecture_record
from pipeline.options import RenderOptions
from pipeline.planning.manifest import LectureSpec
from pipeline.planning.plan import SegmentPlan
from pipeline.planning.timing import frame_to_sample, segment_starts
from pipeline.progress import Reporter
from pipeline.records import LectureRecord


class SegmentFailure(RuntimeError):
    """An assembly step failed for one segment: the message starts ``segment <id>: ``."""


@contextmanager
def for_segment(seg_id: str) -> Iterator[None]:
    """Name the segment in the message of a failure in its assembly step."""
    try:
        yield
    except SegmentFailure:
        raise
    except (ValueError, OSError, media.MediaError) as exc:
        raise SegmentFailure(f"segment {seg_id}: {exc}") from exc


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
            with for_segment(p.spec.id):
                parts.place(cached, seg_dir / f"{p.name}.mp4")
        else:
            todo.append((i, p, key))

    def clip(i: int, p: SegmentPlan, key: str) -> None:
        tmp = seg_dir / f".{p.name}.part.mp4"
        with for_segment(p.spec.id):
            media.mux_pcm([(videos[p.spec.id], p.timing.frames)], lay.fps,
                          segment_audio(track, lay, i, p), tmp)
            parts.place(parts.store(tmp, opts.cache_dir, key, ".mp4"),
                        seg_dir / f"{p.name}.mp4")

    lecture_parts = [(videos[p.spec.id], p.timing.frames) for p in plans]
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        jobs = [pool.submit(media.mux_pcm, lecture_parts, lay.fps, track,
                            stage_dir / "lecture.mp4")]
        jobs += [pool.submit(clip, i, p, key) for i, p, key in todo]
        for job in jobs:
            job.result()
    return ClipStage(keys, [p.spec.id for _, p, _ in todo])


def lecture_cues(plans: Sequence[SegmentPlan], lay: Layout) -> list[captions.Cue]:
    """Every segment's cues, merged into the lecture's; a failure names its segment.

    A segment whose caption hold was capped (``--caption-hold-max``) is laid out relaxed:
    its cues may go over 17 characters per second rather than fail the render.
    """
    fps = lay.fps
    per_segment = []
    for p, start in zip(plans, lay.starts):
        with for_segment(p.spec.id):
            per_segment.append(captions.build_cues(
                p.narration.sentences, offset=(start + p.timing.speech_frame) / fps, fps=fps,
                # a segment's cues may run to its own end (the lecture's end for the last)
                video_end=(start + p.timing.frames) / fps, relax=p.captions_relaxed,
            ))
    relax = any(p.captions_relaxed for p in plans)
    try:
        return captions.merge_cues(per_segment, fps=fps, video_end=lay.duration, relax=relax)
    except ValueError:
        pass
    for k in range(1, len(plans) + 1):  # the first segment whose join fails
        end = (lay.starts[k - 1] + plans[k - 1].timing.frames) / fps
        with for_segment(plans[k - 1].spec.id):
            captions.merge_cues(per_segment[:k], fps=fps, video_end=end, relax=relax)
    with for_segment(plans[-1].spec.id):  # not reached: the whole merge failed above
        return captions.merge_cues(per_segment, fps=fps, video_end=lay.duration, relax=relax)


def texts(spec: LectureSpec, plans: Sequence[SegmentPlan], lay: Layout,
          stage_dir: Path) -> tuple[int, list[chapters.Chapter]]:
    """Captions (SRT, VTT), YouTube chapters and the description; returns cue count."""
    fps = lay.fps
    cues = lecture_cues(plans, lay)
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


def description(spec: LectureSpec, chapter_text: str) -> str:
    parts_ = [spec.title, ""]
    if spec.summary:
        parts_ += [spec.summary.strip(), ""]
    parts_ += ["Chapters:", chapter_text.rstrip("\n"), ""]
    parts_ += ["Every number and image on screen is computed by the code that made this video.", ""]
    return "\n".join(parts_)


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
        from pipeline.assembly.thumbnail import make_thumbnail  # moviepy composes the frame

        tmp = stage_dir / ".thumbnail.part.png"
        with for_segment(tp.spec.id):
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

    return lecture_record(spec, plans, videos, q, lay.starts, loud, n_cues, chaps,
                          clips.keys, clips.made, stages)
