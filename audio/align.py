"""Word-level forced alignment of a recorded take to its text, offline, with pocketsphinx.

The text is what the speaker was asked to say (the script, or a transcript beside the
take); its words are those of :func:`audio.textnorm.spoken_words`, so ``x_t`` is aligned
as "x sub t" and ``0.5`` as "zero point five", exactly what a voice says for them.

How (:func:`align`):

1. Each word is looked up in the US-English dictionary that the ``pocketsphinx`` wheel
   carries; a word missing from it is tried as a dictionary word plus a regular suffix
   (``-s``, ``-ed``, ``-ing``...), else spelled out when it is a short run of capitals
   that came through normalisation, else given a pronunciation by a letter-to-sound
   rule (:func:`letter_to_sound`).
2. The take is decoded at 16 kHz mono in pocketsphinx's alignment mode
   (``set_align_text``) with wide beams; word times are its 10 ms frames.
3. Forced alignment either reaches the end of the text or fails: sound that is not the
   text cannot be forced onto it within the beams. When the whole text fails (an ad-lib,
   a changed sentence, another take), each sentence is aligned on its own near where
   the take's pauses put it (:func:`align_sentences`); the words of the sentences that
   align are *found*, the others are not.

The result says which share of the text's words was found; :data:`MIN_FOUND_SHARE` is
the share under which a take is *off-script* (its captions are approximate). Results
are cached under a hash of the audio, the text and :data:`ALIGN_REVISION`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from audio.pcm import SAMPLE_RATE
from audio.sentences import Word

__all__ = [
    "ALIGN_RATE",
    "MIN_FOUND_SHARE",
    "Alignment",
    "align",
    "align_words",
    "align_sentences",
    "pronunciation",
    "letter_to_sound",
    "aligner_version",
]

ALIGN_RATE = 16_000
FRAME = 0.01  # pocketsphinx's frame step, seconds
MIN_FOUND_SHARE = 0.6  # a take with fewer of its words found is off-script
ALIGN_REVISION = "align-v1"
# Wide beams, and no lattice best path: with it, the last words of a long take can be
# dropped for a one-frame end marker.
_DECODE = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80, "bestpath": False}


@dataclass(frozen=True)
class Alignment:
    """Words of a text found in a take, with their times (seconds into the take).

    ``words`` holds every word the decoder placed, in text order; ``found`` flags
    which of them passed the confidence check. ``expected`` is how many words the text
    has, so ``share`` is the share of the text found in the take.
    """

    words: tuple[Word, ...]
    found: tuple[bool, ...]
    expected: int
    sentence: tuple[int, ...] = ()  # index of the sentence each word belongs to

    @property
    def share(self) -> float:
        return sum(self.found) / self.expected if self.expected else 1.0

    @property
    def on_script(self) -> bool:
        return self.share >= MIN_FOUND_SHARE

    def found_words(self) -> tuple[Word, ...]:
        return tuple(w for w, ok in zip(self.words, self.found, strict=True) if ok)


# ------------------------------------------------------------------ pronunciations

_LTS_MULTI = (
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("igh", "AY"),
    ("sch", "S K"), ("tch", "CH"), ("dge", "JH"),
    ("sh", "SH"), ("ch", "CH"), ("th", "TH"), ("ph", "F"), ("ng", "NG"), ("ck", "K"),
    ("qu", "K W"), ("wh", "W"), ("kn", "N"), ("wr", "R"), ("gh", "G"),
    ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ai", "EY"), ("ay", "EY"),
    ("oa", "OW"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("ow", "OW"),
    ("ie", "IY"), ("ei", "EY"), ("ey", "IY"), ("ue", "UW"), ("ew", "UW"),
    ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"),
)
_LTS_ONE = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "Y", "z": "Z",
}
_SUFFIXES = (
    ("ing", "IH NG"), ("ings", "IH NG Z"), ("ed", "D"), ("es", "Z"), ("s", "Z"),
    ("er", "ER"), ("ers", "ER Z"), ("ly", "L IY"), ("ness", "N AH S"), ("al", "AH L"),
)


def letter_to_sound(word: str) -> str:
    """A rough ARPAbet pronunciation from spelling alone (the last resort for unknown words).

    Greedy longest match over common English letter groups (``tion``, ``sh``, ``ee``,
    ...), single letters otherwise; a doubled consonant is one sound, a final silent
    ``e`` after a consonant is dropped, ``c`` before ``e``/``i``/``y`` is ``S``, a final
    ``y`` after a consonant is ``IY``.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return "AH"
    if len(w) > 3 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]
    phones: list[str] = []
    i = 0
    while i < len(w):
        for group, ph in _LTS_MULTI:
            if w.startswith(group, i):
                phones.extend(ph.split())
                i += len(group)
                break
        else:
            c = w[i]
            if i and c == w[i - 1] and c not in "aeiou":
                i += 1
                continue
            if c == "c" and i + 1 < len(w) and w[i + 1] in "eiy":
                phones.append("S")
            elif c == "y" and i == len(w) - 1 and i and w[i - 1] not in "aeiou":
                phones.append("IY")
            elif c == "y" and 0 < i < len(w) - 1:
                phones.append("IH")
            else:
                phones.extend(_LTS_ONE[c].split())
            i += 1
    return " ".join(phones)


def pronunciation(word: str, lookup: Callable[[str], str | None]) -> str | None:
    """Phones for ``word`` when the dictionary lacks it; ``None`` when it has it.

    ``lookup`` is the decoder's ``lookup_word``. Order: dictionary word plus a regular
    suffix, letters spelled out for a short all-consonant word, letter-to-sound.
    """
    w = word.lower()
    if lookup(w):
        return None
    for suffix, ph in _SUFFIXES:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[: -len(suffix)]
            for base in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else None):
                if base and lookup(base):
                    return f"{lookup(base)} {ph}"
    if len(w) <= 4 and not re.search(r"[aeiouy]", w):
        spelled = [lookup(c) for c in w]
        if all(spelled):
            return " ".join(cast("list[str]", spelled))  # all(spelled): no None left
    return letter_to_sound(w)


# ------------------------------------------------------------------ decoding


@functools.lru_cache(maxsize=1)
def aligner_version() -> str:
    from importlib.metadata import version

    return f"pocketsphinx {version('pocketsphinx')}"


def _pcm16k(samples: np.ndarray, sr: int) -> bytes:
    from fractions import Fraction

    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sr != ALIGN_RATE and len(x):
        r = Fraction(ALIGN_RATE, sr)
        x = resample_poly(x, r.numerator, r.denominator)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak > 0:  # the decoder's features are level-independent, but 16-bit needs range
        x = x * (0.5 / peak)
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2").tobytes()


def _decoder(**kw: object) -> Any:  # a pocketsphinx Decoder (pocketsphinx is untyped)
    from pocketsphinx import Decoder

    return Decoder(samprate=ALIGN_RATE, loglevel="FATAL", **kw)


def align_words(
    samples: np.ndarray, words: list[str], *, sr: int = SAMPLE_RATE, fillers: bool = True
) -> Alignment:
    """Align ``words`` (already normalised, lower-case letters) to ``samples``. Uncached.

    ``fillers`` lets silence and noise sit between words (precise word edges); without
    them the search fails less often, but pauses are counted into the words.
    """
    words = [w.lower() for w in words if re.fullmatch(r"[a-z']+", w.lower())]
    if not words or len(samples) < sr * 0.1:
        return Alignment((), (), len(words))
    pcm = _pcm16k(samples, sr)
    d = _decoder(fsgusefiller=fillers, **_DECODE)
    new = [(w, ph) for w in dict.fromkeys(words) if (ph := pronunciation(w, d.lookup_word))]
    for i, (w, ph) in enumerate(new):
        d.add_word(w, ph, update=i == len(new) - 1)
    try:
        d.set_align_text(" ".join(words))
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
    except RuntimeError:
        return Alignment((), (), len(words))
    if d.hyp() is None:
        return Alignment((), (), len(words))
    segs = [s for s in d.seg() if not s.word.startswith(("<", "["))]
    if len(segs) != len(words):  # the decoder stopped short of the text's end
        return Alignment((), (), len(words))
    out: list[Word] = []
    end_s = len(samples) / sr
    for s in segs:
        text = re.sub(r"\(\d+\)$", "", s.word)
        start = min(s.start_frame * FRAME, end_s)
        out.append(Word(text, start, min(max(start, (s.end_frame + 1) * FRAME), end_s)))
    return Alignment(tuple(out), (True,) * len(out), len(words))


def _shift(a: Alignment, offset: float, end: float) -> Alignment:
    words = tuple(
        Word(w.text, min(w.start + offset, end), min(w.end + offset, end)) for w in a.words
    )
    return Alignment(words, a.found, a.expected, a.sentence)


def align_sentences(
    samples: np.ndarray,
    sentences: list[list[str]],
    windows: list[tuple[float, float]] | None = None,
    *,
    sr: int = SAMPLE_RATE,
) -> Alignment:
    """Align the whole text; when the decoder cannot, align sentence by sentence.

    ``sentences`` are the text's words sentence by sentence. ``windows`` (seconds, one per
    sentence, e.g. from the take's pauses) say where each sentence is probably spoken:
    a sentence is aligned in its window widened by 0.5 s each side, and a sentence that
    cannot be aligned there counts as not found. This keeps the parts of a take that
    follow the text when others do not (an ad-lib, a changed sentence).
    """
    flat = [w for s in sentences for w in s]
    index = tuple(i for i, s in enumerate(sentences) for _ in s)
    whole = align_words(samples, flat, sr=sr)
    if whole.words or not flat or windows is None or len(sentences) < 2:
        return Alignment(whole.words, whole.found, len(flat), index if whole.words else ())
    total = len(samples) / sr
    words: list[Word] = []
    found: list[bool] = []
    where: list[int] = []
    for i, (ws, (a, b)) in enumerate(zip(sentences, windows, strict=True)):
        lo, hi = max(0.0, a - 0.5), min(total, b + 0.5)
        chunk = samples[int(lo * sr) : int(hi * sr)]
        part = align_words(chunk, ws, sr=sr)
        if part.words:
            part = _shift(part, lo, total)
            if words and part.words[0].start < words[-1].end:
                continue  # overlaps the sentence before: not where it was looked for
            words.extend(part.words)
            found.extend(part.found)
            where.extend([i] * len(part.words))
    return Alignment(tuple(words), tuple(found), len(flat), tuple(where))


def align(
    samples: np.ndarray,
    sentences: list[list[str]],
    windows: list[tuple[float, float]] | None = None,
    *,
    sr: int = SAMPLE_RATE,
    cache_dir: str | Path | None = None,
) -> Alignment:
    """:func:`align_sentences`, cached in ``cache_dir`` (when given) by audio and text."""
    if cache_dir is None:
        return align_sentences(samples, sentences, windows, sr=sr)
    h = hashlib.sha256()
    h.update(json.dumps([ALIGN_REVISION, aligner_version(), sr, sentences, windows]).encode())
    h.update(np.ascontiguousarray(_pcm16k(samples, sr)).tobytes())
    path = Path(cache_dir) / f"align-{h.hexdigest()[:24]}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Alignment(
                tuple(Word(t, a, b) for t, a, b in data["words"]),
                tuple(bool(f) for f in data["found"]),
                int(data["expected"]),
                tuple(int(i) for i in data["sentence"]),
            )
        except (ValueError, KeyError, TypeError):
            pass  # a damaged entry is recomputed
    result = align_sentences(samples, sentences, windows, sr=sr)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(
            {
                "words": [[w.text, w.start, w.end] for w in result.words],
                "found": list(result.found),
                "expected": result.expected,
                "sentence": list(result.sentence),
            },
            f,
        )
    os.replace(tmp, path)
    return result
