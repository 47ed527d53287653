"""Timing arithmetic: where each segment, beat and narration clip sits (pure, no I/O).

Everything lands on the video's whole-frame grid. A segment is its narration plus a
lead-in and a tail, rounded to frames; beats start where the narration's sentences (or
the manifest's cue times) start; when the scene needs longer than that, the segment is
padded with silence at its end, and when its captions need longer to be read, it is held
longer still (:func:`hold_for_captions`). Narration is never cut or sped up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from audio.pcm import SAMPLE_RATE
from scenes.timing import Beat


def to_frames(seconds: float, fps: float) -> int:
    """Nearest whole frame (``round`` with a guard against 0.49999 float noise)."""
    return math.floor(seconds * fps + 0.5 + 1e-9)


@dataclass(frozen=True)
class SegmentTiming:
    """Where things sit inside one segment, in frames of ``fps``."""

    fps: int
    frames: int  # length of the segment's video
    speech_frame: int  # frame at which the narration starts (the lead-in)
    beat_frames: tuple[int, ...]  # start frame of each beat; beat_frames[0] == 0
    beat_names: tuple[str, ...]
    narration_seconds: float
    padding_seconds: float  # silence added after the tail because the scene needed longer
    caption_hold: float = 0.0  # seconds added after that so the captions can be read
    caption_need: float = 0.0  # seconds the captions asked for (more than the hold if capped)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def speech_offset(self) -> float:
        return self.speech_frame / self.fps

    def beat_seconds(self) -> dict[str, float]:
        """The timing plan handed to the scene: seconds per beat, on the frame grid."""
        bounds = (*self.beat_frames, self.frames)
        return {
            name: (bounds[i + 1] - bounds[i]) / self.fps for i, name in enumerate(self.beat_names)
        }


def beat_anchors(
    n_beats: int, sentence_starts: Sequence[float], narration_seconds: float
) -> list[float]:
    """Seconds into the narration at which beats 1..n-1 start, from sentence starts.

    With at least as many sentences as beats, each beat starts on a sentence
    boundary spread evenly over the sentences. With fewer sentences, the extra beats
    fall proportionally inside the sentences (interpolating on the sentence timeline).
    """
    k = len(sentence_starts)
    if n_beats <= 1:
        return []
    if k == 0:
        return [narration_seconds * i / n_beats for i in range(1, n_beats)]
    knots = [*sentence_starts, narration_seconds]
    anchors = []
    for i in range(1, n_beats):
        u = i * k / n_beats
        if k >= n_beats:
            anchors.append(knots[round(u)])
        else:
            j = int(math.floor(u))
            frac = u - j
            anchors.append(knots[j] + frac * (knots[j + 1] - knots[j]))
    return anchors


def apply_marks(
    anchors: Sequence[float], marks: Mapping[int, float], narration_seconds: float
) -> list[float]:
    """Beat anchors (beats 1..n-1) with bookmarked beats moved to their words.

    ``marks`` maps beat index (1..n-1) to seconds; marked times must increase with the
    beat index. An unmarked beat keeps its time when it falls between its marked
    neighbours, else it is spread evenly between them.
    """
    n = len(anchors) + 1
    for b in marks:
        if not 1 <= b < n:
            raise ValueError(f"marks: beat index {b} outside 1..{n - 1}")
    marked = sorted(marks.items())
    for (b0, t0), (b1, t1) in zip(marked, marked[1:]):
        if t1 < t0:
            raise ValueError(f"marks: beat {b1} is marked before beat {b0}")
    out = list(anchors)
    for b, t in marks.items():
        out[b - 1] = t
    # fences: (beat index, time), with beat 0 at 0 and an end fence after the last beat
    fences = [(0, 0.0), *marked, (n, narration_seconds)]
    for (b0, t0), (b1, t1) in zip(fences, fences[1:]):
        inner = range(b0 + 1, b1)
        if not inner:
            continue
        times = [out[b - 1] for b in inner]
        ok = all(t0 <= t <= t1 for t in times) and times == sorted(times)
        if not ok:
            for k, b in enumerate(inner, start=1):
                out[b - 1] = t0 + (t1 - t0) * k / (len(inner) + 1)
    return out


def plan_segment(
    *,
    beats: Sequence[Beat],
    narration_seconds: float,
    sentence_starts: Sequence[float] = (),
    cues: Sequence[float] | None = None,
    marks: Mapping[int, float] | None = None,
    lead_in: float,
    tail: float,
    fps: int,
) -> SegmentTiming:
    """Lay out one segment: beat start frames and total frames.

    ``cues`` (seconds into the narration, one per beat, the first normally 0) take
    precedence over sentence starts. ``marks`` (beat index -> seconds into the
    narration, from bookmarks) override both for the beats they name; the beats
    between them keep their rule but are kept in order (:func:`apply_marks`). Beat 0
    always starts at frame 0, so the lead-in belongs to it.
    """
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    if narration_seconds < 0:
        raise ValueError(f"narration_seconds must be >= 0, got {narration_seconds}")
    n = len(beats)
    if n == 0:
        raise ValueError("a scene needs at least one beat")
    if cues is not None:
        if len(cues) > n:
            raise ValueError(f"cues: {len(cues)} given but the scene has {n} beats")
        if cues and cues[-1] > narration_seconds:
            raise ValueError(
                f"cues: {cues[-1]:.3f} s is past the narration's end ({narration_seconds:.3f} s)"
            )
        given = list(cues[1:])
        rest = n - 1 - len(given)
        if rest > 0:  # spread the beats without cues over what is left of the narration
            last = cues[-1] if cues else 0.0
            span = narration_seconds - last
            given += [last + span * (i + 1) / (rest + 1) for i in range(rest)]
        anchors = given
    else:
        anchors = beat_anchors(n, sentence_starts, narration_seconds)
    if marks:
        anchors = apply_marks(anchors, marks, narration_seconds)

    speech_frame = to_frames(lead_in, fps)
    starts = [0] + [speech_frame + to_frames(a, fps) for a in anchors]
    # Each beat gets at least its minimum; a beat that needs more pushes later ones.
    for i in range(1, n):
        floor = starts[i - 1] + math.ceil(beats[i - 1].minimum * fps - 1e-9)
        starts[i] = max(starts[i], floor)
    natural_end = speech_frame + to_frames(narration_seconds + tail, fps)
    needed_end = starts[-1] + math.ceil(beats[-1].minimum * fps - 1e-9)
    frames = max(natural_end, needed_end)
    return SegmentTiming(
        fps=fps,
        frames=frames,
        speech_frame=speech_frame,
        beat_frames=tuple(starts),
        beat_names=tuple(b.name for b in beats),
        narration_seconds=narration_seconds,
        padding_seconds=(frames - natural_end) / fps,
    )


def hold_for_captions(timing: SegmentTiming, frames: int, need: float) -> SegmentTiming:
    """``timing`` lengthened by ``frames`` for its captions (``need`` seconds asked for):
    the last beat, and so the last frame, is held and silence follows the speech."""
    if frames < 0:
        raise ValueError(f"a caption hold of {frames} frames")
    return replace(timing, frames=timing.frames + frames, caption_hold=frames / timing.fps,
                   caption_need=need)


def segment_starts(frame_counts: Sequence[int]) -> list[int]:
    """Start frame of each segment when the segments are joined in order."""
    out, acc = [], 0
    for f in frame_counts:
        out.append(acc)
        acc += f
    return out


def frame_to_sample(frame: int, fps: int, rate: int = SAMPLE_RATE) -> int:
    """Audio sample index of a video frame boundary (exact for 24/25/30/48/50/60 and 15 fps)."""
    num = frame * rate
    if num % fps:
        # Rates whose sample grid does not divide evenly round to the nearest sample.
        return round(num / fps)
    return num // fps
