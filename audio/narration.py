"""Where a segment's narration comes from, and when each of its sentences is spoken.

Sources, first that exists wins (:func:`resolve_narration`):

1. a recorded clip: the explicit ``clip`` path, else ``<narration_dir>/<segment_id>.<ext>``;
   sentence times come from the pauses in it (:func:`sentence_times_from_audio`);
2. Piper, the bundled neural voice (:mod:`audio.piper_voice`), exact sentence and word times;
3. espeak-ng (:mod:`audio.speech`), exact sentence and word times;
4. timed silence at reading pace (estimated sentence times, no word times).

Each fallback is announced with a warning that says why. ``voice`` chooses a synthetic
source explicitly (:func:`parse_voice`): ``"auto"`` (the order above), ``"piper"`` or
``"piper:<model.onnx>"``, ``"espeak"`` or ``"espeak:<voice>"``, ``"silence"``; a chosen
source that cannot run is an error, not a silent fallback. A recorded clip always wins
over synthesis. ``strict=True`` accepts only recorded clips.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.align import Alignment, align, aligner_version, onset_after_pause
from audio.clips import (
    CLIP_EXTENSIONS,
    NarrationError,
    decode_clip,
    find_clip,
    read_clip,
)
from audio.level import TakeLevel, TakeReport, level_take, speech_loudness, trim_edges
from audio.pcm import SAMPLE_RATE
from audio.piper_voice import PiperEngine, piper_available
from audio.piper_voice import release as release_piper
from audio.recognise import draft_text, recognise
from audio.sentences import Sentence, Word, proportional_times, split_sentences
from audio.sources import SOURCES, Narration, SpeechEngine, silent_narration, synthesize
from audio.speech import EspeakEngine, espeak_binary, speak
from audio.textnorm import readings, shown

__all__ = [
    "NarrationError",
    "Sentence",
    "Word",
    "Narration",
    "PauseTiming",
    "VOICES",
    "parse_voice",
    "split_sentences",
    "read_clip",
    "find_clip",
    "speak",
    "silent_narration",
    "sentence_times_from_audio",
    "detect_sentence_times",
    "resolve_narration",
]

VOICES = ("auto", "piper", "espeak", "silence")
DEFAULT_MIN_SILENCE_MS = 180
ANALYSIS_RATE = 16_000  # pause detection runs on a 16 kHz mono copy (3x fewer samples)
assert set(VOICES) - {"auto"} <= set(SOURCES)


def parse_voice(voice: str) -> tuple[str, str | None]:
    """``"espeak:en-gb"`` -> ``("espeak", "en-gb")``; raises ``ValueError`` for unknown kinds."""
    kind, _, arg = voice.partition(":")
    kind = kind.strip().lower()
    if kind not in VOICES:
        raise ValueError(
            f"voice {voice!r}: expected one of {', '.join(VOICES)} (optionally kind:detail)"
        )
    if kind in ("auto", "silence") and arg:
        raise ValueError(f"voice {voice!r}: {kind} takes no detail")
    return kind, (arg.strip() or None)


# ------------------------------------------------------------------ pause analysis


@dataclass(frozen=True)
class PauseTiming:
    """Result of :func:`detect_sentence_times`: the times and how they were found."""

    sentences: tuple[Sentence, ...]
    method: str  # "pauses" | "proportional" | "no-voice" | "single" | "empty"
    threshold_dbfs: float
    pauses_found: int


def _analysis_signal(samples: np.ndarray, sr: int) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sr != ANALYSIS_RATE and len(x):
        from fractions import Fraction

        from scipy.signal import resample_poly

        r = Fraction(ANALYSIS_RATE, sr)
        x = resample_poly(x, r.numerator, r.denominator)
    return x


def _auto_threshold(x: np.ndarray, sr: int) -> float:
    """Silence threshold in dBFS from the level distribution of 10 ms frames.

    ``max(loud - 35, floor + 10)``, capped at ``loud - 6``, where ``loud`` is the 95th
    and ``floor`` the 10th percentile of frame RMS: well under speech, above room noise.
    """
    frame = max(1, sr // 100)
    n = len(x) // frame
    if n == 0:
        return -50.0
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-5))  # floor at -100 dBFS
    loud = float(np.percentile(db, 95))
    floor = float(np.percentile(db, 10))
    return min(max(loud - 35.0, floor + 10.0), loud - 6.0)


def detect_sentence_times(
    samples: np.ndarray,
    sentences: Sequence[str],
    *,
    sr: int = SAMPLE_RATE,
    min_silence_ms: int = DEFAULT_MIN_SILENCE_MS,
    thresh: float | None = None,
) -> PauseTiming:
    """Sentence times in a recorded clip, with a note on how they were found.

    Voiced stretches are found with ``pydub.silence.detect_nonsilent`` (a pause is at
    least ``min_silence_ms`` below ``thresh`` dBFS; default threshold from
    :func:`_auto_threshold`). With N script sentences, the N-1 longest pauses are the
    sentence boundaries; each sentence spans from its first to its last voiced
    millisecond. With fewer pauses than that, the voiced span is shared in proportion
    to character counts. A clip without any voice gets proportional times over its
    whole length.
    """
    from pydub import AudioSegment
    from pydub.silence import detect_nonsilent

    texts = list(sentences)
    x = _analysis_signal(samples, sr)
    total = len(np.asarray(samples)) / sr
    th = _auto_threshold(x, ANALYSIS_RATE) if thresh is None else float(thresh)
    if not texts:
        return PauseTiming((), "empty", th, 0)
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2").tobytes()
    seg = AudioSegment(data=pcm, sample_width=2, frame_rate=ANALYSIS_RATE, channels=1)
    voiced = detect_nonsilent(
        seg, min_silence_len=int(min_silence_ms), silence_thresh=th, seek_step=1
    )
    if not voiced:
        return PauseTiming(proportional_times(texts, 0.0, total), "no-voice", th, 0)
    voiced_s = [(min(a / 1000, total), min(b / 1000, total)) for a, b in voiced]
    first, last = voiced_s[0][0], voiced_s[-1][1]
    n = len(texts)
    gaps = len(voiced_s) - 1
    if n == 1:
        return PauseTiming((Sentence(texts[0], first, last),), "single", th, gaps)
    if gaps < n - 1:
        times = proportional_times(texts, first, last, gap=0.3)
        return PauseTiming(times, "proportional", th, gaps)
    lengths = [(voiced_s[i + 1][0] - voiced_s[i][1], i) for i in range(gaps)]
    chosen = sorted(i for _, i in sorted(lengths, key=lambda p: (-p[0], p[1]))[: n - 1])
    out = []
    begin = first
    for k, i in enumerate(chosen):
        out.append(Sentence(texts[k], begin, voiced_s[i][1]))
        begin = voiced_s[i + 1][0]
    out.append(Sentence(texts[-1], begin, last))
    return PauseTiming(tuple(out), "pauses", th, gaps)


def sentence_times_from_audio(
    samples: np.ndarray,
    sentences: Sequence[str],
    *,
    sr: int = SAMPLE_RATE,
    min_silence_ms: int = DEFAULT_MIN_SILENCE_MS,
    thresh: float | None = None,
) -> tuple[Sentence, ...]:
    """Sentence times in ``samples`` (see :func:`detect_sentence_times`)."""
    return detect_sentence_times(
        samples, sentences, sr=sr, min_silence_ms=min_silence_ms, thresh=thresh
    ).sentences


# ------------------------------------------------------------------ resolution


TRANSCRIPT_EXTENSIONS = (".txt", ".srt", ".vtt")


def find_transcript(take: Path) -> Path | None:
    """``<stem>.txt``, ``.srt`` or ``.vtt`` beside a take (what was really said), or ``None``.

    Two of them for one take are ambiguous: :class:`NarrationError`.
    """
    found = [take.with_suffix(ext) for ext in TRANSCRIPT_EXTENSIONS]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise NarrationError(
            f"{take.parent}: several transcripts for {take.name} ({names}); keep one"
        )
    return found[0] if found else None


def read_transcript(path: Path) -> str:
    """The words of a transcript: plain text, or the cue texts of an SRT / WebVTT file."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise NarrationError(f"{path}: cannot read transcript ({exc})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".srt":
            import srt

            text = " ".join(c.content for c in srt.parse(raw))
        elif suffix == ".vtt":
            import io

            import webvtt

            text = " ".join(c.text for c in webvtt.from_buffer(io.StringIO(raw)).captions)
        else:
            text = raw
    except Exception as exc:  # both libraries raise their own error types
        raise NarrationError(f"{path}: not a valid {suffix[1:]} transcript ({exc})") from None
    text = " ".join(text.split())
    if not text:
        raise NarrationError(f"{path}: transcript is empty")
    return text


def _sentence_times(
    texts: list[str], alignment: Alignment, pauses: PauseTiming, total: float,
    samples: np.ndarray | None = None,
) -> tuple[Sentence, ...]:
    """Sentence spans from the aligned words; sentences without a found word share the
    time between their aligned neighbours (or get their pause-based times), from the
    speech onset after the pause that follows the sentence before them."""
    spans: list[tuple[float, float] | None] = [None] * len(texts)
    for w, ok, i in zip(alignment.words, alignment.found, alignment.sentence, strict=True):
        if ok:
            span = spans[i]
            spans[i] = (w.start, w.end) if span is None else (span[0], max(span[1], w.end))
    if all(s is None for s in spans):
        return pauses.sentences
    out: list[Sentence] = []
    i = 0
    while i < len(texts):
        span = spans[i]
        if span is not None:
            out.append(Sentence(texts[i], max(span[0], out[-1].end if out else 0.0), span[1]))
            i += 1
            continue
        j = i
        while j < len(texts) and spans[j] is None:
            j += 1
        lo = out[-1].end if out else (pauses.sentences[0].start if pauses.sentences else 0.0)
        nxt = spans[j] if j < len(texts) else None
        last = pauses.sentences[-1].end if pauses.sentences else total
        hi = nxt[0] if nxt is not None else max(lo, last)
        onset = onset_after_pause(samples, lo, hi) if samples is not None and out else None
        lo = onset if onset is not None else lo
        out.extend(proportional_times(texts[i:j], lo, max(lo, hi), gap=0.1))
        i = j
    return tuple(out)


# Code that shapes a take's analysis: a change in any of these invalidates the cache.
_ANALYSIS_SOURCES = ("narration.py", "clips.py", "pcm.py", "sentences.py", "level.py",
                     "peaks.py", "align.py", "textnorm.py", "recognise.py")


@functools.lru_cache(maxsize=1)
def _analysis_version() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in _ANALYSIS_SOURCES:
        if (here / name).exists():
            h.update(name.encode() + (here / name).read_bytes())
    return h.hexdigest()[:16]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _clip_narration(
    path: Path,
    script: str,
    *,
    segment_id: str,
    cache_dir: str | Path | None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
) -> Narration:
    """A recorded take, analysed once: decoding, trimming, levelling, pause detection and
    alignment are cached in ``cache_dir/clips`` under a hash of the take's content, its
    transcript or script, the flags and the analysing code. A re-run reads the levelled
    samples, sentence and word times and the take report back instead of redoing them.
    """
    transcript = find_transcript(path)
    key = hashlib.sha256(json.dumps({
        "take": _file_digest(path),
        "transcript": _file_digest(transcript) if transcript is not None else None,
        "script": script, "flags": [strict, allow_clipped, allow_unaligned],
        "code": _analysis_version(),
    }).encode()).hexdigest()[:32]
    folder = Path(cache_dir) / "clips" if cache_dir is not None else None
    if folder is not None:
        try:
            with open(folder / f"{key}.pickle", "rb") as fh:
                fields = pickle.load(fh)  # our own cache folder, written below
            samples = np.load(folder / f"{key}.npy", mmap_mode="r")
            # The same take may sit elsewhere (another folder, a worker's scratch copy):
            # the record names this one, and the transcript beside it.
            fields["path"] = path
            if fields.get("take") is not None:
                fields["take"] = dataclasses.replace(
                    fields["take"], transcript=str(transcript) if transcript else None)
            cached = Narration(samples=samples, **fields)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, TypeError):
            pass
        else:
            _still_off_script(cached, segment_id)
            return cached
    draft_to = folder / f"{key}-draft" / f"{segment_id}.txt" if folder is not None else None
    n = _analyse_clip(path, script, segment_id=segment_id, cache_dir=cache_dir, strict=strict,
                      allow_clipped=allow_clipped, allow_unaligned=allow_unaligned,
                      draft_to=draft_to)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}-{os.getpid()}"
        np.save(tmp.with_suffix(".npy"), np.ascontiguousarray(n.samples))
        fields = {f.name: getattr(n, f.name) for f in dataclasses.fields(n) if f.name != "samples"}
        with open(tmp.with_suffix(".pickle"), "wb") as fh:
            pickle.dump(fields, fh)
        os.replace(tmp.with_suffix(".npy"), folder / f"{key}.npy")
        os.replace(tmp.with_suffix(".pickle"), folder / f"{key}.pickle")
    return n


def _still_off_script(n: Narration, segment_id: str) -> None:
    """A take read back from the cache: an off-script take is warned about on every
    render, and its draft transcript written again when it was removed."""
    take = n.take
    if take is None or not take.approximate or n.path is None:
        return
    if take.draft is not None and not Path(take.draft).is_file():
        write_draft(Path(take.draft), n.sentences)
    warnings.warn(off_script_message(n.path, segment_id, take), stacklevel=4)


def _analyse_clip(
    path: Path,
    script: str,
    *,
    segment_id: str,
    cache_dir: str | Path | None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
    draft_to: Path | None = None,
) -> Narration:
    """A recorded take: trimmed of silence, levelled, aligned to what was said. A take
    off its script with no transcript beside it is captioned from the recogniser
    (:func:`_heard`), its draft transcript written to ``draft_to``."""
    decoded = decode_clip(path)
    trimmed, cut = trim_edges(decoded.samples)
    samples, level = level_take(trimmed, decoded.clipped_share)
    where = f"{path} (segment {segment_id!r})"
    _warn_level(where, level, strict=strict, allow_clipped=allow_clipped)
    transcript = find_transcript(path)
    text = read_transcript(transcript) if transcript is not None else script
    sentences = split_sentences(shown(text))
    pauses = detect_sentence_times(samples, sentences)
    said = [readings(s) for s in sentences]  # every way of reading it aloud
    windows = [(s.start, s.end) for s in pauses.sentences]
    alignment = align(samples, said, windows if len(windows) == len(said) else None,
                      cache_dir=cache_dir)
    found, expected = sum(alignment.found), alignment.expected
    approximate = not alignment.on_script
    if approximate and strict and not allow_unaligned:
        raise NarrationError(
            f"{where}: the take does not follow its {'transcript' if transcript else 'script'}"
            f": {found} of {expected} words ({alignment.share:.0%}) found (add a transcript "
            "beside it, or pass --allow-unaligned)")
    times = _sentence_times(sentences, alignment, pauses, len(samples) / SAMPLE_RATE, samples)
    source = "transcript" if transcript is not None else "script"
    draft = None
    if approximate and transcript is None:
        heard = _heard(samples, cache_dir, draft_to)
        if heard is not None:
            times, draft, source = heard[0], heard[1], "recogniser"
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(json.dumps({"text": text, "aligner": aligner_version(),
                         "heard": [s.text for s in times] if draft is not None else None},
                        ensure_ascii=False).encode())
    how = (
        f"{found}/{expected} words aligned" if not approximate
        else f"off-script ({alignment.share:.0%} of words found), "
        + ("captions from the recogniser (draft)" if source == "recogniser"
           else "times estimated")
    )
    report = TakeReport(level, cut, found, expected, approximate,
                        str(transcript) if transcript else None, transcript_source=source,
                        draft=draft, levelled_lufs=speech_loudness(samples),
                        source_format=decoded.describe)
    if approximate:
        warnings.warn(off_script_message(path, segment_id, report), stacklevel=3)
    return Narration(
        source="clip", samples=samples, sentences=times, path=path,
        detail=f"{decoded.describe}; {level.describe()}; {how}", cache_key=h.hexdigest(),
        words=alignment.found_words(), take=report,
    )


def _warn_level(where: str, level: TakeLevel, *, strict: bool, allow_clipped: bool) -> None:
    """A clipped take is a warning (under ``strict`` an error unless allowed); a noisy
    one is a warning."""
    if level.clipped:
        msg = (
            f"{where}: clipped take, {level.clipped_share:.2%} of its loud samples at full "
            "scale; re-record it"
        )
        if strict and not allow_clipped:
            raise NarrationError(msg + " (or pass --allow-clipped)")
        warnings.warn(msg, stacklevel=4)
    if level.noisy:
        warnings.warn(
            f"{where}: noisy take, speech only {level.snr_db:.0f} dB above the room "
            f"(floor {level.floor_dbfs:.0f} dBFS)",
            stacklevel=4,
        )


def _heard(samples: np.ndarray, cache_dir: str | Path | None,
           draft_to: Path | None) -> tuple[tuple[Sentence, ...], str | None] | None:
    """The sentences the recogniser heard in an off-script take, and where its draft
    transcript was written; ``None`` when it heard no words."""
    heard = recognise(samples, cache_dir=cache_dir)
    if not heard.sentences:
        return None
    if draft_to is None:
        return heard.sentences, None
    write_draft(draft_to, heard.sentences)
    return heard.sentences, str(draft_to)


def write_draft(path: Path, sentences: Sequence[Sentence]) -> None:
    """The recogniser's draft transcript at ``path`` (temporary file, then renamed), in
    the plain-text format a ``<segment-id>.txt`` beside a take is read in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}-{os.getpid()}")
    tmp.write_text(draft_text(sentences), encoding="utf-8")
    os.replace(tmp, path)


def off_script_message(path: Path, segment_id: str, take: TakeReport) -> str:
    """The warning for a take that does not follow its text: its segment, its file, how
    much of the text was found, and where the captions come from."""
    text = "transcript" if take.transcript_source == "transcript" else "script"
    msg = (f"{path} (segment {segment_id!r}): the take does not follow its {text}: "
           f"{take.words_found} of {take.words_expected} words ({take.share_found:.0%}) "
           "found; captions are approximate")
    write = path.with_suffix(".txt")
    if take.transcript_source == "recogniser":
        saved = f"draft {take.draft}" if take.draft else "draft (not saved: no cache folder)"
        return (f"{msg}, a recogniser {saved}; for exact captions correct it and save it as "
                f"{write}")
    if take.transcript_source == "script":
        return f"{msg} (the recogniser heard no words); write what was said in {write}"
    return msg


def expected_clip_paths(narration_dir: str | Path | None, segment_id: str) -> list[Path]:
    """Where :func:`find_clip` looks for a segment's clip (for error messages)."""
    folder = Path(narration_dir) if narration_dir is not None else Path("<narration_dir>")
    return [folder / f"{segment_id}{ext}" for ext in CLIP_EXTENSIONS]


def release_voices() -> None:
    """Free the synthetic voices' models (call when no more speech is needed for now)."""
    release_piper()


def _engine(kind: str, arg: str | None, wpm: int) -> SpeechEngine:
    if kind == "piper":
        return PiperEngine(wpm, model=arg)
    return EspeakEngine(arg or "en-us", wpm)


def resolve_narration(
    *,
    segment_id: str,
    script: str,
    clip: str | Path | None = None,
    narration_dir: str | Path | None = None,
    strict: bool = False,
    cache_dir: str | Path,
    voice: str = "auto",
    wpm: int = 160,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
) -> Narration:
    """The narration of one segment from the first source that exists (module docstring).

    A recorded take is levelled and aligned (:func:`_clip_narration`); under ``strict``
    a clipped take or one that does not follow its text is an error unless allowed.

    An explicit ``clip`` that does not exist is an error (it was asked for by name).
    An empty ``script`` without a clip gives an empty silent narration (no sentences).
    """
    kind, arg = parse_voice(voice)
    sentences = split_sentences(shown(script))
    if clip is not None:
        path = Path(clip)
        if not path.is_file():
            raise NarrationError(f"{path}: narration clip for segment {segment_id!r} not found")
        found: Path | None = path
    else:
        found = find_clip(narration_dir, segment_id)
    if found is not None:
        return _clip_narration(
            found, script, segment_id=segment_id, cache_dir=cache_dir, strict=strict,
            allow_clipped=allow_clipped, allow_unaligned=allow_unaligned,
        )
    if strict:
        where = ", ".join(str(p) for p in expected_clip_paths(narration_dir, segment_id))
        raise NarrationError(
            f"segment {segment_id!r}: strict mode needs a recorded clip; none of {where} exists"
        )
    if not sentences or kind == "silence":
        return silent_narration(script if sentences else "", wpm=wpm)
    if kind != "auto":
        return synthesize(_engine(kind, arg, wpm), script, cache_dir=cache_dir)
    why_not = piper_available()
    if why_not is None:
        return synthesize(PiperEngine(wpm), script, cache_dir=cache_dir)
    if espeak_binary() is not None:
        warnings.warn(
            f"segment {segment_id!r}: no recorded clip and Piper cannot run ({why_not}); "
            "using espeak-ng",
            stacklevel=2,
        )
        return synthesize(EspeakEngine("en-us", wpm), script, cache_dir=cache_dir)
    warnings.warn(
        f"segment {segment_id!r}: no recorded clip, Piper cannot run ({why_not}) and "
        f"espeak-ng is not installed; using timed silence at {wpm} wpm",
        stacklevel=2,
    )
    return silent_narration(script, wpm=wpm)

