"""Sentence splitting and the ``Sentence`` record (pure: no I/O).

A lecture script is prose with some mathematics in it, so the splitter must not break
at "e.g.", "et al.", decimals such as ``0.778`` or a mid-sentence ellipsis, yet must
break after ``x_0.`` when a new sentence follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "Word", "split_sentences", "proportional_times", "ABBREVIATIONS"]


@dataclass(frozen=True)
class Sentence:
    """One sentence of narration and where it is spoken, in seconds into the narration."""

    text: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("sentence text is empty")
        if not 0.0 <= self.start <= self.end:
            raise ValueError(
                f"sentence {self.text[:30]!r}: need 0 <= start <= end, "
                f"got start={self.start} end={self.end}"
            )

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Word:
    """One spoken word and where it is said, in seconds into the narration.

    ``text`` is the word as spoken (the words of :func:`audio.textnorm.spoken_words`:
    "zero", "point", "seven" for ``0.7``), not as shown in captions.
    """

    text: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("word text is empty")
        if not 0.0 <= self.start <= self.end:
            raise ValueError(
                f"word {self.text!r}: need 0 <= start <= end, got start={self.start} "
                f"end={self.end}"
            )


# Words that end in a full stop without ending the sentence (compared lower-case,
# without the final dot). "etc." is left out on purpose: it usually does end one.
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "e.g",
        "i.e",
        "cf",
        "vs",
        "al",
        "approx",
        "resp",
        "viz",
        "ca",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "fig",
        "figs",
        "eq",
        "eqs",
        "sec",
        "ch",
        "no",
        "vol",
        "pp",
        "ref",
        "refs",
    }
)

# A candidate end: terminal punctuation (including "..." and the single-character
# ellipsis), then any closing quotes/brackets, then whitespace.
_END = re.compile(r"(?:[.!?]+|\u2026)[\"'\u2019\u201d)\]]*(?=\s)")
# What may start a new sentence after the whitespace: a capital, a digit, TeX, or a
# math symbol with a subscript/superscript ("x_t is noisier.").
_STARTER = re.compile(
    r"[\"'\u2018\u201c(\[]*(?:[A-Z0-9\u00C0-\u00DE$\\]|[A-Za-z]+[_^][A-Za-z0-9{])"
)


def _last_token(text: str, end: int) -> str:
    """The whitespace-delimited token that ends just before ``end`` (the punctuation)."""
    start = text.rfind(" ", 0, end) + 1
    start = max(start, text.rfind("\n", 0, end) + 1, text.rfind("\t", 0, end) + 1)
    return text[start:end]


def _is_break(text: str, punct_start: int, punct_end: int, after: int) -> bool:
    punct = text[punct_start:punct_end].rstrip("\"'\u2019\u201d)]")
    nxt = text[after:]
    if not _STARTER.match(nxt):
        return False  # "... and then", "e.g. the mean": lower case goes on
    if "!" in punct or "?" in punct:
        return True
    if ".." in punct or "\u2026" in punct:
        return True  # an ellipsis followed by a capital starts a new sentence
    token = _last_token(text, punct_start).lstrip("\"'\u2018\u201c([").lower()
    if token in ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isalpha() and text[punct_start - 1].isupper():
        return False  # an initial: "J. Ho"
    return True


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, whitespace collapsed inside each.

    Rules: a sentence ends at ``.``, ``!``, ``?``, ``...`` or ``…`` (with any closing
    quotes or brackets) followed by whitespace and a capital letter, digit, ``$``,
    ``\\`` or a subscripted symbol such as ``x_t``; a full stop after a known
    abbreviation (:data:`ABBREVIATIONS`) or an initial does not end a sentence; a blank
    line always does. Decimals (``0.778``) and subscripts (``x_0.5``) never split
    because no whitespace follows the dot.
    """
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        begin = 0
        for m in _END.finditer(para):
            after = m.end()
            while after < len(para) and para[after].isspace():
                after += 1
            if _is_break(para, m.start(), m.end(), after):
                piece = para[begin : m.end()]
                if piece.strip():
                    out.append(" ".join(piece.split()))
                begin = after
        tail = para[begin:]
        if tail.strip():
            out.append(" ".join(tail.split()))
    return out


def proportional_times(
    sentences: list[str], start: float, end: float, *, gap: float = 0.0
) -> tuple[Sentence, ...]:
    """Share ``[start, end]`` among ``sentences`` in proportion to their lengths.

    ``gap`` seconds are left between consecutive sentences when the span allows it.
    Used when no better timing is known (silence, or a clip with too few pauses).
    """
    if not sentences:
        return ()
    if end < start:
        raise ValueError(f"proportional_times: end {end} < start {start}")
    n = len(sentences)
    span = end - start
    gap = min(gap, span / (4 * n)) if n > 1 else 0.0
    speak = span - gap * (n - 1)
    weights = [max(len(s), 1) for s in sentences]
    total = float(sum(weights))
    out = []
    t = start
    for i, (s, w) in enumerate(zip(sentences, weights, strict=True)):
        e = end if i == n - 1 else t + speak * w / total
        out.append(Sentence(s, t, max(t, e)))
        t = e + gap
    return tuple(out)
