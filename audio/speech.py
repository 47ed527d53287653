"""Narration synthesised with espeak-ng, sentence by sentence, cached by content hash.

Each sentence is spoken by its own ``espeak-ng`` run (22.05 kHz mono), resampled to
48 kHz stereo, trimmed of leading/trailing silence (keeping a few milliseconds and a
short fade so nothing clicks), and the sentences are joined with a fixed pause of
:data:`SENTENCE_PAUSE` seconds. Sentence times are therefore exact, not estimated.

Cache layout (``cache_dir``): ``<slug>-<key16>.wav`` (48 kHz stereo 16-bit PCM) and
``<slug>-<key16>.json`` (sentence times, key, producer). Both are written to a
temporary name and renamed; the JSON is written last and is what marks an entry valid.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from audio.clips import SAMPLE_RATE, NarrationError, read_wav, to_internal, write_wav
from audio.sentences import Sentence, split_sentences

if TYPE_CHECKING:
    from audio.narration import Narration

__all__ = [
    "SENTENCE_PAUSE",
    "espeak_binary",
    "espeak_version",
    "check_voice",
    "speech_cache_key",
    "speak",
    "silent_narration",
    "trim_silence",
]

SENTENCE_PAUSE = 0.35  # seconds of silence between sentences
EDGE_KEEP = 0.012  # seconds kept before the first / after the last voiced sample
FADE = 0.005  # seconds of linear fade in/out at each sentence edge
TRIM_THRESHOLD = 10 ** (-50 / 20)  # |amplitude| above this counts as voiced (-50 dBFS)
# Bump when the synthesis or the cache format changes, so old entries are not reused.
SYNTH_REVISION = "speak-v1"


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

    Needed because espeak-ng reading ``--stdin`` falls back to a default voice silently.
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


def speech_cache_key(text: str, *, voice: str, wpm: int, version: str) -> str:
    """Content hash (sha256 hex) of everything that decides the synthesised audio."""
    payload = {
        "revision": SYNTH_REVISION,
        "sentences": split_sentences(text),
        "voice": voice,
        "wpm": int(wpm),
        "espeak_ng": version,
        "rate": SAMPLE_RATE,
        "pause": SENTENCE_PAUSE,
        "edge": EDGE_KEEP,
        "fade": FADE,
        "threshold": TRIM_THRESHOLD,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def trim_silence(x: np.ndarray, *, threshold: float = TRIM_THRESHOLD) -> np.ndarray:
    """Cut leading/trailing silence of ``[n, 2]`` audio, keep :data:`EDGE_KEEP`, fade edges.

    Returns an empty array when nothing is above ``threshold``.
    """
    loud = np.nonzero(np.max(np.abs(x), axis=1) > threshold)[0]
    if len(loud) == 0:
        return x[:0].copy()
    keep = int(round(EDGE_KEEP * SAMPLE_RATE))
    a = max(0, int(loud[0]) - keep)
    b = min(len(x), int(loud[-1]) + 1 + keep)
    y = np.array(x[a:b], dtype=np.float32)
    nf = min(int(round(FADE * SAMPLE_RATE)), len(y) // 2)
    if nf > 0:
        ramp = np.linspace(0.0, 1.0, nf, endpoint=False, dtype=np.float32)[:, None]
        y[:nf] *= ramp
        y[len(y) - nf :] *= ramp[::-1]
    return y


def _slug(text: str, words: int = 5) -> str:
    tokens = re.findall(r"[a-z0-9]+", text.lower())[:words]
    return "-".join(tokens)[:40] or "speech"


def _run_espeak(binary: str, sentence: str, *, voice: str, wpm: int) -> np.ndarray:
    """One espeak-ng run -> ``[n, 2]`` float32 at 48 kHz (not trimmed)."""
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        out = Path(tmp) / "s.wav"
        run = subprocess.run(
            [binary, "-v", voice, "-s", str(int(wpm)), "-w", str(out), "--stdin"],
            input=sentence,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if run.returncode != 0 or not out.is_file():
            err = (run.stderr or run.stdout).strip().splitlines()
            raise NarrationError(
                f"espeak-ng (voice {voice!r}) failed on {sentence[:40]!r}: "
                f"{err[0] if err else f'exit code {run.returncode}'}"
            )
        x, sr = read_wav(out)
    return to_internal(x, sr)


def _load_cached(wav: Path, meta: Path, key: str) -> tuple[np.ndarray, tuple[Sentence, ...]] | None:
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if info.get("key") != key:
            return None
        x, sr = read_wav(wav)
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        return None
    if sr != SAMPLE_RATE or x.shape[1] != 2 or len(x) != info.get("frames"):
        return None
    sentences = tuple(Sentence(s["text"], s["start"], s["end"]) for s in info["sentences"])
    return x, sentences


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


def speak(text: str, *, cache_dir: str | Path, voice: str = "en-us", wpm: int = 160) -> Narration:
    """Synthesise ``text`` with espeak-ng, or load it from ``cache_dir``.

    Raises :class:`NarrationError` when espeak-ng is missing, the voice does not exist,
    or the text has no sentences.
    """
    from audio.narration import Narration  # runtime import: narration imports this module

    sentences = split_sentences(text)
    if not sentences:
        raise NarrationError("speak: the script is empty, nothing to say")
    binary = espeak_binary()
    if binary is None:
        raise NarrationError("espeak-ng not found on PATH")
    check_voice(binary, voice)
    version = espeak_version(binary)
    assert version is not None
    key = speech_cache_key(text, voice=voice, wpm=wpm, version=version)
    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{_slug(text)}-{key[:16]}"
    wav, meta = folder / f"{stem}.wav", folder / f"{stem}.json"
    detail = f"espeak-ng {version} voice {voice} {int(wpm)} wpm"

    cached = _load_cached(wav, meta, key)
    if cached is None:
        pause = np.zeros((int(round(SENTENCE_PAUSE * SAMPLE_RATE)), 2), dtype=np.float32)
        parts: list[np.ndarray] = []
        times: list[tuple[int, int]] = []
        pos = 0
        for s in sentences:
            chunk = trim_silence(_run_espeak(binary, s, voice=voice, wpm=wpm))
            if len(chunk) == 0:  # e.g. a sentence of punctuation only
                chunk = np.zeros((int(0.1 * SAMPLE_RATE), 2), dtype=np.float32)
            if parts:
                parts.append(pause)
                pos += len(pause)
            parts.append(chunk)
            times.append((pos, pos + len(chunk)))
            pos += len(chunk)
        audio = np.concatenate(parts)
        info = {
            "key": key,
            "producer": detail,
            "text": text,
            "frames": len(audio),
            "sample_rate": SAMPLE_RATE,
            "sentences": [
                {"text": s, "start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE}
                for s, (a, b) in zip(sentences, times, strict=True)
            ],
        }
        _atomic_write(wav, lambda p: write_wav(p, audio, SAMPLE_RATE))
        _atomic_write(
            meta,
            lambda p: p.write_text(json.dumps(info, indent=1, ensure_ascii=False), "utf-8"),
        )
        # What was stored (16-bit) is what every later call gets: read it back.
        cached = _load_cached(wav, meta, key)
        if cached is None:
            raise NarrationError(f"{wav}: speech cache entry unreadable right after writing")
    samples, times_s = cached
    return Narration(
        source="espeak",
        samples=samples,
        sentences=times_s,
        path=wav,
        detail=detail,
        cache_key=key,
    )


def silent_narration(text: str, *, wpm: int = 160) -> Narration:
    """Silence as long as ``text`` takes to read at ``wpm``; sentence times estimated.

    Each sentence lasts ``max(0.8, words * 60 / wpm)`` seconds; sentences are separated
    by :data:`SENTENCE_PAUSE`. An empty text gives an empty narration.
    """
    from audio.narration import Narration  # runtime import: narration imports this module

    if wpm <= 0:
        raise ValueError(f"silent_narration: wpm must be > 0, got {wpm}")
    sentences = split_sentences(text)
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
