"""Narration sources (recorded clip, Piper, espeak-ng, timed silence), text normalisation
and sentence/word timing.

Internal audio is 48 kHz stereo float32 in [-1, 1], shaped ``[n, 2]`` (:mod:`audio.pcm`).
"""

from __future__ import annotations

from audio.clips import NarrationError, find_clip, read_clip
from audio.narration import (
    VOICES,
    parse_voice,
    resolve_narration,
    sentence_times_from_audio,
)
from audio.sentences import Sentence, Word, split_sentences
from audio.sources import Narration, SpeechEngine, silent_narration, synthesize
from audio.speech import speak

__all__ = [
    "NarrationError",
    "Sentence",
    "Word",
    "Narration",
    "SpeechEngine",
    "VOICES",
    "parse_voice",
    "split_sentences",
    "read_clip",
    "find_clip",
    "speak",
    "synthesize",
    "silent_narration",
    "sentence_times_from_audio",
    "resolve_narration",
]
