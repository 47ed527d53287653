"""What a take really says, offline: free speech recognition with pocketsphinx.

A take that does not follow its script (:data:`audio.align.MIN_FOUND_SHARE`) and has no
transcript beside it is transcribed here, so its captions show what was said. The
result is a *draft*: pocketsphinx's general US-English model mishears words, and it
hears no punctuation. The author corrects the draft and saves it beside the take.

How (:func:`recognise`):

1. The take is decoded at 16 kHz mono with the acoustic model, dictionary and trigram
   language model of general US English that the ``pocketsphinx`` wheel carries, one
   utterance per voiced stretch (pocketsphinx's own voice-activity ``Segmenter``), so a
   long take never becomes one long search.
2. Nothing of the script steers it: biasing towards the script's words was measured
   (``bench/bench_recognise.py``, figures in ``bench/results/recognise.md``) and was not
   worth keeping. Adding the script's words that the general model lacks (``cosine``,
   ``noising``) as unigrams never made it hear them; a small n-gram model of the script
   in place of the general one was no better on average for a clear voice (better on
   degraded takes, worse on most clean ones) and pulls a draft towards words of the
   script that were not said, which an author correcting it would miss. A draft
   depends on the audio alone.
3. Words are grouped into sentences at the pauses between them (:func:`sentences_of`):
   a pause of :data:`SENTENCE_PAUSE` ends a sentence, and a sentence longer than
   :data:`MAX_WORDS` is cut at its longest pause. Each sentence is capitalised and ends
   with a full stop, and the grouping is the one :func:`audio.sentences.split_sentences`
   reads back from the draft (:func:`draft_text`), so a draft saved as the take's
   transcript gives the same sentences.

Results are cached under a hash of the audio and :data:`REVISION`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.align import ALIGN_RATE, FRAME, decoder, recogniser_pcm
from audio.pcm import SAMPLE_RATE
from audio.sentences import Sentence, Word, split_sentences

__all__ = [
    "REVISION",
    "Recognition",
    "recognise",
    "recognise_words",
    "sentences_of",
    "draft_text",
    "word_error_rate",
]

REVISION = "recognise-v2"
SENTENCE_PAUSE = 0.45  # s of silence between two words that ends a sentence
MAX_WORDS = 18  # a longer run of words is cut at its longest pause
_PAD = 0.3  # s of silence around the take for the voice-activity segmenter
_FILLER = re.compile(r"^(<.*>|\[.*\])$")


@dataclass(frozen=True)
class Recognition:
    """The words heard in a take (seconds into it), and their sentences."""

    words: tuple[Word, ...]
    sentences: tuple[Sentence, ...]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@functools.lru_cache(maxsize=1)
def _model_version() -> str:
    from importlib.metadata import version

    return f"pocketsphinx {version('pocketsphinx')}"


def _voiced(pcm: np.ndarray) -> list[tuple[float, bytes]]:
    """The voiced stretches of ``pcm`` (16 kHz, 16-bit) with their starts in seconds,
    from pocketsphinx's ``Segmenter``; the whole take when it finds none.

    The take is padded with silence (:data:`_PAD` before, twice that after, plus a part
    frame): the segmenter needs silence to start and to end a stretch, and a take
    trimmed to its first and last words has none.
    """
    import io

    from pocketsphinx import Segmenter

    pad = np.zeros(int(_PAD * ALIGN_RATE), "<i2")
    padded = np.concatenate([pad, pcm, pad, pad, np.zeros(1, "<i2")])
    stretches = [(seg.start_time - _PAD, seg.pcm) for seg in
                 Segmenter(sample_rate=ALIGN_RATE).segment(io.BytesIO(padded.tobytes()))]
    return stretches or [(0.0, pcm.tobytes())]


def recognise_words(samples: np.ndarray, *, sr: int = SAMPLE_RATE) -> tuple[Word, ...]:
    """Every word pocketsphinx hears in ``samples`` with its times (seconds). Uncached."""
    pcm = recogniser_pcm(samples, sr)
    if len(pcm) < ALIGN_RATE // 10:
        return ()
    d = decoder()
    end = len(pcm) / ALIGN_RATE
    out: list[Word] = []
    for offset, chunk in _voiced(pcm):
        d.start_utt()
        d.process_raw(chunk, full_utt=True)
        d.end_utt()
        if d.hyp() is None:
            continue
        for s in d.seg():
            text = re.sub(r"\(\d+\)$", "", s.word).lower()
            if _FILLER.match(text):
                continue
            start = min(max(offset + s.start_frame * FRAME, 0.0), end)
            stop = min(max(start, offset + (s.end_frame + 1) * FRAME), end)
            if out and start < out[-1].end:  # stretches padded into each other
                start = min(out[-1].end, stop)
            out.append(Word(text, start, stop))
    return tuple(out)


def _groups(words: Sequence[Word]) -> list[list[Word]]:
    """Words in runs split at pauses of :data:`SENTENCE_PAUSE`, long runs cut at their
    longest pause until none is over :data:`MAX_WORDS`."""
    runs: list[list[Word]] = []
    for w in words:
        if runs and w.start - runs[-1][-1].end < SENTENCE_PAUSE:
            runs[-1].append(w)
        else:
            runs.append([w])
    out: list[list[Word]] = []
    while runs:
        run = runs.pop(0)
        if len(run) <= MAX_WORDS:
            out.append(run)
            continue
        inner = range(3, len(run) - 2)  # never leave a stub of one or two words
        cut = max(inner, key=lambda i: run[i].start - run[i - 1].end)
        runs[:0] = [run[:cut], run[cut:]]
    return out


def _sentence_text(words: Sequence[Word]) -> str:
    said = ["I" if w.text == "i" else ("I" + w.text[1:] if w.text.startswith("i'") else w.text)
            for w in words]
    text = " ".join(said)
    return text[:1].upper() + text[1:] + "."


def sentences_of(words: Sequence[Word]) -> tuple[Sentence, ...]:
    """The words as sentences (module docstring, step 3), timed by their words.

    The texts are exactly those :func:`audio.sentences.split_sentences` finds in
    :func:`draft_text` of the result: where it would not split (a run ending in a lone
    letter reads as an initial), the runs are joined.
    """
    runs = _groups(words)
    texts = split_sentences(" ".join(_sentence_text(r) for r in runs))
    out: list[Sentence] = []
    k = 0
    for text in texts:
        n = len(text.split())
        span = [w for r in runs for w in r][k : k + n]
        k += n
        out.append(Sentence(text, span[0].start, span[-1].end))
    return tuple(out)


def draft_text(sentences: Iterable[Sentence]) -> str:
    """A draft transcript in the format a ``<segment-id>.txt`` is read in: plain text,
    one sentence a line."""
    return "".join(f"{s.text}\n" for s in sentences)


def recognise(
    samples: np.ndarray,
    *,
    sr: int = SAMPLE_RATE,
    cache_dir: str | Path | None = None,
) -> Recognition:
    """:func:`recognise_words` grouped into sentences, cached in ``cache_dir`` (when
    given) under a hash of the audio and the recogniser."""
    path = None
    if cache_dir is not None:
        h = hashlib.sha256()
        h.update(json.dumps([REVISION, _model_version(), SENTENCE_PAUSE, MAX_WORDS]).encode())
        h.update(recogniser_pcm(samples, sr).tobytes())
        path = Path(cache_dir) / f"recognise-{h.hexdigest()[:24]}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            words = tuple(Word(t, a, b) for t, a, b in data["words"])
            return Recognition(words, sentences_of(words) if words else ())
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or damaged: recognised again
    words = recognise_words(samples, sr=sr)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"words": [[w.text, w.start, w.end] for w in words]}, f)
        os.replace(tmp, path)
    return Recognition(words, sentences_of(words) if words else ())


def word_error_rate(reference: Sequence[str], heard: Sequence[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words,
    by edit distance over lower-case words."""
    ref = [w.lower() for w in reference]
    hyp = [w.lower() for w in heard]
    if not ref:
        return float(bool(hyp))
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)
