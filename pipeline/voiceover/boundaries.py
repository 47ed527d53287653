"""Word boundaries in manim-voiceover's format, from the words a voice timed (pure).

manim-voiceover's ``VoiceoverTracker`` places a ``<bookmark mark="A"/>`` by
interpolating between word boundaries: ``text_offset`` is a character position in the
block's text with its bookmarks removed (``remove_bookmarks``), ``audio_offset`` the
time in units of 1e-7 s (its ``AUDIO_OFFSET_RESOLUTION``). Our voices time the *spoken*
words (``audio.textnorm``: "3" is said "three"); :func:`word_boundaries` puts each
written token at the onset of its first spoken word, so a bookmark written before a
token lands on the onset of what is said for it, and one after the last word on the
end of speech.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from audio.sentences import Word
from audio.textnorm import tokens

__all__ = ["AUDIO_OFFSET_RESOLUTION", "BOOKMARK", "remove_bookmarks", "token_onsets",
           "word_boundaries"]

AUDIO_OFFSET_RESOLUTION = 10_000_000  # manim_voiceover.tracker's unit (a test checks it)
# manim-voiceover's bookmark syntax (its helper.remove_bookmarks), kept here so planning
# need not import manim.
BOOKMARK = re.compile(r"<bookmark\s*mark\s*=['\"](\w*)[\"']\s*/>")


def remove_bookmarks(text: str) -> str:
    """``text`` without its ``<bookmark mark="..."/>`` tags (as manim-voiceover does)."""
    return BOOKMARK.sub("", text)


def token_onsets(content: str, words: Sequence[Word]) -> list[tuple[int, float]]:
    """``(character offset, onset)`` of each written token of ``content`` that a timed
    word was found for, in order, onsets never decreasing."""
    spans = [m.start() for m in re.finditer(r"\S+", content)]
    toks = tokens(content)
    if len(toks) != len(spans):  # a <mark .../> inside voiceover text: no offsets to trust
        return []
    expected: list[str] = []
    owner: list[int] = []
    for j, tok in enumerate(toks):
        expected += [w.lower() for w in tok.words]
        owner += [j] * len(tok.words)
    said = [w.text.lower() for w in words]
    onset: dict[int, float] = {}
    matcher = difflib.SequenceMatcher(a=expected, b=said, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            onset.setdefault(owner[block.a + k], words[block.b + k].start)
    out: list[tuple[int, float]] = []
    for j in sorted(onset):
        if not out or onset[j] >= out[-1][1]:
            out.append((spans[j], onset[j]))
    return out


def word_boundaries(content: str, words: Sequence[Word], duration: float) -> list[dict[str, Any]]:
    """manim-voiceover's ``word_boundaries`` for ``content`` (bookmarks removed) spoken
    with ``words``' times in audio of ``duration`` seconds. Covers offsets 0 to
    ``len(content)``, so any bookmark position interpolates."""
    points = token_onsets(content, words)
    end = min(words[-1].end, duration) if words else duration
    if not points:
        points = [(0, 0.0)]
    if points[0][0] > 0:
        points.insert(0, (0, points[0][1]))
    if points[-1][0] < len(content):
        points.append((len(content), max(end, points[-1][1])))
    out = []
    for k, (offset, t) in enumerate(points):
        nxt = points[k + 1][0] if k + 1 < len(points) else len(content)
        text = content[offset:nxt].strip() or "."
        out.append({"audio_offset": int(round(t * AUDIO_OFFSET_RESOLUTION)),
                    "text_offset": offset, "word_length": len(text), "text": text,
                    "boundary_type": "Word"})
    return out
