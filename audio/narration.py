"""Where a segment's narration comes from, and when each of its sentences is spoken.

Sources, first that exists wins (:func:`resolve_narration`):

1. a recorded clip: the explicit ``clip`` path, else ``<narration_dir>/<segment_id>.<ext>``;
   sentence times come from the pauses in it (:func:`sentence_times_from_audio`);
2. Piper, the bundled neural voice (:mod:`audio.piper_voice`), exact sentence and word times;
3. espeak-ng (:mod:`audio.speech`), exact sentence and word times;
4. timed silence at reading pace (estimated sentence times, no word times).

Each fallback is announced with a warning that says why. ``voice`` chooses a synthetic
source explicitly (:func:`parse_voice`): ``"auto"`` (the order above), ``"piper"`` or
``"piper:<model.onnx>"``, ``"espeak"`` or ``"espeak:<voice>"``, ``"silence"``; a chosen
source that cannot run is an error, not a silent fallback. A recorded clip always wins
over synthesis. ``strict=True`` accepts only recorded clips.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.clips import (
    CLIP_EXTENSIONS,
    SAMPLE_RATE,
    NarrationError,
    decode_clip,
    find_clip,
    read_clip,
)
from audio.piper_voice import PiperEngine, piper_available
from audio.sentences import Sentence, Word, proportional_times, split_sentences
from audio.sources import SOURCES, Narration, SpeechEngine, silent_narration, synthesize
from audio.speech import EspeakEngine, espeak_binary, speak
from audio.textnorm import shown

__all__ = [
    "SAMPLE_RATE",
    "NarrationError",
    "Sentence",
    "Word",
    "Narration",
    "PauseTiming",
    "VOICES",
    "parse_voice",
    "split_sentences",
    "read_clip",
    "find_clip",
    "speak",
    "silent_narration",
    "sentence_times_from_audio",
    "detect_sentence_times",
    "resolve_narration",
    "resolve",
]

VOICES = ("auto", "piper", "espeak", "silence")
DEFAULT_MIN_SILENCE_MS = 180
ANALYSIS_RATE = 16_000  # pause detection runs on a 16 kHz mono copy (3x fewer samples)
assert set(VOICES) - {"auto"} <= set(SOURCES)


def parse_voice(voice: str) -> tuple[str, str | None]:
    """``"espeak:en-gb"`` -> ``("espeak", "en-gb")``; raises ``ValueError`` for unknown kinds."""
    kind, _, arg = voice.partition(":")
    kind = kind.strip().lower()
    if kind not in VOICES:
        raise ValueError(
            f"voice {voice!r}: expected one of {', '.join(VOICES)} (optionally kind:detail)"
        )
    if kind in ("auto", "silence") and arg:
        raise ValueError(f"voice {voice!r}: {kind} takes no detail")
    return kind, (arg.strip() or None)


# ------------------------------------------------------------------ pause analysis


@dataclass(frozen=True)
class PauseTiming:
    """Result of :func:`detect_sentence_times`: the times and how they were found."""

    sentences: tuple[Sentence, ...]
    method: str  # "pauses" | "proportional" | "no-voice" | "single" | "empty"
    threshold_dbfs: float
    pauses_found: int


def _analysis_signal(samples: np.ndarray, sr: int) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sr != ANALYSIS_RATE and len(x):
        from fractions import Fraction

        from scipy.signal import resample_poly

        r = Fraction(ANALYSIS_RATE, sr)
        x = resample_poly(x, r.numerator, r.denominator)
    return x


def _auto_threshold(x: np.ndarray, sr: int) -> float:
    """Silence threshold in dBFS from the level distribution of 10 ms frames.

    ``max(loud - 35, floor + 10)``, capped at ``loud - 6``, where ``loud`` is the 95th
    and ``floor`` the 10th percentile of frame RMS: well under speech, above room noise.
    """
    frame = max(1, sr // 100)
    n = len(x) // frame
    if n == 0:
        return -50.0
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-5))  # floor at -100 dBFS
    loud = float(np.percentile(db, 95))
    floor = float(np.percentile(db, 10))
    return min(max(loud - 35.0, floor + 10.0), loud - 6.0)


def detect_sentence_times(
    samples: np.ndarray,
    sentences: Sequence[str],
    *,
    sr: int = SAMPLE_RATE,
    min_silence_ms: int = DEFAULT_MIN_SILENCE_MS,
    thresh: float | None = None,
) -> PauseTiming:
    """Sentence times in a recorded clip, with a note on how they were found.

    Voiced stretches are found with ``pydub.silence.detect_nonsilent`` (a pause is at
    least ``min_silence_ms`` below ``thresh`` dBFS; default threshold from
    :func:`_auto_threshold`). With N script sentences, the N-1 longest pauses are the
    sentence boundaries; each sentence spans from its first to its last voiced
    millisecond. With fewer pauses than that, the voiced span is shared in proportion
    to character counts. A clip without any voice gets proportional times over its
    whole length.
    """
    from pydub import AudioSegment
    from pydub.silence import detect_nonsilent

    texts = list(sentences)
    x = _analysis_signal(samples, sr)
    total = len(np.asarray(samples)) / sr
    th = _auto_threshold(x, ANALYSIS_RATE) if thresh is None else float(thresh)
    if not texts:
        return PauseTiming((), "empty", th, 0)
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2").tobytes()
    seg = AudioSegment(data=pcm, sample_width=2, frame_rate=ANALYSIS_RATE, channels=1)
    voiced = detect_nonsilent(
        seg, min_silence_len=int(min_silence_ms), silence_thresh=th, seek_step=1
    )
    if not voiced:
        return PauseTiming(proportional_times(texts, 0.0, total), "no-voice", th, 0)
    voiced_s = [(min(a / 1000, total), min(b / 1000, total)) for a, b in voiced]
    first, last = voiced_s[0][0], voiced_s[-1][1]
    n = len(texts)
    gaps = len(voiced_s) - 1
    if n == 1:
        return PauseTiming((Sentence(texts[0], first, last),), "single", th, gaps)
    if gaps < n - 1:
        times = proportional_times(texts, first, last, gap=0.3)
        return PauseTiming(times, "proportional", th, gaps)
    lengths = [(voiced_s[i + 1][0] - voiced_s[i][1], i) for i in range(gaps)]
    chosen = sorted(i for _, i in sorted(lengths, key=lambda p: (-p[0], p[1]))[: n - 1])
    out = []
    begin = first
    for k, i in enumerate(chosen):
        out.append(Sentence(texts[k], begin, voiced_s[i][1]))
        begin = voiced_s[i + 1][0]
    out.append(Sentence(texts[-1], begin, last))
    return PauseTiming(tuple(out), "pauses", th, gaps)


def sentence_times_from_audio(
    samples: np.ndarray,
    sentences: Sequence[str],
    *,
    sr: int = SAMPLE_RATE,
    min_silence_ms: int = DEFAULT_MIN_SILENCE_MS,
    thresh: float | None = None,
) -> tuple[Sentence, ...]:
    """Sentence times in ``samples`` (see :func:`detect_sentence_times`)."""
    return detect_sentence_times(
        samples, sentences, sr=sr, min_silence_ms=min_silence_ms, thresh=thresh
    ).sentences


# ------------------------------------------------------------------ resolution


CLIP_LEAD_KEEP = 0.02  # s of a take's room tone kept before the first word
CLIP_TAIL_KEEP = 0.15  # s kept after the last word (its natural decay)


def trim_edges(samples: np.ndarray) -> np.ndarray:
    """Cut a recorded take's leading and trailing room silence.

    The gaps between segments are then the manifest's ``lead_in`` and ``tail``, not
    whatever padding the take happened to have. Silence is judged with the same
    level-adaptive threshold as the pause detection; a take with no voice is unchanged.
    """
    x = _analysis_signal(samples, SAMPLE_RATE)
    frame = ANALYSIS_RATE // 100
    n = len(x) // frame
    if n == 0:
        return samples
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    voiced = np.nonzero(20 * np.log10(np.maximum(rms, 1e-5)) > _auto_threshold(x, ANALYSIS_RATE))
    if len(voiced[0]) == 0:
        return samples
    scale = SAMPLE_RATE / ANALYSIS_RATE
    a = max(0, int(voiced[0][0] * frame * scale) - int(CLIP_LEAD_KEEP * SAMPLE_RATE))
    end = int((voiced[0][-1] + 1) * frame * scale)
    b = min(len(samples), end + int(CLIP_TAIL_KEEP * SAMPLE_RATE))
    return samples[a:b]


def _clip_narration(path: Path, sentences: list[str]) -> Narration:
    decoded = decode_clip(path)
    samples = trim_edges(decoded.samples)
    timing = detect_sentence_times(samples, sentences)
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(
        json.dumps(
            {"sentences": sentences, "min_silence_ms": DEFAULT_MIN_SILENCE_MS},
            ensure_ascii=False,
        ).encode("utf-8")
    )
    how = {
        "pauses": "sentence times from pauses",
        "single": "one sentence",
        "proportional": (
            f"sentence times estimated (only {timing.pauses_found} pauses "
            f"for {len(sentences)} sentences)"
        ),
        "no-voice": "no voice detected, sentence times estimated",
        "empty": "no script",
    }[timing.method]
    if timing.method in ("proportional", "no-voice"):
        warnings.warn(f"{path}: {how}", stacklevel=3)
    return Narration(
        source="clip",
        samples=samples,
        sentences=timing.sentences,
        path=path,
        detail=f"{decoded.describe}; {how}",
        cache_key=h.hexdigest(),
    )


def expected_clip_paths(narration_dir: str | Path | None, segment_id: str) -> list[Path]:
    """Where :func:`find_clip` looks for a segment's clip (for error messages)."""
    folder = Path(narration_dir) if narration_dir is not None else Path("<narration_dir>")
    return [folder / f"{segment_id}{ext}" for ext in CLIP_EXTENSIONS]


def _engine(kind: str, arg: str | None, wpm: int) -> SpeechEngine:
    if kind == "piper":
        return PiperEngine(wpm, model=arg)
    return EspeakEngine(arg or "en-us", wpm)


def resolve_narration(
    *,
    segment_id: str,
    script: str,
    clip: str | Path | None = None,
    narration_dir: str | Path | None = None,
    strict: bool = False,
    cache_dir: str | Path,
    voice: str = "auto",
    wpm: int = 160,
) -> Narration:
    """The narration of one segment from the first source that exists (module docstring).

    An explicit ``clip`` that does not exist is an error (it was asked for by name).
    An empty ``script`` without a clip gives an empty silent narration (no sentences).
    """
    kind, arg = parse_voice(voice)
    sentences = split_sentences(shown(script))
    if clip is not None:
        path = Path(clip)
        if not path.is_file():
            raise NarrationError(f"{path}: narration clip for segment {segment_id!r} not found")
        return _clip_narration(path, sentences)
    found = find_clip(narration_dir, segment_id)
    if found is not None:
        return _clip_narration(found, sentences)
    if strict:
        where = ", ".join(str(p) for p in expected_clip_paths(narration_dir, segment_id))
        raise NarrationError(
            f"segment {segment_id!r}: strict mode needs a recorded clip; none of {where} exists"
        )
    if not sentences or kind == "silence":
        return silent_narration(script if sentences else "", wpm=wpm)
    if kind != "auto":
        return synthesize(_engine(kind, arg, wpm), script, cache_dir=cache_dir)
    why_not = piper_available()
    if why_not is None:
        return synthesize(PiperEngine(wpm), script, cache_dir=cache_dir)
    if espeak_binary() is not None:
        warnings.warn(
            f"segment {segment_id!r}: no recorded clip and Piper cannot run ({why_not}); "
            "using espeak-ng",
            stacklevel=2,
        )
        return synthesize(EspeakEngine("en-us", wpm), script, cache_dir=cache_dir)
    warnings.warn(
        f"segment {segment_id!r}: no recorded clip, Piper cannot run ({why_not}) and "
        f"espeak-ng is not installed; using timed silence at {wpm} wpm",
        stacklevel=2,
    )
    return silent_narration(script, wpm=wpm)


resolve = resolve_narration  # the name ARCHITECTURE.md uses
