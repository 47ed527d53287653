"""Generated test audio: tones, silence, speech-like bursts, and files in any format.

Everything is built with numpy and written with the ``ffmpeg`` binary, so tests never
ship media files. Samples are float arrays in [-1, 1], shaped ``[n]`` (mono) or
``[n, channels]``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "SR",
    "tone",
    "silence",
    "to_channels",
    "rms_dbfs",
    "write_audio",
    "SpeechLike",
    "speechlike",
    "have_ffmpeg",
    "have_espeak",
]

SR = 48_000

# Encoder per file extension; each has a lossless or well-behaved default setting.
_CODECS: dict[str, list[str]] = {
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "6"],
}


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def tone(
    freq: float, secs: float, sr: int = SR, amp: float = 0.5, fade: float = 0.002
) -> np.ndarray:
    """A sine of ``freq`` Hz lasting ``round(secs * sr)`` samples, with ``fade`` s ramps."""
    n = int(round(secs * sr))
    t = np.arange(n) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    nf = min(int(round(fade * sr)), n // 2)
    if nf:
        ramp = np.linspace(0.0, 1.0, nf, endpoint=False)
        x[:nf] *= ramp
        x[n - nf :] *= ramp[::-1]
    return x.astype(np.float32)


def silence(secs: float, sr: int = SR) -> np.ndarray:
    """``round(secs * sr)`` zero samples (mono)."""
    return np.zeros(int(round(secs * sr)), dtype=np.float32)


def to_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """Mono ``[n]`` -> ``[n, channels]`` (the same signal in every channel)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        if x.shape[1] == channels:
            return x
        x = x.mean(axis=1)
    return np.repeat(x[:, None], channels, axis=1)


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale sine is about -3 dBFS); -inf for silence."""
    r = float(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64))))) if x.size else 0.0
    return 20 * np.log10(r) if r > 0 else float("-inf")


def write_audio(
    path: str | Path,
    samples: np.ndarray,
    sr: int = SR,
    *,
    codec_args: list[str] | None = None,
) -> Path:
    """Write samples to ``path`` in the format its extension names, via ffmpeg.

    The file keeps ``sr`` and the channel count of ``samples``. ``codec_args`` overrides
    the encoder (e.g. ``["-c:a", "pcm_s24le"]`` for a 24-bit WAV). Any extension ffmpeg
    knows works when ``codec_args`` is given.
    """
    path = Path(path)
    x = np.asarray(samples, dtype=np.float32)
    channels = 1 if x.ndim == 1 else x.shape[1]
    args = codec_args if codec_args is not None else _CODECS.get(path.suffix.lower())
    if args is None:
        raise ValueError(f"write_audio: no default codec for {path.suffix!r}; give codec_args")
    cmd = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sr), "-ac", str(channels), "-i", "pipe:0",
        *args, str(path),
    ]  # fmt: skip
    run = subprocess.run(cmd, input=np.ascontiguousarray(x).tobytes(), capture_output=True)
    if run.returncode != 0:
        raise RuntimeError(f"ffmpeg could not write {path}: {run.stderr.decode()[-500:]}")
    return path


@dataclass(frozen=True, eq=False)
class SpeechLike:
    """Tone-burst "speech": words are bursts, sentences are separated by long pauses."""

    samples: np.ndarray  # mono [n] float32
    sr: int
    spans: tuple[tuple[float, float], ...]  # (start, end) of each sentence, seconds
    texts: tuple[str, ...]  # a dummy script, one sentence per span

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sr


def speechlike(
    n_sentences: int,
    *,
    sr: int = SR,
    seed: int = 0,
    lead: float = 0.3,
    tail: float = 0.4,
    pause: tuple[float, float] = (0.35, 0.7),
    word_gap: tuple[float, float] = (0.03, 0.12),
    words: tuple[int, int] = (3, 9),
    amp: float = 0.4,
    noise_dbfs: float | None = None,
) -> SpeechLike:
    """Build ``n_sentences`` of tone bursts with known sentence boundaries.

    Each sentence has ``words`` (min, max) bursts of 0.12-0.45 s at 140-400 Hz with
    gaps drawn from ``word_gap``; sentences are separated by pauses drawn from
    ``pause``, so every sentence pause is longer than every word gap when the ranges
    do not overlap. ``noise_dbfs`` adds white noise at that RMS level over everything.
    The dummy script has one word per burst, so character counts follow durations.
    """
    rng = np.random.default_rng(seed)
    parts = [silence(lead, sr)]
    pos = len(parts[0])
    spans: list[tuple[float, float]] = []
    texts: list[str] = []
    for i in range(n_sentences):
        if i:
            gap = silence(float(rng.uniform(*pause)), sr)
            parts.append(gap)
            pos += len(gap)
        start = pos
        n_words = int(rng.integers(words[0], words[1] + 1))
        vocab = []
        for w in range(n_words):
            if w:
                g = silence(float(rng.uniform(*word_gap)), sr)
                parts.append(g)
                pos += len(g)
            secs = float(rng.uniform(0.12, 0.45))
            burst = tone(float(rng.uniform(140, 400)), secs, sr, amp * float(rng.uniform(0.5, 1)))
            parts.append(burst)
            pos += len(burst)
            vocab.append("w" * max(2, int(secs * 14)))
        spans.append((start / sr, pos / sr))
        texts.append(" ".join(vocab).capitalize() + ".")
    parts.append(silence(tail, sr))
    x = np.concatenate(parts)
    if noise_dbfs is not None:
        x = x + rng.normal(0.0, 10 ** (noise_dbfs / 20), len(x)).astype(np.float32)
    return SpeechLike(np.clip(x, -1, 1).astype(np.float32), sr, tuple(spans), tuple(texts))
