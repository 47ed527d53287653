"""The narration record and the one small interface every speech source implements.

A :class:`SpeechEngine` turns one sentence of *spoken* text (already through
:mod:`audio.textnorm`) into audio plus the times of its words. :func:`synthesize` does
the rest for every engine alike: split the script into sentences, normalise each, ask the
engine sentence by sentence (so sentence times are exact), trim each sentence's edge
silence, join them with :data:`SENTENCE_PAUSE`, and cache the result by a content hash
of the sentences, their spoken form and the engine's :meth:`SpeechEngine.identity`
(model file hash, voice, rate, engine version).

Cache layout (``cache_dir``): ``<engine>-<slug>-<key16>.npy`` (48 kHz float32, one
channel for mono speech) and ``.json`` (sentence and word times, key, producer). Both are
written to a temporary name and renamed; the JSON is written last and marks the entry
valid. The audio is memory-mapped when read: a re-run that only plans (nothing changed)
takes the durations from the JSON and never reads the speech itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from audio.clips import NarrationError
from audio.level import TakeReport, level_take
from audio.pcm import SAMPLE_RATE, compact, is_dual_mono
from audio.sentences import Sentence, Word, split_sentences
from audio.textnorm import shown, spoken, spoken_words

__all__ = [
    "SOURCES",
    "SENTENCE_PAUSE",
    "EDGE_KEEP",
    "FADE",
    "TRIM_THRESHOLD",
    "Narration",
    "SaidSentence",
    "SpeechEngine",
    "synthesize",
    "narration_cache_key",
    "silent_narration",
    "trim_silence",
    "trim_bounds",
]

SOURCES = ("clip", "piper", "espeak", "silence")
SENTENCE_PAUSE = 0.35  # seconds of silence between sentences
EDGE_KEEP = 0.012  # seconds kept before the first / after the last voiced sample
FADE = 0.005  # seconds of linear fade in/out at each sentence edge
TRIM_THRESHOLD = 10 ** (-50 / 20)  # |amplitude| above this counts as voiced (-50 dBFS)
# Bump when synthesis or the cache format changes, so old entries are not reused.
SYNTH_REVISION = "speak-v4-levelled"  # v3: speech levelled like a take; v4: audio.peaks


@dataclass(frozen=True, eq=False)
class Narration:
    """One segment's narration: audio in the internal format plus sentence and word times.

    ``samples`` is made read-only; a mono narration is stored once and seen on both
    channels (a broadcast view, see :func:`audio.pcm.compact`). ``words`` are the
    spoken words with their times (empty when unknown, e.g. timed silence or a take not
    yet aligned). Equality is identity (arrays do not compare as bools); compare
    ``cache_key`` for same content.
    """

    source: str  # one of SOURCES
    samples: np.ndarray  # [n, 2] float32, 48 kHz
    sentences: tuple[Sentence, ...]
    path: Path | None  # the clip or cached speech file it came from
    detail: str  # e.g. "Piper 1.8.0 en_US-joe-medium ...", "clip 44.1 kHz mono mp3"
    cache_key: str  # content hash of what produced it
    words: tuple[Word, ...] = ()
    take: TakeReport | None = None  # recorded takes only: level and alignment

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Narration.source must be one of {SOURCES}, got {self.source!r}")
        s = self.samples
        if not isinstance(s, np.ndarray) or s.ndim != 2 or s.shape[1] != 2:
            raise ValueError(f"Narration.samples must be [n, 2], got {getattr(s, 'shape', s)}")
        if s.dtype != np.float32:
            raise ValueError(f"Narration.samples must be float32, got {s.dtype}")
        # Mono narration (every synthetic voice, most takes) keeps one channel: the
        # lecture's narration is held through the whole render.
        s = compact(s)
        if s.flags.writeable:
            s.flags.writeable = False
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "sentences", tuple(self.sentences))
        object.__setattr__(self, "words", tuple(self.words))
        end = len(s) / SAMPLE_RATE + 1e-6
        for a, b in zip(self.sentences, self.sentences[1:], strict=False):
            if b.start < a.end - 1e-9:
                raise ValueError(f"Narration sentences overlap: {a.text[:30]!r} / {b.text[:30]!r}")
        if self.sentences and self.sentences[-1].end > end:
            raise ValueError(
                f"Narration: last sentence ends at {self.sentences[-1].end:.3f} s, "
                f"after the audio ({end:.3f} s)"
            )
        for w1, w2 in zip(self.words, self.words[1:], strict=False):
            if w2.start < w1.start - 1e-9:
                raise ValueError(f"Narration words out of order: {w1.text!r} / {w2.text!r}")
        if self.words and self.words[-1].end > end:
            raise ValueError(f"Narration: word {self.words[-1].text!r} ends after the audio")

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class SaidSentence:
    """What an engine returns for one sentence: raw audio and its words' times in it.

    ``samples`` is ``[n, 2]`` float32 at 48 kHz, not trimmed. ``words`` are relative to
    ``samples`` and are the words asked for, in order (empty when the engine cannot
    time words).
    """

    samples: np.ndarray
    words: tuple[Word, ...] = ()


class SpeechEngine(ABC):
    """A synthetic voice. Subclasses say one sentence; :func:`synthesize` does the rest."""

    source: ClassVar[str]  # the Narration.source it produces

    @abstractmethod
    def identity(self) -> dict[str, object]:
        """Everything that decides the audio besides the text (JSON-able): engine
        version, voice or model file hash, speaking rate."""

    @abstractmethod
    def describe(self) -> str:
        """One line for logs and manifest.json, e.g. ``"espeak-ng 1.51 voice en-us 150 wpm"``."""

    @abstractmethod
    def say(self, text: str, words: Sequence[str]) -> SaidSentence:
        """Audio for one sentence of spoken ``text`` (``words`` are its bare words)."""


# ------------------------------------------------------------------ trimming


def trim_bounds(x: np.ndarray, *, threshold: float = TRIM_THRESHOLD) -> tuple[int, int]:
    """``(a, b)``: the voiced part of ``x`` plus :data:`EDGE_KEEP` each side (``a == b``
    when nothing is above ``threshold``)."""
    loud = np.nonzero(np.max(np.abs(x), axis=1) > threshold)[0]
    if len(loud) == 0:
        return 0, 0
    keep = int(round(EDGE_KEEP * SAMPLE_RATE))
    return max(0, int(loud[0]) - keep), min(len(x), int(loud[-1]) + 1 + keep)


def trim_silence(x: np.ndarray, *, threshold: float = TRIM_THRESHOLD) -> np.ndarray:
    """Cut leading/trailing silence of ``[n, 2]`` audio, keep :data:`EDGE_KEEP`, fade edges.

    Returns an empty array when nothing is above ``threshold``.
    """
    a, b = trim_bounds(x, threshold=threshold)
    y = np.array(x[a:b], dtype=np.float32)
    nf = min(int(round(FADE * SAMPLE_RATE)), len(y) // 2)
    if nf > 0:
        ramp = np.linspace(0.0, 1.0, nf, endpoint=False, dtype=np.float32)[:, None]
        y[:nf] *= ramp
        y[len(y) - nf :] *= ramp[::-1]
    return y


# ------------------------------------------------------------------ synthesis + cache


def narration_cache_key(sentences: Sequence[str], identity: dict[str, object]) -> str:
    """Content hash (sha256 hex) of the sentences, what is said for them and the engine."""
    payload = {
        "revision": SYNTH_REVISION,
        "sentences": list(sentences),
        "spoken": [spoken(s) for s in sentences],
        "engine": identity,
        "rate": SAMPLE_RATE,
        "pause": SENTENCE_PAUSE,
        "edge": EDGE_KEEP,
        "fade": FADE,
        "threshold": TRIM_THRESHOLD,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def _slug(text: str, words: int = 5) -> str:
    tokens = re.findall(r"[a-z0-9]+", text.lower())[:words]
    return "-".join(tokens)[:40] or "speech"


def _load_cached(
    audio: Path, meta: Path, key: str
) -> tuple[np.ndarray, tuple[Sentence, ...], tuple[Word, ...]] | None:
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if info.get("key") != key or info.get("sample_rate") != SAMPLE_RATE:
            return None
        x = np.load(audio, mmap_mode="r")  # pages are read when the audio is used
        if x.dtype != np.float32 or len(x) != info.get("frames") or x.ndim not in (1, 2):
            return None
        if x.ndim == 1:  # mono speech: one stored channel, seen on both
            x = np.broadcast_to(x[:, None], (len(x), 2))
        elif x.shape[1] != 2:
            return None
        sentences = tuple(Sentence(s["text"], s["start"], s["end"]) for s in info["sentences"])
        words = tuple(Word(w["text"], w["start"], w["end"]) for w in info.get("words", []))
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        return None
    return x, sentences, words


def _save_audio(path: Path, x: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file object: np.save adds no suffix
        np.save(fh, np.ascontiguousarray(x[:, 0] if is_dual_mono(x) else x, dtype=np.float32))


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path`` (same folder, so atomic)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes files private; cache entries are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _place_words(said: SaidSentence, a: int, b: int, offset: int) -> list[Word]:
    """The engine's word times moved from raw sentence audio to the narration timeline."""
    out = []
    for w in said.words:
        s = min(max(round(w.start * SAMPLE_RATE), a), b) - a + offset
        e = min(max(round(w.end * SAMPLE_RATE), a), b) - a + offset
        out.append(Word(w.text, s / SAMPLE_RATE, max(s, e) / SAMPLE_RATE))
    return out


# Sentences spoken lately, kept in memory when a long-lived process asks for it
# (:func:`remember_sentences`); the engines are deterministic, so a hit is what the
# engine would say again.
_SAID: OrderedDict[tuple[str, str, tuple[str, ...]], SaidSentence] = OrderedDict()
_SAID_LOCK = threading.Lock()
_said_max = 0


def remember_sentences(count: int) -> None:
    """Keep the last ``count`` sentences spoken in memory (0, the default: none). For a
    process that speaks a script again after one sentence of it changed
    (``lecture studio``): the other sentences are not spoken again."""
    global _said_max
    with _SAID_LOCK:
        _said_max = max(0, count)
        while len(_SAID) > _said_max:
            _SAID.popitem(last=False)


def _say(engine: SpeechEngine, text: str, words: Sequence[str]) -> SaidSentence:
    if _said_max == 0:
        return engine.say(text, words)
    key = (json.dumps(engine.identity(), sort_keys=True), text, tuple(words))
    with _SAID_LOCK:
        hit = _SAID.get(key)
        if hit is not None:
            _SAID.move_to_end(key)
            return hit
    said = engine.say(text, words)
    with _SAID_LOCK:
        _SAID[key] = said
        while len(_SAID) > _said_max:
            _SAID.popitem(last=False)
    return said


def synthesize(engine: SpeechEngine, script: str, *, cache_dir: str | Path) -> Narration:
    """Speak ``script`` with ``engine`` sentence by sentence, or load it from ``cache_dir``.

    Markers (``<mark name="..."/>``) are removed first; every sentence is spoken as
    :func:`audio.textnorm.spoken` has it. Raises :class:`NarrationError` when the script
    has no sentences.
    """
    sentences = split_sentences(shown(script))
    if not sentences:
        raise NarrationError("speak: the script is empty, nothing to say")
    identity = engine.identity()
    key = narration_cache_key(sentences, identity)
    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{engine.source}-{_slug(sentences[0])}-{key[:16]}"
    stored, meta = folder / f"{stem}.npy", folder / f"{stem}.json"
    detail = engine.describe()

    cached = _load_cached(stored, meta, key)
    if cached is None:
        pause = np.zeros((int(round(SENTENCE_PAUSE * SAMPLE_RATE)), 2), dtype=np.float32)
        parts: list[np.ndarray] = []
        times: list[tuple[int, int]] = []
        words: list[Word] = []
        pos = 0
        for s in sentences:
            said = _say(engine, spoken(s), spoken_words(s))
            a, b = trim_bounds(said.samples)
            chunk = trim_silence(said.samples)
            if parts:
                parts.append(pause)
                pos += len(pause)
            if len(chunk) == 0:  # e.g. a sentence of punctuation only
                chunk = np.zeros((int(0.1 * SAMPLE_RATE), 2), dtype=np.float32)
            else:
                words += _place_words(said, a, b, pos)
            parts.append(chunk)
            times.append((pos, pos + len(chunk)))
            pos += len(chunk)
        # Levelled like a recorded take (audio.level): in a lecture that mixes takes and
        # synthetic speech, every segment's speech then sits at the same loudness.
        audio, _ = level_take(np.concatenate(parts))
        audio = np.asarray(audio, dtype=np.float32)
        info = {
            "key": key,
            "producer": detail,
            "engine": identity,
            "text": script,
            "frames": len(audio),
            "sample_rate": SAMPLE_RATE,
            "sentences": [
                {"text": s, "start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE}
                for s, (a, b) in zip(sentences, times, strict=True)
            ],
            "words": [{"text": w.text, "start": w.start, "end": w.end} for w in words],
        }
        _atomic_write(stored, lambda p: _save_audio(p, audio))
        _atomic_write(
            meta,
            lambda p: p.write_text(json.dumps(info, indent=1, ensure_ascii=False), "utf-8"),
        )
        # What was stored is what every later call gets: read it back (memory-mapped).
        cached = _load_cached(stored, meta, key)
        if cached is None:
            raise NarrationError(f"{stored}: speech cache entry unreadable right after writing")
    samples, times_s, words_s = cached
    return Narration(
        source=engine.source,
        samples=samples,
        sentences=times_s,
        path=stored,
        detail=detail,
        cache_key=key,
        words=words_s,
    )


def silent_narration(text: str, *, wpm: int = 160) -> Narration:
    """Silence as long as ``text`` takes to read at ``wpm``; sentence times estimated.

    Each sentence lasts ``max(0.8, words * 60 / wpm)`` seconds; sentences are separated
    by :data:`SENTENCE_PAUSE`. An empty text gives an empty narration. No word times.
    """
    if wpm <= 0:
        raise ValueError(f"silent_narration: wpm must be > 0, got {wpm}")
    sentences = split_sentences(shown(text))
    times: list[Sentence] = []
    t = 0.0
    for i, s in enumerate(sentences):
        if i:
            t += SENTENCE_PAUSE
        d = max(0.8, len(s.split()) * 60.0 / wpm)
        times.append(Sentence(s, t, t + d))
        t += d
    n = int(round(t * SAMPLE_RATE))
    samples = np.zeros((n, 2), dtype=np.float32)
    key = hashlib.sha256(
        json.dumps({"silence": sentences, "wpm": wpm, "pause": SENTENCE_PAUSE}).encode()
    ).hexdigest()
    return Narration(
        source="silence",
        samples=samples,
        sentences=tuple(times),
        path=None,
        detail=f"timed silence at {wpm} wpm",
        cache_key=key,
    )
