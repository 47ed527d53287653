"""Frame arithmetic of segments and beats (pure: no ffmpeg, no manim rendering)."""

from __future__ import annotations

import pytest

from pipeline.planning.timing import (
    beat_anchors,
    frame_to_sample,
    plan_segment,
    segment_starts,
    to_frames,
)
from scenes.timing import Beat

BEATS = (Beat("a", 3.0, 0.5), Beat("b", 3.0, 0.5), Beat("c", 3.0, 0.5))


@pytest.mark.parametrize("fps", [15, 24, 25, 30, 50, 60])
def test_segment_is_narration_plus_lead_and_tail_on_frame_grid(fps: int) -> None:
    t = plan_segment(beats=BEATS, narration_seconds=7.3333, sentence_starts=[0, 2.5, 5.0],
                     lead_in=0.5, tail=0.8, fps=fps)
    assert t.frames == to_frames(0.5, fps) + to_frames(7.3333 + 0.8, fps)
    assert t.padding_seconds == 0
    # the speech starts on a frame boundary and the plan covers the segment exactly
    assert t.speech_frame == to_frames(0.5, fps)
    assert sum(t.beat_seconds().values()) == pytest.approx(t.frames / fps, abs=1e-9)
    # what the scene computes from the plan lands on the same frames
    acc, ends = 0.0, []
    for secs in t.beat_seconds().values():
        acc += secs
        ends.append(round(acc * fps))
    assert ends == [*t.beat_frames[1:], t.frames]


def test_beats_start_at_sentence_boundaries() -> None:
    t = plan_segment(beats=BEATS, narration_seconds=9.0, sentence_starts=[0.0, 3.1, 6.4],
                     lead_in=0.5, tail=0.5, fps=30)
    assert t.beat_frames == (0, to_frames(0.5 + 3.1, 30), to_frames(0.5 + 6.4, 30))


def test_cues_override_sentences_and_missing_cues_are_spread() -> None:
    t = plan_segment(beats=BEATS, narration_seconds=9.0, sentence_starts=[0.0, 3.1, 6.4],
                     cues=[0.0, 2.0], lead_in=0.0, tail=0.0, fps=10)
    # beat b at the cue; beat c halfway through what remains after it
    assert t.beat_frames == (0, 20, 55)


def test_more_beats_than_sentences_interpolates_inside_sentences() -> None:
    anchors = beat_anchors(4, [0.0, 4.0], 8.0)
    assert anchors == pytest.approx([2.0, 4.0, 6.0])


def test_more_sentences_than_beats_uses_sentence_starts_only() -> None:
    starts = [0.0, 1.0, 2.5, 4.0, 6.0, 7.5]
    anchors = beat_anchors(3, starts, 9.0)
    assert all(a in starts for a in anchors)
    assert anchors == sorted(anchors)


def test_scene_minimums_pad_with_silence_never_cut_narration() -> None:
    beats = (Beat("a", 2.0, 2.0), Beat("b", 2.0, 2.0), Beat("c", 4.0, 4.0))
    t = plan_segment(beats=beats, narration_seconds=3.0, sentence_starts=[0.0, 1.0, 2.0],
                     lead_in=0.0, tail=0.0, fps=10)
    assert t.beat_frames == (0, 20, 40)
    assert t.frames == 80
    assert t.padding_seconds == pytest.approx(5.0)


def test_bad_cues_are_reported() -> None:
    with pytest.raises(ValueError, match="cues: 4 given but the scene has 3 beats"):
        plan_segment(beats=BEATS, narration_seconds=5, cues=[0, 1, 2, 3], lead_in=0, tail=0, fps=10)
    with pytest.raises(ValueError, match="past the narration's end"):
        plan_segment(beats=BEATS, narration_seconds=5, cues=[0, 6], lead_in=0, tail=0, fps=10)


def test_segment_starts_and_sample_grid_have_no_drift() -> None:
    frames = [137, 251, 99, 400, 1, 77, 333, 12, 45, 601, 88]
    starts = segment_starts(frames)
    assert starts[-1] + frames[-1] == sum(frames)
    for fps in (15, 24, 25, 30, 50, 60):
        for s in starts:
            # exact: every frame boundary is a whole number of 48 kHz samples
            assert frame_to_sample(s, fps) * fps == s * 48_000
