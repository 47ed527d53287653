"""What the page shows, made from a published preview's record (``manifest.json``).

Times are seconds into the lecture: a sentence at ``speech_start + sentence.start`` of its
segment, a beat at the segment's start plus the beats before it. Bookmarks
(``<mark name="..."/>`` in the TOML's narration) are placed in the sentence that holds
them, at the character where they were written, and carry their beat's time.

The waveform (peaks per 1/25 s) and each segment's loudness are read from the segment
clips and remembered by clip key, so a rebuild decodes only the segments that changed.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from audio.peaks import sample_peaks
from audio.textnorm import MARK
from pipeline import media
from pipeline.records import LectureRecord, SegmentRecord

PEAKS_PER_SECOND = 25


def segment_warnings(seg: SegmentRecord) -> list[str]:
    """What an author should look at in one segment, one short line each."""
    out = []
    take = seg.narration.take
    if take is not None:
        if take.clipped:
            out.append(f"clipped take ({take.clipped_share:.2%} of samples at full scale)")
        if take.approximate:
            out.append(f"off-script take: {take.words_found} of {take.words_expected} "
                       "words aligned")
        if take.noisy:
            out.append("noisy take")
    if seg.padding > 0:
        out.append(f"scene padded by {seg.padding:.2f} s")
    if seg.caption_hold > 0:
        why = f": {seg.caption_hold_reason}" if seg.caption_hold_reason else ""
        out.append(f"caption hold {seg.caption_hold:.2f} s{why}")
    if seg.captions_relaxed:
        out.append("captions over 17 characters per second")
    if seg.captions_draft:
        out.append("captions are a recogniser draft")
    return out


def _strip_marks(script: str) -> tuple[str, list[tuple[str, int]]]:
    """The script without bookmarks, whitespace collapsed, and each bookmark's name with
    its character position in that text."""
    text, marks, at = "", [], 0
    for m in MARK.finditer(script):
        text += script[at:m.start()]
        marks.append((m.group(1), len(" ".join(text.split()))
                      + (1 if text[-1:].isspace() and text.strip() else 0)))
        at = m.end()
    text += script[at:]
    return " ".join(text.split()), marks


def beat_starts(seg: SegmentRecord) -> dict[str, float]:
    out, t = {}, seg.start
    for name, seconds in seg.beats.items():
        out[name] = round(t, 4)
        t += seconds
    return out


def sentences(seg: SegmentRecord, script: str) -> list[dict[str, Any]]:
    """The segment's sentences with lecture times and the bookmarks inside each."""
    text, marks = _strip_marks(script)
    beats = beat_starts(seg)
    out: list[dict[str, Any]] = []
    cursor = 0
    spans = []
    for s in seg.narration.sentences:
        said = " ".join(s.text.split())
        i = text.find(said, cursor) if said else -1
        spans.append((i, i + len(said)) if i >= 0 else None)
        cursor = i + len(said) if i >= 0 else cursor
        out.append({"text": s.text, "start": round(seg.speech_start + s.start, 4),
                    "end": round(seg.speech_start + s.end, 4), "marks": []})
    for name, pos in marks:
        where = next((k for k, sp in enumerate(spans) if sp and sp[0] <= pos <= sp[1]), None)
        time = beats.get(name)
        if where is None and out:  # not found in the text (a transcript): by time
            t = time if time is not None else out[0]["start"]
            where = max((k for k, s in enumerate(out) if s["start"] <= t), default=0)
            offset = 0
        else:
            span = spans[where] if where is not None else None
            offset = pos - span[0] if span else 0
        if where is not None:
            out[where]["marks"].append({"name": name, "at": offset, "time": time})
    return out


def lecture_view(record: LectureRecord, scripts: dict[str, str], version: str,
                 states: dict[str, str]) -> dict[str, Any]:
    """The page's model of one published preview (without the waveform)."""
    segs = []
    for seg in record.segments:
        segs.append({
            "id": seg.id, "index": seg.index, "chapter": seg.chapter, "scene": seg.scene,
            "start": round(seg.start, 4), "duration": round(seg.duration, 4),
            "source": seg.narration.source, "detail": seg.narration.detail,
            "cache": states.get(seg.id, "cached"), "warnings": segment_warnings(seg),
            "clip_key": seg.clip_key, "file": seg.files.segment,
            "beats": [{"name": n, "start": t} for n, t in beat_starts(seg).items()],
            "sentences": sentences(seg, scripts.get(seg.id, "")),
        })
    loud = record.loudness
    return {
        "lecture": record.lecture, "title": record.title, "version": version,
        "quality": record.quality, "width": record.width, "height": record.height,
        "fps": record.fps, "duration": round(record.duration, 4),
        "video": f"/media/{version}/lecture.mp4", "captions": f"/media/{version}/captions.vtt",
        "lufs": _finite(loud.integrated_lufs) if loud else None,
        "created": record.created, "segments": segs,
    }


def _finite(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


class Waveforms:
    """Peaks and loudness per segment clip, remembered by clip key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[list[float], float | None]] = {}

    def segment(self, clip: Path, key: str, seconds: float) -> tuple[list[float], float | None]:
        with self._lock:
            hit = self._known.get(key)
        if hit is not None:
            return hit
        from pipeline.assembly.loudness import integrated_loudness

        samples, rate = media.read_wav(clip)
        n = max(1, round(seconds * PEAKS_PER_SECOND))
        peaks = sample_peaks(samples)
        edges = np.linspace(0, len(peaks), n + 1).astype(int)
        buckets = [float(peaks[a:b].max()) if b > a else 0.0
                   for a, b in zip(edges[:-1], edges[1:])]
        found = ([round(min(1.0, v), 3) for v in buckets],
                 _finite(integrated_loudness(samples, rate)))
        with self._lock:
            self._known[key] = found
        return found

    def lecture(self, folder: Path, record: LectureRecord) -> dict[str, Any]:
        """The whole lecture's peaks (segments end to end) and each segment's LUFS."""
        peaks: list[float] = []
        loudness = {}
        for seg in record.segments:
            p, lufs = self.segment(folder / seg.files.segment, seg.clip_key, seg.duration)
            peaks += p
            loudness[seg.id] = lufs
        keep = {seg.clip_key for seg in record.segments}
        with self._lock:  # clips no longer in the lecture are forgotten
            self._known = {k: v for k, v in self._known.items() if k in keep}
        return {"rate": PEAKS_PER_SECOND, "peaks": peaks, "loudness": loudness}
