"""Takes read from the script's display text by other voices, with every start known.

A lecturer reads what the screen shows: digits and symbols as written, said their own
way. These takes stand in for that. Each sentence of a script (split as the pipeline
splits it) is read by a voice that is not the project's Piper "joe": espeak-ng variants
at several rates, and CMU Flite's voices when ``flite`` is installed. Each engine reads
digits and symbols with its own rules (espeak says "4×10⁻⁵" as "four times ten", Flite
as "four ten"), and with ``human=True`` some numbers are first reworded the way people
say them ("0.078" as "point oh seven eight", "1000" as "a thousand").

The true start of a bookmark's word (``<mark name="..."/>``) comes from the synthesiser,
never from the aligner, in one of two modes (``DisplayTake.mode``):

- ``"continuous"`` (espeak-ng, the default for it): each sentence is spoken in one
  piece, as a person reads it, with no pause at a bookmark unless the voice makes one;
  the bookmark's time is the onset of the word after it, from libespeak-ng's own word
  events (``audio/espeak_lib.py`` run as a script).
- ``"pieces"`` (Flite, which gives no word events, or asked for): the sentence is
  synthesised in pieces split at its bookmarks, each trimmed of silence and joined with
  a 40-120 ms gap, so the bookmark's time is the first sample of its piece. Those gaps
  are silences real speech mostly lacks: they make bookmarks easier to place.

Sentences are joined with pauses after a lead-in; then :func:`room` adds an echo and room
noise. Used by
``bench/bench_takes_align.py`` and ``tests/test_takes_align.py``.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve, resample_poly

SR = 48_000
ESPEAK_LIB = Path(__file__).resolve().parents[2] / "audio" / "espeak_lib.py"
MARK = re.compile(r"<mark\s+name\s*=\s*\"([^\"]*)\"\s*/>")


@dataclass(frozen=True)
class Voice:
    """A synthetic reader: ``engine`` is ``"espeak"`` or ``"flite"``; ``rate`` is words
    per minute for espeak-ng and a duration stretch (1.0 = normal) for Flite."""

    engine: str
    name: str
    rate: float

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}@{self.rate:g}"

    @property
    def word_events(self) -> bool:
        """Whether the engine reports when each word starts (espeak-ng does, Flite not)."""
        return self.engine == "espeak"


ESPEAK_VOICES = (
    Voice("espeak", "en-gb+m3", 150), Voice("espeak", "en-us+f3", 175),
    Voice("espeak", "en-gb-x-rp+m7", 135), Voice("espeak", "en-us+m5", 190),
)
FLITE_VOICES = (
    Voice("flite", "slt", 1.0), Voice("flite", "rms", 1.1), Voice("flite", "awb", 0.95),
    Voice("flite", "kal16", 1.05),
)


def voices() -> tuple[Voice, ...]:
    """The voices this machine can run (Flite's only when ``flite`` is installed)."""
    return ESPEAK_VOICES + (FLITE_VOICES if shutil.which("flite") else ())


@dataclass(frozen=True, eq=False)
class DisplayTake:
    samples: np.ndarray  # mono float32 at SR
    script: str  # the display text with its bookmarks, as a lecture holds it
    sentence_starts: tuple[float, ...]  # seconds, first sample of each sentence's speech
    mark_starts: dict[str, float]  # bookmark name -> first sample of its word
    said: tuple[str, ...]  # what the voice was given, sentence by sentence
    voice: str
    mode: str  # "continuous" or "pieces": where the bookmarks' truth comes from
    # bookmark name -> first sound of its word: later than mark_starts by a stop's closure
    # (continuous); the same as mark_starts (pieces: each piece is trimmed to its sound)
    mark_sounds: dict[str, float]


def _to_sr(x: np.ndarray, sr: int) -> np.ndarray:
    g = math.gcd(SR, sr)
    return resample_poly(x, SR // g, sr // g) if sr != SR else x


def _read_wav(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        sr = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
    return _to_sr(x, sr)


def _trim(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``x`` scaled to a 0.5 peak and trimmed of silence at -45 dBFS, and the samples cut
    from its start."""
    x = x / max(float(np.abs(x).max()), 1e-9) * 0.5
    loud = np.nonzero(np.abs(x) > 10 ** (-45 / 20))[0]
    return (x[loud[0] : loud[-1] + 1], int(loud[0])) if len(loud) else (x, 0)


def say(voice: Voice, text: str) -> np.ndarray:
    """``text`` spoken by ``voice``: mono float at SR, silence trimmed at -45 dBFS."""
    if voice.engine == "espeak":
        cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(voice.rate)), "--stdout", text]
        x = _read_wav(subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "s.wav"
            subprocess.run(
                ["flite", "-voice", voice.name, "--setf", f"duration_stretch={voice.rate}",
                 "-t", text, "-o", str(out)], capture_output=True, check=True, timeout=60)
            x = _read_wav(out.read_bytes())
    return _trim(x)[0]


def say_whole(voice: Voice, pieces: list[str]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """``pieces`` joined by spaces and spoken by an espeak-ng ``voice`` in one go: mono
    float at SR (trimmed as :func:`say` trims) and, for every piece after the first, when
    its first word starts (seconds into the audio): at libespeak-ng's word event, and at
    the word's first sound after it: the first 5 ms frame over -45 dBFS RMS, later than
    the event when the word opens with a stop, whose closure is near silent."""
    text = " ".join(pieces)
    offsets = [sum(len(p) + 1 for p in pieces[:k]) for k in range(1, len(pieces))]
    run = subprocess.run([sys.executable, str(ESPEAK_LIB), voice.name, str(int(voice.rate))],
                         input=text.encode("utf-8"), capture_output=True, check=True,
                         timeout=60)
    head, _, pcm = run.stdout.partition(b"\n")
    info = json.loads(head)
    rate = int(info["rate"])
    events = sorted((pos - 1, sample) for pos, sample in info["events"])  # 0-based chars
    x, cut = _trim(_to_sr(np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768, rate))
    frame = SR // 200
    n = len(x) // frame
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    onsets = []
    for at in offsets:
        i = next(k for k, (p, _) in enumerate(events) if p >= at)  # its first spoken word
        start = round(events[i][1] * SR / rate) - cut
        end = round(events[i + 1][1] * SR / rate) - cut if i + 1 < len(events) else len(x)
        loud = np.nonzero(rms[-(-start // frame) : end // frame] > 10 ** (-45 / 20))[0]
        sound = (-(-start // frame) + int(loud[0])) * frame if len(loud) else start
        onsets.append((start / SR, sound / SR))
    return x, onsets


# How people reword numbers they read off a slide (applied with human=True). The
# aligner's own list of readings lives in audio.textnorm; this one is written apart.
_DIGITS = "oh one two three four five six seven eight nine".split()


def _human_number(tok: str, rng: np.random.Generator) -> str:
    if re.fullmatch(r"0\.\d+", tok):
        return "point " + " ".join(_DIGITS[int(d)] for d in tok[2:])
    if tok in ("1000", "1,000"):
        return "a thousand"
    if re.fullmatch(r"\d{3}", tok) and tok[1] != "0" and rng.random() < 0.5:
        return f"{tok[0]} {tok[1:]}"  # 259 as "two fifty-nine"
    return tok


def human_reading(text: str, rng: np.random.Generator, share: float = 0.7) -> str:
    """``text`` with some numbers reworded as a person might say them."""
    def sub(m: re.Match[str]) -> str:
        return _human_number(m.group(0), rng) if rng.random() < share else m.group(0)

    return re.sub(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])", sub, text)


def room(x: np.ndarray, rng: np.random.Generator, *, snr_db: float = 28.0,
         rt60: float = 0.35, echo: tuple[float, float] = (0.07, 0.25)) -> np.ndarray:
    """Reverberation (an exponentially decaying noise tail with ``rt60``), one discrete
    echo (delay s, gain) and room noise (brown-tinted, ``snr_db`` under the speech)."""
    n_ir = int(rt60 * SR)
    tail = rng.normal(0, 1, n_ir) * np.exp(-6.9 * np.arange(n_ir) / n_ir)
    ir = np.zeros(n_ir)
    ir[0] = 1.0
    ir[int(0.004 * SR) :] += 0.08 * tail[: n_ir - int(0.004 * SR)]
    ir[int(echo[0] * SR)] += echo[1]
    y = fftconvolve(x, ir)[: len(x)]
    speech = np.abs(x) > 0.01
    level = float(np.sqrt(np.mean(np.square(y[speech])))) if speech.any() else 0.1
    white = rng.normal(0, 1, len(y))
    brown = np.cumsum(white) * 0.02
    brown -= np.convolve(brown, np.ones(4801) / 4801, mode="same")  # no drift
    noise = white + brown
    noise *= level * 10 ** (-snr_db / 20) / float(np.sqrt(np.mean(np.square(noise))))
    y = y + noise
    return (y * (0.6 / float(np.abs(y).max()))).astype(np.float32)


def _pieces(sentence: str) -> list[tuple[str | None, str]]:
    """A sentence split at its bookmarks: (bookmark before the piece or None, text)."""
    out: list[tuple[str | None, str]] = []
    name: str | None = None
    pos = 0
    for m in MARK.finditer(sentence):
        if sentence[pos : m.start()].strip():
            out.append((name, sentence[pos : m.start()].strip()))
        name, pos = m.group(1), m.end()
    out.append((name, sentence[pos:].strip()))
    return [(n, t) for n, t in out if t]


def _spoken(
    voice: Voice, sentence: str, rng: np.random.Generator, *, human: bool,
    gaps: np.random.Generator | None,
) -> tuple[np.ndarray, str, dict[str, tuple[float, float]]]:
    """One sentence spoken: audio, what the voice was given, and each bookmark's true
    times (seconds into the audio: word start, first sound), in one piece, or in pieces
    joined by silences drawn from ``gaps`` (apart from ``rng``, so both modes read the
    same words)."""
    pieces = _pieces(sentence)
    texts = [human_reading(t, rng) if human else t for _, t in pieces]
    if gaps is None:
        x, onsets = say_whole(voice, texts)
        marks = {n: ([(0.0, 0.0), *onsets])[k] for k, (n, _) in enumerate(pieces)
                 if n is not None}
        return x, " ".join(texts), marks
    parts: list[np.ndarray] = []
    pos = 0
    marks: dict[str, tuple[float, float]] = {}
    for k, ((name, _), text) in enumerate(zip(pieces, texts, strict=True)):
        if k:
            parts.append(np.zeros(int(gaps.uniform(0.04, 0.12) * SR)))
            pos += len(parts[-1])
        if name is not None:
            marks[name] = (pos / SR, pos / SR)
        parts.append(say(voice, text))
        pos += len(parts[-1])
    return np.concatenate(parts), " ".join(texts), marks


def build_take(
    sentences: list[str], voice: Voice, *, seed: int, human: bool = True,
    pause: tuple[float, float] = (0.35, 0.9), lead: tuple[float, float] = (0.4, 1.5),
    snr_db: float = 28.0, pieces: bool | None = None,
) -> DisplayTake:
    """One take of ``sentences`` (display text, bookmarks allowed) read by ``voice``;
    ``pieces`` forces the piece mode (default: continuous when the voice has word events)."""
    whole = voice.word_events if pieces is None else not pieces
    if whole and not voice.word_events:
        raise ValueError(f"{voice.label} gives no word events: only pieces")
    rng = np.random.default_rng(seed)
    gaps = None if whole else np.random.default_rng([seed, 1])
    parts = [np.zeros(int(rng.uniform(*lead) * SR))]
    pos = len(parts[0])
    starts: list[float] = []
    marks: dict[str, float] = {}
    sounds: dict[str, float] = {}
    said: list[str] = []
    for i, sentence in enumerate(sentences):
        if i:
            parts.append(np.zeros(int(rng.uniform(*pause) * SR)))
            pos += len(parts[-1])
        starts.append(pos / SR)
        x, text, at = _spoken(voice, sentence, rng, human=human, gaps=gaps)
        marks.update({name: pos / SR + t for name, (t, _) in at.items()})
        sounds.update({name: pos / SR + t for name, (_, t) in at.items()})
        said.append(text)
        parts.append(x)
        pos += len(x)
    parts.append(np.zeros(int(rng.uniform(0.3, 0.8) * SR)))
    y = room(np.concatenate(parts), rng, snr_db=snr_db)
    return DisplayTake(y, " ".join(sentences), tuple(starts), marks, tuple(said), voice.label,
                       "continuous" if whole else "pieces", sounds)
