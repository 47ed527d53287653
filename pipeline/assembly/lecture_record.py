"""The lecture's record (``manifest.json``): built from the plans and what assembly made,
and read back to learn what is already published."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from audio.narration import Narration
from pipeline.assembly.chapters import Chapter
from pipeline.assembly.loudness import NormalisedTrack
from pipeline.planning.manifest import LectureSpec, Quality
from pipeline.planning.plan import SegmentPlan
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
    TakeRow,
    read_record,
)
from pipeline.rendering.cache import versions


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
        transcript_source=t.transcript_source,
    )


def _draft(n: Narration) -> bool:
    return bool(n.take and n.take.transcript_source == "recogniser")


def _lufs(value: float) -> float | None:
    return round(value, 2) if np.isfinite(value) else None


def take_row(segment_id: str, n: Narration) -> TakeRow | None:
    """A segment's row of the takes table (``None`` when no recorded take narrates it)."""
    t = n.take
    if t is None:
        return None
    return TakeRow(
        segment=segment_id, file=str(n.path) if n.path else "", format=t.source_format,
        duration=round(n.duration, 3), speech_lufs=_lufs(t.level.loudness_lufs),
        levelled_lufs=_lufs(t.levelled_lufs), words_found=t.words_found,
        words_expected=t.words_expected, off_script=t.approximate,
        clipped=t.level.clipped, noisy=t.level.noisy,
        transcript_source=t.transcript_source, draft=t.draft,
    )


def take_rows(plans: Sequence[SegmentPlan]) -> list[TakeRow]:
    """The takes table: one row for each segment narrated by a recorded take."""
    rows = (take_row(p.spec.id, p.narration) for p in plans)
    return [r for r in rows if r is not None]


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
        captions_draft=_draft(n),
        beats=p.timing.beat_seconds(),
        padding=p.timing.padding_seconds,
        caption_hold=p.timing.caption_hold,
        caption_hold_reason=p.caption_reason(),
        captions_relaxed=p.captions_relaxed,
        cache_key=p.job.key,
        render=str(videos[p.spec.id]),
        files=SegmentFiles(segment=f"segments/{p.name}.mp4"),
        slide=p.spec.slide,
        clip_key=clip_keys[p.spec.id],
    )


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


def lecture_record(
    spec: LectureSpec, plans: Sequence[SegmentPlan], videos: dict[str, Path], q: Quality,
    starts: Sequence[int], loud: NormalisedTrack, n_cues: int, chaps: Sequence[Chapter],
    clip_keys: dict[str, str], clips_made: Sequence[str], stages: dict[str, float],
) -> LectureRecord:
    """The record of one assembly: what every segment is made of and where it sits."""
    frames = sum(p.timing.frames for p in plans)
    return LectureRecord(
        lecture=spec.id,
        title=spec.title,
        quality=q.name,
        width=q.width,
        height=q.height,
        fps=q.fps,
        frames=frames,
        duration=frames / q.fps,
        seed=spec.seed,
        versions=versions(),
        loudness=LoudnessRecord(
            integrated_lufs=round(loud.loudness.integrated_lufs, 3),
            true_peak_dbtp=round(loud.loudness.true_peak_dbtp, 3),
            gain_db=round(loud.loudness.gain_db, 3),
            limited_ms=round(loud.loudness.limited_ms, 1),
        ),
        captions=n_cues,
        chapters=[ChapterRecord(start=c.start, title=c.title) for c in chaps],
        segments=[segment_record(p, start, videos, clip_keys, q.fps)
                  for p, start in zip(plans, starts)],
        created=datetime.now(UTC).isoformat(timespec="milliseconds"),
        clips_made=list(clips_made),
        captions_approximate=[p.spec.id for p in plans if _approximate(p.narration)],
        captions_draft=[p.spec.id for p in plans if _draft(p.narration)],
        takes=take_rows(plans),
        timings=stages,
    )
