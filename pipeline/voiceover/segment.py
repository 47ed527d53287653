"""A voiceover segment's narration, built from the blocks its scene spoke (pure: no manim).

The dry run (``pipeline.rendering.author_process``) answers with each block's text,
start (seconds after the lead-in) and length. The narration is each block's audio
placed at its start, silence between (where the scene's animations outlast the
speech), with the blocks' sentences and words moved to the segment's timeline:

* synthetic speech (:func:`synthetic_parts`): each block is read back from the speech
  cache the child's ``PiperService`` filled (same text, same voice, same bytes);
* a recorded take (:func:`split_take`): the take, levelled and aligned to the blocks'
  texts by ``audio.narration``, is cut between blocks (just before each block's first
  word); each slice becomes that block's audio and its words the block's word times,
  so the child's ``PiperService`` hands the scene the take's timing.

Everything after that (levelling to the lecture's loudness, captions from the
sentences, chapters, clips, slides) is the path every narration takes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.clips import NarrationError, write_wav
from audio.pcm import SAMPLE_RATE
from audio.sentences import Sentence, Word, proportional_times, split_sentences
from audio.sources import Narration, SpeechEngine, synthesize
from audio.textnorm import shown, spoken_words
from pipeline.voiceover.boundaries import remove_bookmarks
from pipeline.voiceover.job import Block, TakeBlock

__all__ = ["Part", "block_script", "block_text", "check_lengths", "place", "split_take",
           "synthetic_parts", "write_wav_atomic"]

CUT_BEFORE = 0.1  # seconds of a take kept before a block's first word (at most half the pause)
TOLERANCE = 1.5 / SAMPLE_RATE  # the child's and planning's block lengths must agree to this


@dataclass(frozen=True)
class Part:
    """One block's audio (mono float32) with its sentences and words, times into it."""

    samples: np.ndarray
    sentences: tuple[Sentence, ...]
    words: tuple[Word, ...]
    key: str


def block_text(block: Block) -> str:
    """What the block says, as captions show it: bookmarks removed, spaces collapsed."""
    return shown(remove_bookmarks(block.text))


def block_script(blocks: Sequence[Block]) -> str:
    """The blocks' texts as one script, each block ending a sentence (for the aligner)."""
    texts = [block_text(b) for b in blocks]
    return " ".join(t if t[-1:] in ".!?" else f"{t}." for t in texts if t)


def synthetic_parts(segment: str, blocks: Sequence[Block], engine: SpeechEngine,
                    cache_dir: str | Path) -> list[Part]:
    """Each block's speech, from the speech cache (or spoken again, the same bytes)."""
    parts = []
    for k, b in enumerate(blocks):
        said = synthesize(engine, remove_bookmarks(b.text), cache_dir=cache_dir)
        part = Part(np.asarray(said.samples[:, 0]), said.sentences, said.words, said.cache_key)
        _check_length(segment, k, b, part)
        parts.append(part)
    return parts


def _check_length(segment: str, k: int, block: Block, part: Part) -> None:
    seconds = len(part.samples) / SAMPLE_RATE
    if abs(seconds - block.duration) > TOLERANCE:
        raise NarrationError(f"segment {segment!r}: voiceover block {k + 1} lasts "
                             f"{seconds:.3f} s here but {block.duration:.3f} s in the scene")


def place(segment: str, blocks: Sequence[Block], parts: Sequence[Part], *, fps: int,
          source: str, detail: str, path: Path | None = None,
          take: Narration | None = None) -> Narration:
    """The segment's narration: each part at its block's start, silence between.

    manim-voiceover ends a block by waiting out its speech only when more than a frame
    is left (``safe_wait``), so the next block may start up to a frame early: the two
    are mixed there, as manim mixes its sound track. Anything earlier is an error.
    """
    if not blocks:
        raise NarrationError(f"segment {segment!r}: the voiceover scene says nothing "
                             "(no voiceover block ran)")
    starts = [int(round(b.start * SAMPLE_RATE)) for b in blocks]
    slack = int(np.ceil(SAMPLE_RATE / fps)) + 1
    for k in range(1, len(blocks)):
        if starts[k] + slack < starts[k - 1] + len(parts[k - 1].samples):
            raise NarrationError(f"segment {segment!r}: voiceover block {k + 1} starts "
                                 f"before block {k} has finished speaking")
    total = max(s + len(p.samples) for s, p in zip(starts, parts, strict=True))
    mono = np.zeros(total, dtype=np.float32)
    sentences: list[Sentence] = []
    words: list[Word] = []
    for s, part in zip(starts, parts, strict=True):
        mono[s:s + len(part.samples)] += part.samples
        t = s / SAMPLE_RATE
        if sentences and part.sentences:  # a block started within the last frame
            last = sentences[-1]
            sentences[-1] = Sentence(last.text, last.start,
                                     max(last.start, min(last.end, part.sentences[0].start + t)))
        sentences += [Sentence(x.text, x.start + t, x.end + t) for x in part.sentences]
        words += [Word(w.text, w.start + t, w.end + t) for w in part.words]
    key = hashlib.sha256(json.dumps([[s, p.key] for s, p in zip(starts, parts, strict=True)])
                         .encode()).hexdigest()
    return Narration(source=source, samples=np.broadcast_to(mono[:, None], (total, 2)),
                     sentences=tuple(sentences), path=path, detail=detail, cache_key=key,
                     words=tuple(words), take=take.take if take is not None else None)


# ------------------------------------------------------------------ recorded takes
def _matches(blocks: Sequence[Block], found: Sequence[Word]) -> list[list[tuple[int, Word]]]:
    """Per block, ``(index of the word in the block's spoken words, its time)`` for
    every word of the block the aligner found in the take."""
    expected = [spoken_words(block_text(b)) for b in blocks]
    owner = [(k, i) for k, ws in enumerate(expected) for i in range(len(ws))]
    flat = [w.lower() for ws in expected for w in ws]
    out: list[list[tuple[int, Word]]] = [[] for _ in blocks]
    matcher = difflib.SequenceMatcher(a=flat, b=[w.text.lower() for w in found], autojunk=False)
    for m in matcher.get_matching_blocks():
        for j in range(m.size):
            k, i = owner[m.a + j]
            out[k].append((i, found[m.b + j]))
    return out


def _cuts(blocks: Sequence[Block], matched: Sequence[Sequence[tuple[int, Word]]],
          total: float) -> list[float]:
    """Where each block's slice of the take begins: just before its first word; a block
    none of whose words were found gets a share by word count between its neighbours."""
    known: list[float | None] = [0.0]
    last_end = 0.0
    for ms in matched[1:]:
        if ms:
            onset = ms[0][1].start
            known.append(max(onset - min(CUT_BEFORE, max(onset - last_end, 0.0) / 2), 0.0))
        else:
            known.append(None)
        last_end = max([last_end, *(w.end for _, w in ms)])
    counts = [max(len(spoken_words(block_text(b))), 1) for b in blocks]
    out: list[float] = [0.0]
    for k in range(1, len(known)):
        cut = known[k]
        if cut is None:  # blocks k-1 .. j-1 share the time up to the next known cut
            j = next((i for i in range(k, len(known)) if known[i] is not None), len(known))
            hi = known[j] if j < len(known) else total
            share = counts[k - 1] / sum(counts[k - 1:j])
            cut = out[-1] + (max(hi or 0.0, out[-1]) - out[-1]) * share
        out.append(max(cut, out[-1]))
    return out


def _block_sentences(text: str, ms: Sequence[tuple[int, Word]],
                     span: float) -> tuple[Sentence, ...]:
    """A block's sentences timed by its found words (shifted into the slice), else shared
    in proportion over the slice."""
    sents = split_sentences(text)
    bounds, n = [], 0
    for s in sents:
        bounds.append((n, n + len(spoken_words(s))))
        n += len(spoken_words(s))
    out: list[Sentence] = []
    for s, (a, b) in zip(sents, bounds, strict=True):
        inside = [w for i, w in ms if a <= i < b]
        if not inside:
            return proportional_times(sents, 0.0, span)
        start = max(inside[0].start, out[-1].end if out else 0.0)
        out.append(Sentence(s, start, max(start, min(inside[-1].end, span))))
    return tuple(out)


def split_take(segment: str, take: Narration, blocks: Sequence[Block],
               folder: Path) -> tuple[tuple[TakeBlock, ...], list[Part]]:
    """The take cut into one slice per block (written as WAVs into ``folder``, named by
    the take's content) and, for each, what the child's service and the narration need."""
    x = np.asarray(take.samples, dtype=np.float32)
    mono = x.mean(axis=1).astype(np.float32) if x.ndim == 2 else x
    total = len(mono) / SAMPLE_RATE
    matched = _matches(blocks, take.words)
    cuts = [*_cuts(blocks, matched, total), total]
    folder.mkdir(parents=True, exist_ok=True)
    takes, parts = [], []
    for k, b in enumerate(blocks):
        a, e = int(round(cuts[k] * SAMPLE_RATE)), int(round(cuts[k + 1] * SAMPLE_RATE))
        if e - a < SAMPLE_RATE // 10:
            raise NarrationError(f"segment {segment!r}: voiceover block {k + 1} "
                                 f"({block_text(b)[:40]!r}) has no speech in the take")
        span = (e - a) / SAMPLE_RATE
        moved = [(i, Word(w.text, min(max(w.start - cuts[k], 0.0), span),
                          min(max(w.end - cuts[k], 0.0), span))) for i, w in matched[k]]
        words = tuple(w for _, w in moved)
        wav = folder / f"{take.cache_key[:16]}-{k}.wav"
        if not wav.is_file():
            write_wav_atomic(wav, mono[a:e])
        part = Part(mono[a:e], _block_sentences(block_text(b), moved, span), words,
                    f"{take.cache_key}-{k}")
        parts.append(part)
        takes.append(TakeBlock(text=block_text(b), audio=str(wav),
                               words=tuple((w.text, w.start, w.end) for w in words)))
    return tuple(takes), parts


def check_lengths(segment: str, blocks: Sequence[Block], parts: Sequence[Part]) -> None:
    """The child's blocks are the parts planning holds (same count, same lengths)."""
    if len(blocks) != len(parts):
        raise NarrationError(f"segment {segment!r}: the scene spoke {len(blocks)} voiceover "
                             f"blocks with the take, {len(parts)} without")
    for k, (b, p) in enumerate(zip(blocks, parts, strict=True)):
        _check_length(segment, k, b, p)


def write_wav_atomic(path: Path, samples: np.ndarray) -> None:
    """``samples`` (48 kHz) as a 16-bit WAV at ``path``, through a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".wav")
    os.close(fd)
    try:
        write_wav(tmp, samples)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
