"""Recorded-take stand-ins with known word times, made with espeak-ng.

By default continuous speech, each word's start from espeak-ng's own word events (the
project's espeak engine reports them). With ``per_word=True`` each word is synthesised
on its own (``espeak-ng --stdout``), trimmed at -50 dBFS and joined with short gaps, so
every start is known to the sample (speech less natural: a lone "a" is said as the
letter). Used by the take tests and by ``bench/bench_align.py``.
"""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

SR = 48_000


@dataclass(frozen=True, eq=False)
class KnownTake:
    samples: np.ndarray  # mono float32 at 48 kHz
    starts: tuple[float, ...]  # each word's first sample, seconds
    words: tuple[str, ...]
    text: str


def _espeak(word: str, wpm: int) -> np.ndarray:
    from audio.clips import to_internal

    run = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(wpm), "--stdout", word],
        capture_output=True, check=True, timeout=60,
    )
    with wave.open(io.BytesIO(run.stdout)) as w:
        sr = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    x = to_internal(x, sr)[:, 0]
    loud = np.nonzero(np.abs(x) > 10 ** (-50 / 20))[0]
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def known_take(
    sentences: list[str], *, seed: int = 0, wpm: int = 160, lead: float = 0.3,
    tail: float = 0.4, amp: float = 0.5, per_word: bool = False, **gaps: tuple[float, float],
) -> KnownTake:
    """Speech for ``sentences`` with every word's start known.

    By default continuous espeak-ng speech, the word starts taken from espeak's own word
    events (``audio.speech.EspeakEngine``), sentences joined by the synthesiser's pause.
    ``per_word=True`` synthesises each word alone and joins them with gaps instead.
    """
    if per_word:
        return _per_word_take(sentences, seed=seed, wpm=wpm, lead=lead, tail=tail, amp=amp,
                              **gaps)
    import tempfile

    from audio.sources import synthesize
    from audio.speech import EspeakEngine

    with tempfile.TemporaryDirectory() as tmp:
        n = synthesize(EspeakEngine("en-us", wpm), " ".join(sentences), cache_dir=tmp)
    x = n.samples[:, 0]
    y = np.concatenate([np.zeros(int(lead * SR), np.float32), x,
                        np.zeros(int(tail * SR), np.float32)])
    y = y * (amp / max(float(np.abs(y).max()), 1e-9))
    starts = tuple(lead + w.start for w in n.words)
    return KnownTake(y.astype(np.float32), starts, tuple(w.text for w in n.words),
                     " ".join(sentences))


def _per_word_take(
    sentences: list[str], *, seed: int, wpm: int, lead: float, tail: float, amp: float,
    word_gap: tuple[float, float] = (0.02, 0.1), pause: tuple[float, float] = (0.35, 0.6),
) -> KnownTake:
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(lead * SR), np.float32)]
    pos = len(parts[0])
    starts: list[float] = []
    words: list[str] = []
    for i, sentence in enumerate(sentences):
        if i:
            gap = np.zeros(int(rng.uniform(*pause) * SR), np.float32)
            parts.append(gap)
            pos += len(gap)
        for j, word in enumerate(sentence.split()):
            if j:
                gap = np.zeros(int(rng.uniform(*word_gap) * SR), np.float32)
                parts.append(gap)
                pos += len(gap)
            x = _espeak(word.strip(".,;:!?"), wpm)
            starts.append(pos / SR)
            words.append(word)
            parts.append(x)
            pos += len(x)
    parts.append(np.zeros(int(tail * SR), np.float32))
    y = np.concatenate(parts)
    y = y * (amp / max(float(np.abs(y).max()), 1e-9))
    return KnownTake(y.astype(np.float32), tuple(starts), tuple(words), " ".join(sentences))


def voiced_take(text: str, *, voice: str = "piper", wpm: int = 160) -> np.ndarray:
    """``text`` spoken by the project's Piper voice (or ``"espeak"``), mono float32 at
    48 kHz: a take whose words are known but not its script's."""
    import tempfile

    from audio.piper_voice import PiperEngine
    from audio.sources import SpeechEngine, synthesize
    from audio.speech import EspeakEngine

    engine: SpeechEngine = PiperEngine(wpm) if voice == "piper" else EspeakEngine("en-us", wpm)
    with tempfile.TemporaryDirectory() as tmp:
        n = synthesize(engine, text, cache_dir=tmp)
        return np.array(n.samples[:, 0], dtype=np.float32)
