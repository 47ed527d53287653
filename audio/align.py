"""Word-level forced alignment of a recorded take to its text, offline, with pocketsphinx.

The text is what the speaker was asked to say (the script, or a transcript beside the
take). A lecturer reads numbers, formulas and abbreviations their own way, so each token
comes with all its readings (:func:`audio.textnorm.readings`): ``x_t`` as "x sub t" or
"x t", ``0.078`` as "zero point zero seven eight" or "point oh seven eight".

How (:func:`align`):

1. Each word is looked up in the US-English dictionary that the ``pocketsphinx`` wheel
   carries; a word missing from it is tried as a dictionary word plus a regular suffix
   (``-s``, ``-ed``, ``-ing``...), else spelled out when it is a short run of capitals
   that came through normalisation, else given a pronunciation by a letter-to-sound
   rule (:func:`letter_to_sound`).
2. The take is decoded at 16 kHz mono against a grammar that says the tokens in order,
   each in one of its readings, with wide beams; the recogniser picks the reading that
   was said, and the result holds the script's own words (the first reading of each
   token), timed by what was said for them. Word times are its 10 ms frames.
3. Forced alignment either reaches the end of the text or fails: sound that is not the
   text cannot be forced onto it within the beams. When the whole text fails, it is
   tried again with a *loose* grammar, where a number or formula may also be a loop of
   phones (said in a way no reading covers); when that fails too (an ad-lib, a changed
   sentence, another take), each sentence is aligned on its own near where the take's
   pauses put it (:func:`align_sentences`); the words of the sentences that align are
   *found*, the others are not.
4. Starts are anchored to the speech (:func:`anchor_starts`): a sentence aligned into
   the pause before it starts at the onset after that pause, a word aligned into a gap
   at the onset after the gap, and a word aligned just after a gap that the word before
   it did not reach at that gap's onset (:func:`quiet_stretches`, energy of 10 ms
   frames).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from audio.pcm import SAMPLE_RATE
from audio.sentences import Word

__all__ = [
    "ALIGN_RATE",
    "decoder",
    "recogniser_pcm",
    "MIN_FOUND_SHARE",
    "Alignment",
    "align",
    "align_words",
    "align_sentences",
    "align_readings",
    "anchor_starts",
    "onset_after_pause",
    "quiet_stretches",
    "pronunciation",
    "letter_to_sound",
    "aligner_version",
]

ALIGN_RATE = 16_000
FRAME = 0.01  # pocketsphinx's frame step, seconds
MIN_FOUND_SHARE = 0.6  # a take with fewer of its words found is off-script
ALIGN_REVISION = "align-v3"
# Wide beams, and no lattice best path: with it, the last words of a long take can be
# dropped for a one-frame end marker.
_DECODE = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80, "bestpath": False, "silprob": 0.1}


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


def recogniser_pcm(samples: np.ndarray, sr: int) -> np.ndarray:
    """Mono 16-bit samples at :data:`ALIGN_RATE`, scaled to a fixed peak: what the
    recogniser reads, for alignment (:func:`align`) and free recognition
    (:mod:`audio.recognise`) alike."""
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
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")


def decoder(**kw: object) -> Any:  # a pocketsphinx Decoder (pocketsphinx is untyped)
    from pocketsphinx import Decoder

    return Decoder(samprate=ALIGN_RATE, loglevel="FATAL", **kw)


Slot = tuple[tuple[str, ...], ...]  # one token's readings, the script's own first


def _clean_slots(slots: list[Slot]) -> list[Slot]:
    """Readings in lower case with only letters and apostrophes; a slot whose own reading
    is empty is dropped (nothing of it can be timed), and so is any empty reading."""
    out = []
    for slot in slots:
        clean = [tuple(w.lower() for w in r if re.fullmatch(r"[a-z']+", w.lower()))
                 for r in slot]
        if clean and clean[0]:
            out.append(tuple(r for r in dict.fromkeys(clean) if r))
    return out


# Phones of the US-English model, each a "word" of the loose grammar's phone loop.
_PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH "
           "T TH UH UW V W Y Z ZH").split()
_LOOP = "qq"  # prefix of the phone words (no English word starts so)
LOOSE_PROB = 1e-3  # how unlikely the phone loop is, against a slot's own readings


def _spelled(slot: Slot) -> bool:
    """Whether a token is read as several words or in several ways: a number, a formula,
    a symbol, an abbreviation, an acronym. A lecturer may say it some other way still."""
    return len(slot) > 1 or len(slot[0]) > 1


def _grammar(d: Any, slots: list[Slot], loose: bool = False) -> Any:
    """A finite-state grammar that says the slots in order, each in one of its readings.

    ``loose``: a slot that is spelled out (:func:`_spelled`) may also be said some other
    way, a loop of phones, at a low prior.
    """
    transitions: list[tuple[int, ...] | tuple[int, int, float, str]] = []
    state = 0
    nxt = 1
    for slot in slots:
        end = nxt
        nxt += 1
        if loose and _spelled(slot):  # (no null transitions: the search ignores them)
            loop = nxt
            nxt += 1
            for ph in (_LOOP + p.lower() for p in _PHONES):
                transitions.append((state, loop, LOOSE_PROB / len(_PHONES), ph))
                transitions.append((loop, loop, 0.5 / len(_PHONES), ph))
                transitions.append((loop, end, 0.5 / len(_PHONES), ph))
        for reading in slot:
            here = state
            for k, w in enumerate(reading):
                to = end if k == len(reading) - 1 else nxt
                if to != end:
                    nxt += 1
                transitions.append((here, to, 1.0 / len(slot) if k == 0 else 1.0, w))
                here = to
        state = end
    return d.create_fsg("take", 0, state, transitions)


def _parse(words: list[str], slots: list[Slot]) -> list[tuple[int, int]] | None:
    """Which reading of each slot the decoded ``words`` are, and how many words each
    took (reading -1: the phone loop); None when they are not the slots."""
    memo: dict[tuple[int, int], list[tuple[int, int]] | None] = {}

    def go(k: int, p: int) -> list[tuple[int, int]] | None:
        if k == len(slots):
            return [] if p == len(words) else None
        if (k, p) not in memo:
            memo[(k, p)] = None
            options = [(i, len(r)) for i, r in enumerate(slots[k])
                       if tuple(words[p : p + len(r)]) == r]
            loop = p
            while loop < len(words) and words[loop].startswith(_LOOP):
                loop += 1
            if loop > p:
                options.append((-1, loop - p))
            for i, n in options:
                rest = go(k + 1, p + n)
                if rest is not None:
                    memo[(k, p)] = [(i, n), *rest]
                    break
        return memo[(k, p)]

    return go(0, 0)


def _canonical_words(
    segs: list[Word], slots: list[Slot], chosen: list[tuple[int, int]]
) -> list[Word]:
    """The script's own words with times: a slot said another way gives its words the
    time of what was said, shared in proportion to their letters."""
    out: list[Word] = []
    p = 0
    for slot, (i, n) in zip(slots, chosen, strict=True):
        said = segs[p : p + n]
        p += n
        if i == 0:
            out.extend(said)
            continue
        own = slot[0]
        a = said[0].start if said else (out[-1].end if out else 0.0)
        b = said[-1].end if said else a
        weights = np.cumsum([0] + [len(w) + 1 for w in own], dtype=float)
        edges = a + (b - a) * weights / weights[-1]
        out.extend(Word(w, float(edges[j]), float(edges[j + 1])) for j, w in enumerate(own))
    return out


def align_readings(
    samples: np.ndarray, slots: list[Slot], *, sr: int = SAMPLE_RATE, fillers: bool = True,
    loose: bool = False,
) -> Alignment:
    """Align a text given as slots (:func:`audio.textnorm.readings`) to ``samples``.

    The decoder chooses, for each slot, the reading that was said; the result holds the
    script's own words (the first reading of each slot), so it lines up with
    :func:`audio.textnorm.spoken_words`. Uncached. ``fillers`` lets silence and noise
    sit between words (precise word edges); without them the search fails less often,
    but pauses are counted into the words. ``loose``: see :func:`_grammar`; a slot said
    in none of its readings is placed where the phone loop was, its words count as found.
    """
    slots = _clean_slots(slots)
    expected = sum(len(s[0]) for s in slots)
    if not slots or len(samples) < sr * 0.1:
        return Alignment((), (), expected)
    pcm = recogniser_pcm(samples, sr).tobytes()
    d = decoder(fsgusefiller=fillers, **_DECODE)
    vocab = dict.fromkeys(w for s in slots for r in s for w in r)
    new = [(w, ph) for w in vocab if (ph := pronunciation(w, d.lookup_word))]
    if loose:
        new += [(_LOOP + ph.lower(), ph) for ph in _PHONES]
    for i, (w, ph) in enumerate(new):
        d.add_word(w, ph, update=i == len(new) - 1)
    try:
        d.add_fsg("take", _grammar(d, slots, loose))
        d.activate_search("take")
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
    except (RuntimeError, ValueError):
        return Alignment((), (), expected)
    if d.hyp() is None:
        return Alignment((), (), expected)
    end_s = len(samples) / sr
    segs: list[Word] = []
    for s in d.seg():
        if s.word.startswith(("<", "[")):
            continue
        start = min(s.start_frame * FRAME, end_s)
        end = min(max(start, (s.end_frame + 1) * FRAME), end_s)
        segs.append(Word(re.sub(r"\(\d+\)$", "", s.word), start, end))
    chosen = _parse([w.text for w in segs], slots)
    if chosen is None:  # the decoder stopped short of the text's end
        return Alignment((), (), expected)
    out = _canonical_words(segs, slots, chosen)
    return Alignment(tuple(out), (True,) * len(out), expected)


def align_words(
    samples: np.ndarray, words: list[str], *, sr: int = SAMPLE_RATE, fillers: bool = True
) -> Alignment:
    """Align ``words`` (already normalised, lower-case letters), each read one way only."""
    return align_readings(samples, [((w,),) for w in words], sr=sr, fillers=fillers)


def _shift(a: Alignment, offset: float, end: float) -> Alignment:
    words = tuple(
        Word(w.text, min(w.start + offset, end), min(w.end + offset, end)) for w in a.words
    )
    return Alignment(words, a.found, a.expected, a.sentence)


def _as_slots(sentence: Sequence[str | Slot]) -> list[Slot]:
    return [((w,),) if isinstance(w, str) else w for w in sentence]


def align_sentences(
    samples: np.ndarray,
    sentences: Sequence[Sequence[str | Slot]],
    windows: list[tuple[float, float]] | None = None,
    *,
    sr: int = SAMPLE_RATE,
) -> Alignment:
    """Align the whole text; when the decoder cannot, align sentence by sentence; then
    anchor each sentence's start to the speech onset (:func:`anchor_starts`).

    ``sentences`` are the text's words sentence by sentence, each a word or a slot of
    readings (:func:`audio.textnorm.readings`). ``windows`` (seconds, one per
    sentence, e.g. from the take's pauses) say where each sentence is probably spoken:
    a sentence is aligned in its window widened by 0.5 s each side, and a sentence that
    cannot be aligned there counts as not found. This keeps the parts of a take that
    follow the text when others do not (an ad-lib, a changed sentence).
    """
    slotted = [_clean_slots(_as_slots(s)) for s in sentences]
    flat = [w for s in slotted for w in s]
    index = tuple(i for i, s in enumerate(slotted) for slot in s for _ in slot[0])
    expected = len(index)
    whole = align_readings(samples, flat, sr=sr)
    if not whole.words and any(map(_spelled, flat)):
        whole = align_readings(samples, flat, sr=sr, loose=True)
    if whole.words or not flat or windows is None or len(sentences) < 2:
        result = Alignment(whole.words, whole.found, expected, index if whole.words else ())
        return anchor_starts(samples, result, sr=sr)
    total = len(samples) / sr
    words: list[Word] = []
    found: list[bool] = []
    where: list[int] = []
    for i, (ws, (a, b)) in enumerate(zip(slotted, windows, strict=True)):
        lo, hi = max(0.0, a - 0.5), min(total, b + 0.5)
        chunk = samples[int(lo * sr) : int(hi * sr)]
        part = align_readings(chunk, ws, sr=sr)
        if not part.words and any(map(_spelled, ws)):
            part = align_readings(chunk, ws, sr=sr, loose=True)
        if part.words:
            part = _shift(part, lo, total)
            if words and part.words[0].start < words[-1].end:
                continue  # overlaps the sentence before: not where it was looked for
            words.extend(part.words)
            found.extend(part.found)
            where.extend([i] * len(part.words))
    return anchor_starts(samples, Alignment(tuple(words), tuple(found), expected, tuple(where)),
                         sr=sr)


# ------------------------------------------------------------------ onsets

ONSET_FRAME = 0.01  # seconds per frame of the energy analysis
MIN_GAP = 0.04  # a quiet stretch at least this long between words is a gap
MIN_PAUSE = 0.12  # a quiet stretch at least this long is a pause (sentences end in one)
SNAP = 0.15  # a sentence aligned this close after a pause's end starts at that end
# A start this close before an onset is kept: a soft first sound ("f", "h") can sit under
# the room's noise, where only the recogniser hears it.
LEEWAY = 0.12
HEAD = 0.08  # a gap this soon after a word's aligned start ends the word before it
TAIL = 0.15  # a word aligned this soon after a gap's onset that no word reached starts there


@dataclass(frozen=True)
class Quiet:
    """The quiet stretches of a take (seconds), from the energy of 10 ms frames.

    A frame is quiet under ``max(floor + 12, loud - 30)`` dB, where ``floor`` is the
    10th and ``loud`` the 95th percentile of frame levels: above room noise and the
    echo's tail, well under speech. Where a stretch ends, speech starts; its *onset*
    is found walking back from there over frames above ``floor + 6`` dB, so a soft
    first sound ("h", "f") counts as speech.
    """

    stretches: tuple[tuple[float, float], ...]  # (start, end) of each quiet stretch
    onsets: tuple[float, ...]  # where speech starts after each stretch

    def holding(self, t: float, least: float) -> int | None:
        """Index of the stretch at least ``least`` long holding ``t``, if any."""
        for k, (a, b) in enumerate(self.stretches):
            if a - 0.02 <= t < b and (b - a >= least or a == 0.0):
                return k
        return None


def quiet_stretches(samples: np.ndarray, *, sr: int = SAMPLE_RATE) -> Quiet:
    """The take's quiet stretches of at least :data:`MIN_GAP` (see :class:`Quiet`)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    frame = max(1, int(sr * ONSET_FRAME))
    n = len(x) // frame
    if n == 0:
        return Quiet((), ())
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-7))
    floor, loud = float(np.percentile(db, 10)), float(np.percentile(db, 95))
    quiet = db < max(floor + 12.0, loud - 30.0)
    soft = floor + 6.0
    stretches: list[tuple[float, float]] = []
    onsets: list[float] = []
    k = 0
    while k < n:
        if not quiet[k]:
            k += 1
            continue
        j = k
        while j < n and quiet[j]:
            j += 1
        if (j - k) * ONSET_FRAME >= MIN_GAP or k == 0:
            on = j
            while on > k and db[on - 1] >= soft:
                on -= 1
            stretches.append((k * ONSET_FRAME, j * ONSET_FRAME))
            onsets.append(on * ONSET_FRAME)
        k = j
    return Quiet(tuple(stretches), tuple(onsets))


def _sentence_onset(start: float, q: Quiet) -> float:
    """Where a sentence aligned to ``start`` begins: the onset after the pause holding
    it, else the nearest onset after a pause within :data:`SNAP` before it."""
    k = q.holding(start, MIN_PAUSE)
    if k is not None:
        return q.onsets[k] if q.onsets[k] - start > LEEWAY else start
    near = [q.onsets[i] for i, (a, b) in enumerate(q.stretches)
            if b - a >= MIN_PAUSE and 0 <= start - q.onsets[i] <= SNAP]
    return max(near) if near else start


def _word_onset(w: Word, q: Quiet, before: float) -> float:
    """A word aligned to start inside a gap, or just before one, starts at the onset
    after it; one aligned to start just after a gap that the word ``before`` it (its end)
    did not reach, at that gap's onset."""
    k = q.holding(w.start, MIN_GAP)
    if k is not None:
        return q.onsets[k] if q.onsets[k] - w.start > LEEWAY else w.start
    for (a, b), on in zip(q.stretches, q.onsets, strict=True):
        if w.start < a <= w.start + HEAD and on < w.end and b - a >= MIN_GAP:
            return on
    for (a, _), on in zip(q.stretches, q.onsets, strict=True):
        if before <= on < w.start <= on + TAIL and a < on:
            return on
    return w.start


def onset_after_pause(samples: np.ndarray, after: float, before: float, *,
                      sr: int = SAMPLE_RATE) -> float | None:
    """The first speech onset after a pause that ends after ``after`` and before
    ``before`` (seconds); None when there is none. Where a sentence that could
    not be aligned starts, when the sentence before it ended at ``after``."""
    q = quiet_stretches(samples, sr=sr)
    for (a, b), on in zip(q.stretches, q.onsets, strict=True):
        if b > after and b - a >= MIN_PAUSE and on < before:
            return on
    return None


def anchor_starts(
    samples: np.ndarray, alignment: Alignment, *, sr: int = SAMPLE_RATE
) -> Alignment:
    """Words start where speech starts: each sentence at the onset after its pause.

    Forced alignment places a sentence whose words were said otherwise where its words
    fit best, which is often in the pause before it, and a word after a short gap often
    inside the gap, or after the onset that follows it. Speech starts where a quiet
    stretch ends (:func:`quiet_stretches`), so a word whose start is in a gap moves to
    the gap's onset, as does one that starts up to :data:`TAIL` after that onset when the
    word before it ended before the onset (no word holds that speech), and a sentence's first
    word to the onset after the pause holding it (or just before it). A start never
    moves past its word's end, nor before the previous word's end.
    """
    if not alignment.words:
        return alignment
    q = quiet_stretches(samples, sr=sr)
    words = list(alignment.words)
    index = alignment.sentence or (0,) * len(words)
    for k, w in enumerate(words):
        first = k == 0 or index[k] != index[k - 1]
        start = _sentence_onset(w.start, q) if first else _word_onset(w, q, words[k - 1].end)
        if k:
            start = max(start, words[k - 1].end)
        if start != w.start and start < w.end:
            words[k] = Word(w.text, start, w.end)
    return Alignment(tuple(words), alignment.found, alignment.expected, alignment.sentence)


def align(
    samples: np.ndarray,
    sentences: Sequence[Sequence[str | Slot]],
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
    h.update(recogniser_pcm(samples, sr).tobytes())
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
