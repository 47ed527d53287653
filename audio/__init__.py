"""Narration sources (recorded clip, espeak-ng speech, timed silence) and sentence timing.

Internal audio is 48 kHz stereo float32 in [-1, 1], shaped ``[n, 2]``.
"""

from __future__ import annotations

from audio.clips import SAMPLE_RATE, NarrationError, find_clip, read_clip
from audio.narration import (
    Narration,
    resolve,
    resolve_narration,
    sentence_times_from_audio,
)
from audio.sentences import Sentence, split_sentences
from audio.speech import silent_narration, speak

__all__ = [
    "SAMPLE_RATE",
    "NarrationError",
    "Sentence",
    "Narration",
    "split_sentences",
    "read_clip",
    "find_clip",
    "speak",
    "silent_narration",
    "sentence_times_from_audio",
    "resolve_narration",
    "resolve",
]
