"""espeak-ng, the fallback synthetic voice, with exact word times from its word events.

Each sentence is synthesised by ``libespeak-ng`` (the library the ``espeak-ng`` program
is built on, installed with it) in a small worker process (:mod:`audio.espeak_lib`),
whose callback receives the audio (22.05 kHz mono) and espeak-ng's own *word events*:
the time at which each word starts. Those events are the word times, so they are
exact for this audio, not estimated. Audio is resampled to 48 kHz stereo; trimming,
joining and caching are :func:`audio.sources.synthesize`'s.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from audio.clips import NarrationError, to_internal
from audio.pcm import SAMPLE_RATE
from audio.sentences import Word, split_sentences
from audio.sources import (
    EDGE_KEEP,
    SENTENCE_PAUSE,
    Narration,
    SaidSentence,
    SpeechEngine,
    narration_cache_key,
    silent_narration,
    synthesize,
    trim_silence,
)

__all__ = [
    "SENTENCE_PAUSE",
    "EDGE_KEEP",
    "EspeakEngine",
    "espeak_binary",
    "espeak_version",
    "check_voice",
    "speech_cache_key",
    "speak",
    "silent_narration",
    "trim_silence",
]


def espeak_binary() -> str | None:
    """Path of ``espeak-ng`` on PATH, or ``None``."""
    return shutil.which("espeak-ng")


@functools.lru_cache(maxsize=8)
def _version_of(binary: str) -> str:
    run = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    m = re.search(r"(\d+\.\d+(?:\.\d+)*)", run.stdout)
    if run.returncode != 0 or not m:
        raise NarrationError(f"{binary}: cannot read espeak-ng version ({run.stdout.strip()})")
    return m.group(1)


@functools.lru_cache(maxsize=8)
def _voices_of(binary: str) -> frozenset[str]:
    """Every name ``-v`` accepts: language codes, voice names, files, other languages."""
    run = subprocess.run(
        [binary, "--voices"], capture_output=True, text=True, timeout=30, check=False
    )
    names: set[str] = set()
    for line in run.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.update(c.lower() for c in (cols[1], cols[3], cols[4]))
            names.update(m.lower() for m in re.findall(r"\(([^ )]+) \d+\)", line))
    return frozenset(names)


def check_voice(binary: str, voice: str) -> None:
    """Raise :class:`NarrationError` unless espeak-ng knows ``voice`` (``+variant`` allowed).

    Needed because espeak-ng falls back to a default voice silently.
    """
    known = _voices_of(binary)
    base = voice.split("+", 1)[0].lower()
    if known and base not in known:
        raise NarrationError(
            f"espeak-ng has no voice {voice!r} (list them with: espeak-ng --voices)"
        )


def espeak_version(binary: str | None = None) -> str | None:
    """Version string of espeak-ng (e.g. ``"1.51"``), or ``None`` when it is missing."""
    binary = binary or espeak_binary()
    return _version_of(binary) if binary else None


# ------------------------------------------------------------------ libespeak-ng

_WORKER = Path(__file__).with_name("espeak_lib.py")


def _synth_in_worker(text: str, voice: str, wpm: int) -> tuple[np.ndarray, int, list[list[int]]]:
    """Run :mod:`audio.espeak_lib` in a fresh process: (mono float32, rate, word events).

    A fresh process per sentence because libespeak-ng carries state from one synthesis
    to the next (the same sentence comes out a few ms different); a new process gives
    the same audio every time, as the ``espeak-ng`` program does.
    """
    run = subprocess.run(
        [sys.executable, str(_WORKER), voice, str(int(wpm))],
        input=text.encode("utf-8"), capture_output=True, timeout=120, check=False,
    )
    if run.returncode != 0:
        err = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NarrationError(
            f"espeak-ng (voice {voice!r}) failed on {text[:40]!r}: "
            f"{err[-1] if err else f'exit code {run.returncode}'}"
        )
    head, _, pcm = run.stdout.partition(b"\n")
    info = json.loads(head)
    mono = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return mono, int(info["rate"]), info["events"]


def _word_spans(text: str) -> list[tuple[int, str]]:
    """(character offset, word) of every bare word in the spoken text."""
    return [(m.start(), m.group(0)) for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)?", text)]


def _run_espeak(
    voice: str, sentence: str, *, wpm: int, words: Sequence[str]
) -> tuple[np.ndarray, list[Word]]:
    """One sentence -> (``[n, 2]`` float32 at 48 kHz, not trimmed; its words' times).

    A word event names the character where espeak-ng's word starts; each of our words
    takes the time of the event at or before its first character. A word ends where
    the next begins (the last at the end of the audio).
    """
    mono, rate, events = _synth_in_worker(sentence, voice, wpm)
    audio = to_internal(mono, rate)
    spans = _word_spans(sentence)
    starts: list[float] = []
    ev = sorted((pos - 1, sample) for pos, sample in events)  # 0-based character offsets
    for offset, _ in spans:
        before = [s for p, s in ev if p <= offset]
        starts.append((before[-1] if before else 0) / rate)
    total = len(audio) / SAMPLE_RATE
    out: list[Word] = []
    if [w for _, w in spans] == list(words):
        for k, (_, w) in enumerate(spans):
            start = min(starts[k], total)
            end = min(starts[k + 1], total) if k + 1 < len(spans) else total
            out.append(Word(w, start, max(start, end)))
    return audio, out


class EspeakEngine(SpeechEngine):
    """espeak-ng through libespeak-ng: robotic but small and always there."""

    source: ClassVar[str] = "espeak"

    def __init__(self, voice: str = "en-us", wpm: int = 160) -> None:
        binary = espeak_binary()
        if binary is None:
            raise NarrationError("espeak-ng not found on PATH")
        check_voice(binary, voice)
        self.voice, self.wpm = voice, int(wpm)
        self.version = espeak_version(binary) or "?"

    def identity(self) -> dict[str, object]:
        return {"engine": "espeak-ng", "version": self.version, "voice": self.voice,
                "wpm": self.wpm}

    def describe(self) -> str:
        return f"espeak-ng {self.version} voice {self.voice} {self.wpm} wpm"

    def say(self, text: str, words: Sequence[str]) -> SaidSentence:
        audio, times = _run_espeak(self.voice, text, wpm=self.wpm, words=words)
        return SaidSentence(audio, tuple(times))


def speech_cache_key(text: str, *, voice: str, wpm: int, version: str) -> str:
    """Content hash of everything that decides espeak-ng's audio for ``text``."""
    identity = {"engine": "espeak-ng", "version": version, "voice": voice, "wpm": int(wpm)}
    return narration_cache_key(split_sentences(text), identity)


def speak(
    text: str, *, cache_dir: str | Path, voice: str = "en-us", wpm: int = 160
) -> Narration:
    """Synthesise ``text`` with espeak-ng, or load it from ``cache_dir``.

    Raises :class:`NarrationError` when espeak-ng is missing, the voice does not exist,
    or the text has no sentences.
    """
    if not split_sentences(text):
        raise NarrationError("speak: the script is empty, nothing to say")
    return synthesize(EspeakEngine(voice, wpm), text, cache_dir=cache_dir)
