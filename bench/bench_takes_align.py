"""Sentence and bookmark starts of takes read by other voices from the display text.

    PYTHONPATH=. .venv/bin/python bench/bench_takes_align.py [--quick] [--out bench/results]

Every sentence of the shipped lectures (``config/*.toml``, placeholders filled in) is
read as a lecturer reads a slide: the display text, digits and symbols as written, said
in the voice's own way and, for some numbers, reworded as people say them
(``tests/helpers/display_takes.py``). The voices are espeak-ng variants at several rates
and CMU Flite's voices (when ``flite`` is installed), never the project's Piper voice.
Each segment is one take: a lead-in of 0.4-1.5 s, pauses between sentences, an echo,
reverberation and room noise, written as mp3, wav, m4a, ogg or flac (in turn). Each
sentence of six words or more gets a bookmark, after its first number or symbol when it
has one, else mid-sentence. The true start of every sentence and bookmark comes from
the synthesiser, never from the aligner: espeak-ng voices speak each sentence in one
piece and the bookmark's time is the onset of the next word from libespeak-ng's word
events ("continuous"); Flite voices, which give no word events, are synthesised in
pieces split at the bookmarks with 40-120 ms of silence between ("pieces"), which makes
their bookmarks easier to place. The bookmark figures are given per mode; ``--pieces``
puts every voice in the piece mode (the bench's earlier truth).

Each take goes through the pipeline's own take path
(:func:`audio.narration.resolve_narration`: decode, trim, level, align) and bookmarks
through :func:`audio.script.mark_time`, as planning places beats. To measure another
tree's aligner (main, before a change), run this script with ``PYTHONPATH`` set to it.

Writes ``takes-align.md`` and ``takes-align.json`` to ``--out`` (``--quick``: a check
run on a few segments, written as ``takes-align-quick.*``). ``--compare`` puts an
earlier run's figures beside this one's: the full bench, before and after::

    PYTHONPATH=/path/to/main .venv/bin/python bench/bench_takes_align.py --name takes-align-before
    PYTHONPATH=. .venv/bin/python bench/bench_takes_align.py \
        --compare bench/results/takes-align-before.json

and the same with ``--pieces`` (names ``takes-align-pieces-before`` and
``takes-align-pieces``) for the piece truth with every voice, as the bench had first.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from audio.narration import resolve_narration  # noqa: E402
from audio.script import mark_time, parse_marks  # noqa: E402
from audio.sentences import split_sentences  # noqa: E402
from audio.textnorm import shown, spoken_words  # noqa: E402

from helpers.audio import write_audio  # noqa: E402
from helpers.display_takes import SR, build_take, voices  # noqa: E402

FORMATS = ((".mp3", 44_100), (".wav", 48_000), (".m4a", 44_100), (".ogg", 48_000),
           (".flac", 22_050))
_SYMBOLIC = re.compile(r"\d|[=×·√ᾱ_^⁻⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]|[α-ωΑ-Ω]")


def lecture_segments() -> list[tuple[str, list[str]]]:
    """(segment id, display sentences) of every shipped lecture, placeholders filled."""
    from pipeline.planning.manifest import load_lecture

    out = []
    for path in sorted(glob.glob(str(ROOT / "config" / "*.toml"))):
        for seg in load_lecture(path).segments:
            sentences = split_sentences(shown(seg.narration))
            if sentences:
                out.append((seg.id, sentences))
    return out


def with_bookmark(sentence: str, name: str) -> str:
    """``sentence`` with a bookmark before one word: the word after its first number or
    symbol, else its middle word; unchanged when it has fewer than six words."""
    toks = sentence.split()
    if len(toks) < 6:
        return sentence
    at = len(toks) // 2
    for k, tok in enumerate(toks[1:-1], start=1):
        if _SYMBOLIC.search(tok):
            at = k + 1
            break
    if not spoken_words(toks[at]):
        return sentence
    return " ".join([*toks[:at], f'<mark name="{name}"/>', *toks[at:]])


def run_take(folder: Path, k: int, seg_id: str, sentences: list[str],
             pieces: bool = False) -> dict[str, Any]:
    """Build one take, run it through the pipeline, and return its errors (seconds)."""
    vs = voices()
    voice = vs[k % len(vs)]
    ext, rate = FORMATS[k % len(FORMATS)]
    marked = [with_bookmark(s, f"b{k}_{i}") for i, s in enumerate(sentences)]
    take = build_take(marked, voice, seed=k, pieces=True if pieces else None)
    path = folder / f"{seg_id}{ext}"
    y = take.samples
    if rate != SR:
        from scipy.signal import resample_poly

        y = resample_poly(y, rate // 50, SR // 50).astype(np.float32)
    write_audio(path, y, rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = resolve_narration(segment_id=seg_id, script=take.script, clip=path, cache_dir=None)
    assert n.take is not None
    cut = n.take.trimmed_start
    if len(n.sentences) != len(take.sentence_starts):
        raise SystemExit(f"{seg_id}: {len(n.sentences)} sentences, {len(sentences)} expected")
    sent = [s.start + cut - t for s, t in zip(n.sentences, take.sentence_starts, strict=True)]
    marks = {m.name: mark_time(m, take.script, n.words, n.sentences)[0] + cut
             for m in parse_marks(take.script)}
    mark_err = [marks[name] - t for name, t in take.mark_starts.items()]
    sound_err = [marks[name] - t for name, t in take.mark_sounds.items()]
    path.unlink()
    return {"segment": seg_id, "voice": take.voice, "mode": take.mode, "format": ext,
            "rate": rate, "marks": list(take.mark_starts),
            "said": list(take.said), "sentence_errors": sent, "bookmark_errors": mark_err,
            "bookmark_sound_errors": sound_err,
            "words_found": n.take.words_found, "words_expected": n.take.words_expected}


def stats(errors: list[float]) -> dict[str, Any]:
    e = np.array(errors) * 1000
    a = np.abs(e)
    return {"count": len(e), "median_ms": float(np.median(a)),
            "p95_ms": float(np.percentile(a, 95)), "worst_ms": float(a.max()),
            "early_over_100ms": int((e < -100).sum()), "late_over_100ms": int((e > 100).sum()),
            "over_250ms": int((a > 250).sum())}


def aligner_tree() -> str:
    import audio

    src = Path(audio.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "?"
    return f"{src} @ {head}"


MODES = ("continuous", "pieces")


def _mode_note(result: dict[str, Any]) -> list[str]:
    modes = {t["voice"]: t["mode"] for t in result["per_take"]}
    cont = sorted(v for v, m in modes.items() if m == "continuous")
    piece = sorted(v for v, m in modes.items() if m == "pieces")
    return [
        "Truth of bookmarks: *continuous* = the sentence spoken in one piece, the bookmark "
        "at the onset of the next word from libespeak-ng's word events (" +
        (", ".join(cont) or "no voice") + "); *pieces* = the sentence synthesised in "
        "pieces split at the bookmark with 40-120 ms of silence between, the bookmark at "
        "its piece's first sample (" + (", ".join(piece) or "no voice") + "; Flite gives "
        "no word events). The pieces' silences make bookmarks easier: the continuous row "
        "is the honest one. Sentence starts are the first sample of each sentence's audio "
        "in both modes."]


def report(result: dict[str, Any]) -> str:
    s, b = result["sentences"], result["bookmarks"]
    lines = [
        "# Sentence and bookmark starts of other voices' takes (bench/bench_takes_align.py)",
        "", f"Aligner: `{result['tree']}`. {result['takes']} takes, voices: "
        f"{', '.join(result['voices'])}; formats mp3, wav, m4a, ogg, flac.", "",
        *_mode_note(result), "", "Targets (issue 23): p95 at most 100 ms, worst at most "
        "250 ms.", "",
        "| starts of | count | median | p95 | worst | early > 100 ms | late > 100 ms "
        "| > 250 ms |", "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = [("sentences", s), ("bookmarks, all voices", b)]
    rows += [(f"bookmarks, {mode} truth", result[f"bookmarks_{mode}"])
             for mode in MODES if f"bookmarks_{mode}" in result]
    if "bookmarks_continuous_first_sound" in result:
        rows.append(("bookmarks, continuous truth at the word's first sound",
                      result["bookmarks_continuous_first_sound"]))
    if "before" in result:
        b = result["before"]
        titles = {"sentences": "sentences", "bookmarks": "bookmarks, all voices",
                  **{f"bookmarks_{m}": f"bookmarks, {m} truth" for m in MODES}}
        rows += [(f"{title}, {b['label']}", b[name]) for name, title in titles.items()
                 if name in b]
    for name, r in rows:
        lines.append(f"| {name} | {r['count']} | {r['median_ms']:.0f} ms | {r['p95_ms']:.0f} ms"
                     f" | {r['worst_ms']:.0f} ms | {r['early_over_100ms']} | "
                     f"{r['late_over_100ms']} | {r['over_250ms']} |")
    lines += ["", "Worst sentence starts (negative: placed before the voice says it):", ""]
    worst = sorted(((e, t["segment"], i, t["voice"], t["format"]) for t in result["per_take"]
                    for i, e in enumerate(t["sentence_errors"])), key=lambda r: -abs(r[0]))
    lines += [f"- {e * 1000:+.0f} ms: {seg} sentence {i + 1} ({v}, {f})"
              for e, seg, i, v, f in worst[:8]]
    lines += ["", "Worst bookmark starts (truth as the mode gives it):", ""]
    worst_b = sorted(((e, t["segment"], n, t["voice"], t["mode"]) for t in result["per_take"]
                      for n, e in zip(t["marks"], t["bookmark_errors"], strict=True)),
                     key=lambda r: -abs(r[0]))
    lines += [f"- {e * 1000:+.0f} ms: {seg} bookmark {n} ({v}, {m})"
              for e, seg, n, v, m in worst_b[:8]]
    lines += ["", "Other runs: `takes-align-pieces.md` (every voice in the piece mode, the "
              "same takes otherwise); `takes-align-v1.md` (the first figures, piece truth, "
              "takes drawn otherwise)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a check run on a few segments")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--name", default="takes-align", help="file stem of the results")
    ap.add_argument("--compare", type=Path, help="a JSON of an earlier run (another "
                    "tree's aligner or truth) to show beside this one")
    ap.add_argument("--compare-label", default="before",
                    help="how the report names the --compare run")
    ap.add_argument("--pieces", action="store_true", help="every voice in the piece "
                    "mode (bookmarks after a silence), the bench's earlier truth")
    args = ap.parse_args()
    segments = lecture_segments()
    if args.quick:
        segments = [s for s in segments if any(_SYMBOLIC.search(x) for x in s[1])][:5]
    takes = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (seg_id, sentences) in enumerate(segments):
            t = run_take(Path(tmp), k, seg_id, sentences, args.pieces)
            takes.append(t)
            errs = ", ".join(f"{e * 1000:+.0f}" for e in t["sentence_errors"])
            print(f"{seg_id} ({t['voice']}, {t['format']}): {errs} ms", flush=True)
    result = {
        "tree": aligner_tree(), "quick": args.quick, "takes": len(takes),
        "voices": sorted({t["voice"] for t in takes}),
        "sentences": stats([e for t in takes for e in t["sentence_errors"]]),
        "bookmarks": stats([e for t in takes for e in t["bookmark_errors"]]),
        "per_take": takes,
    }
    for mode in MODES:
        errs = [e for t in takes if t["mode"] == mode for e in t["bookmark_errors"]]
        if errs:
            result[f"bookmarks_{mode}"] = stats(errs)
    sounds = [e for t in takes if t["mode"] == "continuous" for e in t["bookmark_sound_errors"]]
    if sounds:
        result["bookmarks_continuous_first_sound"] = stats(sounds)
    if args.compare is not None:
        old = json.loads(args.compare.read_text(encoding="utf-8"))
        result["before"] = {k: v for k, v in old.items() if k == "tree" or k == "sentences"
                            or k.startswith("bookmarks")}
        result["before"]["label"] = f"{args.compare_label} (`{old['tree']}`)"
    stem = args.name + ("-quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (args.out / f"{stem}.md").write_text(report(result), encoding="utf-8")
    print(report(result))


if __name__ == "__main__":
    main()
