"""Captions from timed narration sentences: cue layout, SRT/WebVTT writers and validators.

Limits (docs/publishing.md, "Captions"): at most 2 lines of at most 42 characters, each cue
about 0.8-7 s, at most about 17 characters per second, at least 2 frames between cues,
the last cue ending by the end of the video. Everything here is pure (no I/O).

Layout of one sentence (:func:`build_cues`):

1. The words are partitioned into the fewest cues that each wrap into 2 x 42 (and at
   least ``ceil(speech / 7 s)`` cues), balanced by characters, preferring to cut after
   punctuation; each cue is wrapped into lines of balanced length.
2. The sentence's window starts when it is spoken and ends when the speech ends, made
   longer - never past the next sentence's start minus 2 frames, nor past
   ``video_end`` - when reading at 17 characters/s or the 0.8 s minimum needs it.
3. The window, minus a 2-frame gap between its cues, is shared among the cues in
   proportion to their characters. A cue still shorter than 0.8 s or faster than
   17 characters/s may start up to 0.5 s earlier, into the pause before it (not
   before the previous cue's end plus 2 frames).
4. Times are put on the millisecond grid the formats use, keeping the gaps.

When the speech itself is faster than 17 characters/s and there is no pause to extend
into, the cue stays faster: :func:`check_cues` reports it rather than the layout
drifting away from the voice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

__all__ = [
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "MIN_CUE_SECONDS",
    "MAX_CUE_SECONDS",
    "MAX_CPS",
    "Cue",
    "CueStats",
    "build_cues",
    "merge_cues",
    "fit_cues",
    "captions_fit",
    "min_caption_seconds",
    "wrap_lines",
    "to_srt",
    "to_vtt",
    "parse_srt",
    "parse_vtt",
    "check_cues",
    "cue_stats",
    "format_time",
]

MAX_LINES = 2
MAX_LINE_CHARS = 42
MIN_CUE_SECONDS = 0.8
MAX_CUE_SECONDS = 7.0
MAX_CPS = 17.0
LAYOUT_CPS = 16.8  # the layout aims a little under MAX_CPS so millisecond rounding keeps it
GAP_FRAMES = 2
MAX_LEAD_IN = 0.5  # seconds a cue may appear before its words are spoken
_EPS = 1e-6


class TimedText(Protocol):
    """Anything with ``text``, ``start`` and ``end`` (``audio.Sentence`` is one)."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True)
class Cue:
    """One caption: shown from ``start`` to ``end`` seconds; ``text`` may hold one newline."""

    start: float
    end: float
    text: str

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def chars(self) -> int:
        """Characters read, a line break counting as the space it replaces."""
        return len(self.text.replace("\n", " "))

    @property
    def cps(self) -> float:
        return self.chars / self.duration if self.duration > 0 else math.inf


@dataclass(frozen=True)
class CueStats:
    count: int
    min_duration: float
    max_duration: float
    max_cps: float
    mean_cps: float
    max_line: int
    min_gap: float  # smallest gap between consecutive cues (inf with fewer than 2 cues)


# ------------------------------------------------------------------ text layout


def _fits(words: Sequence[str]) -> bool:
    return wrap_lines(" ".join(words)) is not None


def wrap_lines(text: str, width: int = MAX_LINE_CHARS) -> str | None:
    """``text`` on one line, or two balanced lines joined by ``"\\n"``; ``None`` if it cannot fit.

    Among the breaks that give two lines of at most ``width``, the one with the most
    even lines wins; a break after punctuation is preferred when it costs at most
    6 characters of balance.
    """
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    words = text.split(" ")
    best: tuple[float, int] | None = None
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(a) > width or len(b) > width:
            continue
        cost = abs(len(a) - len(b)) - (6 if a[-1] in ",;:" else 0)
        if best is None or cost < best[0]:
            best = (cost, i)
    if best is None:
        return None
    i = best[1]
    return " ".join(words[:i]) + "\n" + " ".join(words[i:])


def _words(text: str) -> list[str]:
    """Words of ``text``; a word longer than a line is cut into line-sized pieces."""
    out: list[str] = []
    for w in text.split():
        while len(w) > MAX_LINE_CHARS:
            out.append(w[:MAX_LINE_CHARS])
            w = w[MAX_LINE_CHARS:]
        if w:
            out.append(w)
    return out


def _partition(words: list[str], k: int) -> list[list[str]] | None:
    """Split ``words`` into ``k`` consecutive groups that each wrap into 2 lines.

    Minimises the squared deviation of group lengths from the mean, with a bonus for
    cutting after punctuation. ``None`` when ``k`` groups cannot all fit.
    """
    n = len(words)
    if k > n:
        return None
    total = len(" ".join(words))
    target = total / k
    inf = math.inf
    # cost[j][i]: best cost of the first i words in j groups
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    back = [[-1] * (n + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    fits: dict[tuple[int, int], bool] = {}
    for j in range(1, k + 1):
        for i in range(j, n - (k - j) + 1):
            for s in range(j - 1, i):
                if cost[j - 1][s] == inf:
                    continue
                length = len(" ".join(words[s:i]))
                if length > MAX_LINES * MAX_LINE_CHARS + 1:
                    continue
                key = (s, i)
                if key not in fits:
                    fits[key] = _fits(words[s:i])
                if not fits[key]:
                    continue
                c = cost[j - 1][s] + (length - target) ** 2
                if i < n and words[i - 1][-1] in ",;:":
                    c -= (0.15 * target) ** 2  # prefer cutting after punctuation
                if c < cost[j][i]:
                    cost[j][i] = c
                    back[j][i] = s
    if cost[k][n] == inf:
        return None
    groups: list[list[str]] = []
    i = n
    for j in range(k, 0, -1):
        s = back[j][i]
        groups.append(words[s:i])
        i = s
    return groups[::-1]


def _first_k(words: list[str], speech: float) -> int:
    """Fewest cues worth trying: by length (2 x 42 each) and by speech time (7 s each)."""
    total = len(" ".join(words))
    k = max(
        1,
        math.ceil(total / (MAX_LINES * MAX_LINE_CHARS)),
        math.ceil(speech / MAX_CUE_SECONDS - _EPS),
    )
    return min(k, len(words))


# ------------------------------------------------------------------ timing


def _gap_seconds(fps: float) -> float:
    """2 frames, rounded up to the millisecond grid the formats use."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    return math.ceil(GAP_FRAMES * 1000.0 / fps - 1e-9) / 1000.0


def build_cues(
    sentences: Sequence[TimedText],
    *,
    offset: float,
    fps: float,
    video_end: float,
    relax: bool = False,
) -> list[Cue]:
    """Cues for one segment's sentences, shifted by the segment's narration ``offset``.

    ``video_end`` (lecture seconds) bounds every cue: pass the end of this segment in
    the lecture, or the lecture's end for the last segment. Sentences must be in order
    and not overlap. Raises ``ValueError`` when a sentence starts at or after
    ``video_end`` (the narration would run past the video). ``relax``: see :func:`fit_cues`.
    """
    gap = _gap_seconds(fps)
    items = [
        (offset + s.start, offset + s.end, " ".join(s.text.split()))
        for s in sentences
        if s.text.strip()
    ]
    for (_a0, a1, at), (b0, _b1, _bt) in zip(items, items[1:], strict=False):
        if b0 < a1 - _EPS:
            raise ValueError(f"build_cues: sentences overlap at {b0:.3f} s ({at[:30]!r})")
    cues: list[Cue] = []
    for idx, (start, end, text) in enumerate(items):
        if start >= video_end - _EPS:
            raise ValueError(
                f"build_cues: sentence {text[:30]!r} starts at {start:.3f} s, "
                f"at or after the video end {video_end:.3f} s"
            )
        limit = video_end
        if idx + 1 < len(items):
            limit = min(limit, items[idx + 1][0] - gap)
        words = _words(text)
        k = _first_k(words, end - start)
        while True:
            groups = _partition(words, k)
            if groups is None:  # some group cannot wrap into 2 lines: more cues
                k += 1  # terminates: one word per cue always fits
                continue
            chunks = [wrap_lines(" ".join(g)) or " ".join(g) for g in groups]
            chars = [len(c.replace("\n", " ")) for c in chunks]
            need = max(sum(chars) / LAYOUT_CPS, k * MIN_CUE_SECONDS) + (k - 1) * gap
            window_end = min(max(end, start + need), limit)
            if window_end <= start:
                window_end = min(end, video_end)  # no pause after it: keep to the speech
            span = window_end - start - (k - 1) * gap
            longest = span * max(chars) / sum(chars)
            if longest > MAX_CUE_SECONDS + _EPS and k < len(words):
                k += 1  # a cue would stay up longer than 7 s
                continue
            break
        if span <= 0:  # too short to hold k cues apart: one cue for the whole sentence
            chunks, chars, k, span = ["\n".join(chunks)], [sum(chars)], 1, window_end - start
        t = start
        for j, (chunk, c) in enumerate(zip(chunks, chars, strict=True)):
            e = window_end if j == k - 1 else t + span * c / sum(chars)
            cues.append(Cue(t, e, chunk))
            t = e + gap
    cues = _lengthen_backwards(cues, gap)
    # a cue the speech leaves no time (a word said in a blink right before the next
    # sentence) keeps an instant here: fit_cues then gives it its time, or joins it
    cues = _quantize(cues, gap, video_end, crowded_ok=True)
    return fit_cues(cues, fps=fps, video_end=video_end, relax=relax)


def _lengthen_backwards(cues: list[Cue], gap: float) -> list[Cue]:
    """Start a cue earlier, into the free time before it, when it is still shorter than
    0.8 s or faster than the reading rate (only a sentence's first cue has such time)."""
    out: list[Cue] = []
    for c in cues:
        need = min(max(MIN_CUE_SECONDS, c.chars / LAYOUT_CPS), MAX_CUE_SECONDS)
        if c.duration < need:
            earliest = out[-1].end + gap if out else 0.0
            start = max(earliest, c.end - need, c.start - MAX_LEAD_IN, 0.0)
            if start < c.start:
                c = Cue(start, c.end, c.text)
        out.append(c)
    return out


def _quantize(cues: list[Cue], gap: float, video_end: float, *,
              crowded_ok: bool = False) -> list[Cue]:
    """Put times on the millisecond grid (starts down, ends up), keeping gaps and the end.

    A cue left no time is an error, or with ``crowded_ok`` kept as one millisecond."""
    gap_ms = round(gap * 1000)
    end_ms_max = math.floor(video_end * 1000 + 1e-6)
    ms = [
        (max(0, math.floor(c.start * 1000 + 1e-6)), math.ceil(c.end * 1000 - 1e-6), c.text)
        for c in cues
    ]
    out: list[Cue] = []
    for i, (s, e, text) in enumerate(ms):
        if i + 1 < len(ms):
            e = min(e, ms[i + 1][0] - gap_ms)
        e = min(e, end_ms_max)
        if e <= s and crowded_ok:
            s, e = min(s, end_ms_max - 1), min(s, end_ms_max - 1) + 1
        if e <= s:
            raise ValueError(f"caption {text[:30]!r} has no time left at {s / 1000:.3f} s")
        out.append(Cue(s / 1000, e / 1000, text))
    return out


def merge_cues(
    segments: Sequence[Sequence[Cue]], *, fps: float | None = None,
    video_end: float | None = None, relax: bool = False,
) -> list[Cue]:
    """All segments' cues as one ordered, non-overlapping list.

    Where a cue runs into the next one (or within 2 frames of it, when ``fps`` is
    given), its end is pulled back. ``ValueError`` if that leaves it no time. With
    ``fps`` and ``video_end`` the result then goes through :func:`fit_cues`, so every
    limit holds across segment joins too.
    """
    gap_ms = round(_gap_seconds(fps) * 1000) if fps else 0
    flat = sorted((c for seg in segments for c in seg), key=lambda c: (c.start, c.end))
    out: list[Cue] = []
    for i, c in enumerate(flat):
        if i + 1 < len(flat):
            limit = (round(flat[i + 1].start * 1000) - gap_ms) / 1000
            if c.end > limit + _EPS:
                if limit <= c.start + _EPS:
                    raise ValueError(
                        f"merge_cues: cue {c.text[:30]!r} at {c.start:.3f} s is overlapped by "
                        f"the next cue at {flat[i + 1].start:.3f} s"
                    )
                c = Cue(c.start, limit, c.text)
        out.append(c)
    if fps and video_end is not None:
        return fit_cues(out, fps=fps, video_end=video_end, relax=relax)
    return out


HARD_CPS = 19.8  # the never-exceeded reading rate (20), less rounding room


def _need(c: Cue, cps: float, shortest: float = MIN_CUE_SECONDS + 0.002) -> float:
    return min(max(shortest, c.chars / cps), MAX_CUE_SECONDS)


def _merge_crowded(cues: list[Cue], gap: float) -> list[Cue]:
    """Join a cue with the next when it cannot get its reading time before the next one
    starts, and the two together still wrap into 2 lines and last at most 7 s."""
    out = list(cues)
    i = 0
    while i + 1 < len(out):
        c, n = out[i], out[i + 1]
        room = n.start - gap - c.start
        joined = wrap_lines(c.text.replace("\n", " ") + " " + n.text.replace("\n", " "))
        if (
            room < _need(c, LAYOUT_CPS) - _EPS
            and joined is not None
            and n.end - c.start <= MAX_CUE_SECONDS - 0.01
        ):
            out[i : i + 2] = [Cue(c.start, n.end, joined)]
            continue
        i += 1
    return out


def _layout(items: list[Cue], rate: tuple[float, float], gap: float,
            video_end: float) -> tuple[list[float], list[float]] | None:
    """Starts and ends giving every cue its reading time at ``cps`` before ``video_end``:
    a forward pass lengthens cues, a backward pass pulls them earlier; ``None`` when
    that needs time before 0. ``rate``: characters per second, shortest cue seconds."""
    s = [c.start for c in items]
    e = [c.end for c in items]
    need = [_need(c, *rate) for c in items]
    for i in range(len(items)):
        if i:
            s[i] = max(s[i], e[i - 1] + gap)
        e[i] = min(max(e[i], s[i] + need[i]), s[i] + MAX_CUE_SECONDS - 0.005)
    limit = math.floor(video_end * 1000 + 1e-6) / 1000
    for i in reversed(range(len(items))):
        e[i] = min(e[i], limit)
        s[i] = min(s[i], e[i] - need[i])
        limit = s[i] - gap
    return (s, e) if s[0] >= -_EPS else None


_SHORTEST = MIN_CUE_SECONDS + 0.002
#: (characters per second, shortest cue) tried past the hard limit when a segment's
#: time is capped (``relax``): faster and faster, at last shorter than 0.8 s
RELAXED = (*((HARD_CPS * 1.25**k, _SHORTEST) for k in range(1, 13)),
           (1e9, 0.4), (1e9, 0.1), (1e9, 0.01))


def fit_cues(
    cues: Sequence[Cue], *, fps: float, video_end: float, relax: bool = False
) -> list[Cue]:
    """Cues that meet every limit whatever the speech under them.

    Speech faster than people read, or words too close together, would give cues under
    0.8 s or above 17 characters/s. Such a cue is first joined with the next when the two
    fit one cue (:func:`_merge_crowded`); then every cue gets its reading time: a
    forward pass starts each cue at least 2 frames after the one before and lengthens it
    to ``max(0.8 s, characters / 16.8)`` (at most 7 s), and a backward pass pulls cues
    earlier where that pushed them past ``video_end``. Only when the text cannot fit
    the video at 17 characters/s are the cues laid out at the hard limit, just under 20.
    ``ValueError`` when not even that fits, unless ``relax`` (a segment whose added time
    was capped, ``--caption-hold-max``): then faster rates are tried.
    """
    gap = _gap_seconds(fps)
    items = _merge_crowded(sorted(cues, key=lambda c: c.start), gap)
    if not items:
        return []
    rates = ((LAYOUT_CPS, _SHORTEST), (HARD_CPS, _SHORTEST), *(RELAXED if relax else ()))
    for rate in rates:
        got = _layout(items, rate, gap, video_end)
        if got is not None:
            break
    else:
        raise ValueError(
            f"captions: {sum(c.chars for c in items)} characters cannot be shown in "
            f"{video_end:.1f} s at under 20 characters per second"
            + (" (nor in cues of 10 ms)" if relax else "")
        )
    s, e = got
    fitted = [Cue(max(0.0, a), b, c.text) for a, b, c in zip(s, e, items, strict=True)]
    return _quantize(fitted, gap, video_end)


def captions_fit(
    sentences: Sequence[TimedText], *, offset: float, fps: float, video_end: float
) -> bool:
    """Whether one segment's cues meet every limit (17 characters/s among them) when
    its speech starts at ``offset`` and it ends at ``video_end`` (segment seconds)."""
    try:
        cues = build_cues(sentences, offset=offset, fps=fps, video_end=video_end)
    except ValueError:
        return False
    return not check_cues(cues, fps=fps, video_end=video_end)


def min_caption_seconds(
    sentences: Sequence[TimedText], *, offset: float, fps: int, seconds: float,
    longest: float = 3600.0,
) -> float:
    """The shortest length, at least ``seconds`` and on the frame grid, that a segment
    needs for its captions to meet every limit: its speech (``sentences``, seconds into
    the narration) starting at ``offset``. ``seconds`` when they fit already, or when
    not even ``longest`` more would do. Pure: planning calls it before any render.
    """
    lo = round(seconds * fps)  # fits(lo) is False past the first check

    def fits(frames: int) -> bool:
        return captions_fit(sentences, offset=offset, fps=fps, video_end=frames / fps)

    if not any(s.text.strip() for s in sentences) or fits(lo):
        return seconds
    step = fps
    hi = lo + step
    while not fits(hi):  # grow until the captions fit
        if hi - lo > longest * fps:
            return seconds
        step *= 2
        hi = lo + step
    while hi - lo > 1:  # then the first frame count at which they do
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi / fps


# ------------------------------------------------------------------ formats


def format_time(seconds: float, sep: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT) or with ``sep="."`` ``HH:MM:SS.mmm`` (WebVTT)."""
    if seconds < 0:
        raise ValueError(f"negative time {seconds}")
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("cue text is empty")
    return "\n".join(lines)


def _ms(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip (written by the ``srt`` library): cues numbered from 1, ``HH:MM:SS,mmm``."""
    import srt

    subs = [
        srt.Subtitle(i, _ms(c.start), _ms(c.end), _clean(c.text)) for i, c in enumerate(cues, 1)
    ]
    return srt.compose(subs, reindex=False).rstrip("\n") + "\n" if subs else ""


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT (written by ``webvtt-py``): ``WEBVTT``, a blank line, ``HH:MM:SS.mmm`` cues."""
    import webvtt

    doc = webvtt.WebVTT()
    for c in cues:
        doc.captions.append(
            webvtt.Caption(format_time(c.start, "."), format_time(c.end, "."),
                           _vtt_escape(_clean(c.text)))
        )
    return doc.content if cues else "WEBVTT\n"


_SRT_TIMING = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d,\d{3} --> \d{2,}:[0-5]\d:[0-5]\d,\d{3}$")
_VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t]+\S.*)?$")


def _normalise_newlines(text: str, fmt: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        raise ValueError(f"{fmt}: stray carriage return")
    return text


def _check_timing_lines(text: str, pattern: re.Pattern[str], fmt: str) -> None:
    """The libraries accept loose timing lines; the formats' exact form is checked here."""
    for n, line in enumerate(text.split("\n"), 1):
        if "-->" in line and not pattern.match(line.strip()):
            raise ValueError(f"{fmt} line {n}: bad timing line {line!r}")


def _check_order(cues: list[Cue], fmt: str) -> None:
    for i, c in enumerate(cues, 1):
        if c.end <= c.start:
            raise ValueError(f"{fmt} cue {i}: ends at or before it starts")
        if i > 1 and c.start < cues[i - 2].end:
            raise ValueError(
                f"{fmt} cue {i}: starts before the previous one ends (out of order or overlapping)"
            )


def parse_srt(text: str) -> list[Cue]:
    """SubRip reader (``srt`` library) that also holds files to the format's letter.

    Raises ``ValueError`` for: cues not numbered 1..n, a timing line not exactly
    ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a cue without text, end not after start, cues out
    of order or overlapping, markup tags in the plain text.
    """
    import srt

    text = _normalise_newlines(text, "SRT")
    _check_timing_lines(text, _SRT_TIMING, "SRT")
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise ValueError(f"SRT: bad timing or layout ({exc})") from None
    cues: list[Cue] = []
    for expect, sub in enumerate(subs, 1):
        if sub.index != expect:
            raise ValueError(f"SRT cue {expect}: expected cue number {expect}, got {sub.index}")
        if not sub.content.strip():
            raise ValueError(f"SRT cue {expect}: has no text")
        if "-->" in sub.content:
            raise ValueError(f"SRT cue {expect}: '-->' in cue text")
        if re.search(r"</?[a-zA-Z][^>]*>", sub.content):
            raise ValueError(f"SRT cue {expect}: markup in plain-text cue")
        cues.append(Cue(sub.start.total_seconds(), sub.end.total_seconds(), sub.content))
    _check_order(cues, "SRT")
    return cues


def parse_vtt(text: str) -> list[Cue]:
    """WebVTT reader (``webvtt-py``) that also holds files to the format's letter.

    Raises ``ValueError`` for: a first line other than ``WEBVTT`` (plus optional title),
    no blank line after it, a timing line without ``.mmm`` milliseconds, a cue without
    text, end not after start, cues out of order or overlapping. ``NOTE`` blocks and cue
    settings are accepted; entities ``&amp; &lt; &gt;`` are decoded.
    """
    import io

    import webvtt
    from webvtt.errors import MalformedFileError

    text = _normalise_newlines(text, "WebVTT")
    lines = text.split("\n")
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise ValueError("WebVTT line 1: must be 'WEBVTT'")
    if len(lines) > 1 and lines[1].strip():
        raise ValueError("WebVTT line 2: must be blank after the header")
    _check_timing_lines(text, _VTT_TIMING, "WebVTT")
    try:
        doc = webvtt.from_buffer(io.StringIO(text))
    except MalformedFileError as exc:
        raise ValueError(f"WebVTT: {exc}") from None
    cues = []
    for i, c in enumerate(doc.captions, 1):
        if not c.text.strip():
            raise ValueError(f"WebVTT cue {i}: has no text")
        cues.append(Cue(_vtt_seconds(c.start), _vtt_seconds(c.end), _vtt_unescape(c.text)))
    _check_order(cues, "WebVTT")
    return cues


def _vtt_seconds(stamp: str) -> float:
    parts = stamp.split(":")
    h = int(parts[0]) if len(parts) == 3 else 0
    m, rest = int(parts[-2]), parts[-1]
    sec, ms = rest.split(".")
    return h * 3600 + m * 60 + int(sec) + int(ms) / 1000


# ------------------------------------------------------------------ checks


def check_cues(
    cues: Sequence[Cue], *, fps: float, video_end: float, max_cps: float = MAX_CPS
) -> list[str]:
    """Every broken caption limit, one readable line each; ``[]`` when all are met.

    ``max_cps`` is the reading-rate limit checked: the 17 characters/s target by
    default; 20 is the rate never to exceed (see :func:`fit_cues`).
    """
    problems: list[str] = []
    min_gap = GAP_FRAMES / fps
    for i, c in enumerate(cues, 1):
        at = f"cue {i} ({format_time(max(c.start, 0.0))})"
        lines = c.text.split("\n")
        if not c.text.strip() or any(not line.strip() for line in lines):
            problems.append(f"{at}: empty text or empty line")
        if len(lines) > MAX_LINES:
            problems.append(f"{at}: {len(lines)} lines > {MAX_LINES}")
        for line in lines:
            if len(line) > MAX_LINE_CHARS:
                problems.append(f"{at}: line of {len(line)} chars > {MAX_LINE_CHARS}: {line!r}")
        if c.start < 0:
            problems.append(f"{at}: starts before 0")
        if c.end <= c.start:
            problems.append(f"{at}: ends at or before its start")
            continue
        if c.duration < MIN_CUE_SECONDS - _EPS:
            problems.append(f"{at}: {c.duration:.3f} s < {MIN_CUE_SECONDS} s")
        if c.duration > MAX_CUE_SECONDS + _EPS:
            problems.append(f"{at}: {c.duration:.3f} s > {MAX_CUE_SECONDS} s")
        if c.cps > max_cps + 1e-3:
            problems.append(f"{at}: {c.cps:.1f} chars/s > {max_cps:g}")
        if i < len(cues):
            nxt = cues[i]
            gap = nxt.start - c.end
            if gap < -_EPS:
                problems.append(f"{at}: overlaps or precedes out of order the next cue")
            elif gap < min_gap - _EPS:
                problems.append(f"{at}: gap {gap * 1000:.0f} ms to the next cue < 2 frames")
    if cues and cues[-1].end > video_end + _EPS:
        problems.append(
            f"last cue ends at {cues[-1].end:.3f} s, after the video end {video_end:.3f} s"
        )
    return problems


def cue_stats(cues: Sequence[Cue]) -> CueStats:
    """Summary figures for logs and reports."""
    if not cues:
        return CueStats(0, 0.0, 0.0, 0.0, 0.0, 0, math.inf)
    durs = [c.duration for c in cues]
    cps = [c.cps for c in cues]
    gaps = [b.start - a.end for a, b in zip(cues, cues[1:], strict=False)]
    return CueStats(
        count=len(cues),
        min_duration=min(durs),
        max_duration=max(durs),
        max_cps=max(cps),
        mean_cps=sum(c.chars for c in cues) / sum(durs),
        max_line=max(len(line) for c in cues for line in c.text.split("\n")),
        min_gap=min(gaps) if gaps else math.inf,
    )
