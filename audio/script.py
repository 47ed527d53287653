"""Narration script markup: bookmarks and value placeholders (pure, no I/O).

Bookmarks
    ``<mark name="noise"/>`` just before a word starts the beat called ``noise`` when that
    word is spoken. :func:`parse_marks` finds them and the index of the spoken word each
    one precedes (in :func:`audio.textnorm.spoken_words` order); :func:`mark_time` turns
    that into seconds using the narration's word times, or, when a source has no word
    times (timed silence, a take not yet aligned), the start of the sentence that holds
    the marker. Markers are never shown nor said (:mod:`audio.textnorm` drops them).

Placeholders
    ``{{name key=value ...}}`` stands for a number computed when the lecture is loaded
    (the values come from ``diffusion/``, see :mod:`pipeline.planning.placeholders`). It becomes
    digits in the script, so captions show digits and every voice says the words.
    :func:`find_placeholders` parses them; anything that opens ``{{`` and is not a
    well-formed placeholder is an error naming it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audio.sentences import Sentence, Word, split_sentences
from audio.textnorm import MARK, shown, spoken_words

__all__ = [
    "Marker",
    "Placeholder",
    "ScriptError",
    "parse_marks",
    "mark_time",
    "find_placeholders",
    "replace_placeholders",
]

_MARK_LOOSE = re.compile(r"<\s*mark\b[^>]*>", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ARG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$")


class ScriptError(ValueError):
    """Bad markup in a narration script; the message names the marker or placeholder."""


@dataclass(frozen=True)
class Marker:
    """A bookmark: beat ``name`` starts at spoken word ``word`` (index into the spoken
    words of the whole script); ``sentence`` is the index of the sentence holding it."""

    name: str
    word: int
    sentence: int


@dataclass(frozen=True)
class Placeholder:
    """``{{name key=value ...}}`` as written (``text``) and parsed."""

    text: str
    name: str
    args: tuple[tuple[str, str], ...]


def parse_marks(script: str) -> tuple[Marker, ...]:
    """Every bookmark in ``script``, in order. Raises :class:`ScriptError` for a malformed
    marker (``<mark name=x>``) or a marker after the last word."""
    for m in _MARK_LOOSE.finditer(script):
        if not MARK.fullmatch(m.group(0)):
            raise ScriptError(f"malformed marker {m.group(0)!r} (write <mark name=\"beat\"/>)")
    out = []
    total = len(spoken_words(script))
    for m in MARK.finditer(script):
        name = m.group(1)
        if not _NAME.match(name):
            raise ScriptError(f"marker {m.group(0)!r}: name must be a beat name like 'noise'")
        before = script[: m.start()]
        word = len(spoken_words(before))
        if word >= total:
            raise ScriptError(f"marker {name!r} is after the last word; put it before a word")
        sentence = max(0, len(split_sentences(shown(before + " X"))) - 1)
        out.append(Marker(name, word, sentence))
    return tuple(out)


MIN_RUN = 3  # a word is placed by a run of at least this many matching words


def _aligned_index(expected: Sequence[str], words: Sequence[Word], index: int) -> int | None:
    """Index in ``words`` of ``expected[index]`` (None when the aligner skipped it, or
    when it matches only in a run too short to trust: a lone "step" of another sentence)."""
    a = [w.lower() for w in expected]
    b = [w.text.lower() for w in words]
    if a == b:
        return index
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        if block.a <= index < block.a + block.size and block.size >= MIN_RUN:
            return block.b + index - block.a
    return None


def mark_time(
    marker: Marker,
    script: str,
    words: Sequence[Word],
    sentences: Sequence[Sentence],
) -> tuple[float, str]:
    """Seconds into the narration where ``marker``'s word is spoken, and how it was found:
    ``"word"`` (its aligned word), or ``"sentence"`` (no word times for it: its place in
    the span of the sentence that holds it)."""
    if words:
        k = _aligned_index(spoken_words(script), words, marker.word)
        if k is not None:
            return words[k].start, "word"
    if sentences:
        return _within_sentence(marker, script, sentences), "sentence"
    return 0.0, "sentence"


def _within_sentence(marker: Marker, script: str, sentences: Sequence[Sentence]) -> float:
    """Where the marker's word falls in its sentence's span, by its place among the
    sentence's spoken words (a sentence's first word: the sentence's start)."""
    k = min(marker.sentence, len(sentences) - 1)
    counts = [len(spoken_words(s)) for s in split_sentences(shown(script))]
    if len(counts) != len(sentences) or not counts[k]:
        return sentences[k].start
    offset = marker.word - sum(counts[:k])
    span = sentences[k]
    return span.start + (span.end - span.start) * max(0, offset) / counts[k]


def find_placeholders(text: str) -> list[Placeholder]:
    """Every ``{{...}}`` in ``text``. Raises :class:`ScriptError` naming a malformed one
    (or a lone ``{{`` / ``}}``)."""
    out = []
    for m in _PLACEHOLDER.finditer(text):
        body = m.group(1).split()
        if not body or not _NAME.match(body[0]):
            raise ScriptError(f"placeholder {m.group(0)!r}: expected {{{{name key=value ...}}}}")
        args = []
        for part in body[1:]:
            am = _ARG.match(part)
            if not am:
                raise ScriptError(f"placeholder {m.group(0)!r}: {part!r} is not key=value")
            args.append((am.group(1), am.group(2)))
        out.append(Placeholder(m.group(0), body[0], tuple(args)))
    rest = _PLACEHOLDER.sub("", text)
    for stray in ("{{", "}}"):
        if stray in rest:
            at = rest.index(stray)
            raise ScriptError(f"unclosed placeholder near {rest[max(0, at - 10) : at + 20]!r}")
    return out


def replace_placeholders(text: str, values: dict[str, str]) -> str:
    """``text`` with each placeholder (by its written form) replaced by ``values[text]``."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], text)
