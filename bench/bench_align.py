"""Word alignment accuracy and take levelling on takes with known word times.

    PYTHONPATH=. .venv/bin/python bench/bench_align.py [--out bench/results]

Takes are continuous espeak-ng speech whose word starts come from espeak's own word
events (``tests/helpers/takes.py``). Each take is then turned into what a
recorder hands over: resampled (22.05 / 44.1 kHz), encoded (mp3, ogg, wav), given
leading silence, made 28 dB quieter, or 18 dB hotter and clipped. Every variant goes
through the pipeline's own take path (:func:`audio.narration.resolve_narration`:
decode, trim, level, align) and its aligned word starts are compared with the truth.

Writes ``align.md`` (tables) and ``align.json`` (every figure) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from audio.level import speech_loudness  # noqa: E402
from audio.narration import resolve_narration  # noqa: E402

from helpers.audio import write_audio  # noqa: E402
from helpers.takes import SR, known_take  # noqa: E402

SCRIPTS = [
    ["The forward process adds a little Gaussian noise at every step.",
     "After a thousand steps the digit is gone, and only noise is left."],
    ["We train a small network to predict the noise that was added.",
     "Its loss is the mean squared error between the two.",
     "Sampling runs the chain backwards from pure noise."],
    ["Each image is a point in a space of many dimensions.",
     "Noise moves it a short way in a random direction."],
    ["The schedule decides how fast the signal fades.",
     "A linear schedule destroys the image early, a cosine one more slowly."],
]

VARIANTS = {
    # name: (sample rate, extension, gain dB, leading silence s)
    "wav 48 kHz": (48_000, ".wav", 0.0, 0.0),
    "wav 22.05 kHz": (22_050, ".wav", 0.0, 0.0),
    "mp3 44.1 kHz": (44_100, ".mp3", 0.0, 0.0),
    "ogg 48 kHz": (48_000, ".ogg", 0.0, 0.0),
    "flac + 2 s lead": (44_100, ".flac", 0.0, 2.0),
    "quiet -28 dB (mp3)": (44_100, ".mp3", -28.0, 0.0),
    "hot +18 dB clipped (wav)": (48_000, ".wav", 18.0, 0.0),
}
CODECS = {".ogg": ["-c:a", "libvorbis", "-q:a", "5"], ".flac": ["-c:a", "flac"]}


def make_file(folder: Path, name: str, x: np.ndarray, variant: tuple) -> Path:
    sr, ext, gain, lead = variant
    y = np.concatenate([np.zeros(int(lead * SR), np.float32), x * 10 ** (gain / 20)])
    y = np.clip(y, -1.0, 1.0)
    if sr != SR:
        from fractions import Fraction

        r = Fraction(sr, SR)
        y = resample_poly(y, r.numerator, r.denominator).astype(np.float32)
    return write_audio(folder / f"{name}{ext}", y, sr, codec_args=CODECS.get(ext))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    rows = {}
    errors_all: list[float] = []
    level_before: list[float] = []
    level_after: list[float] = []
    t_audio = t_spent = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        takes = [known_take(s, seed=i) for i, s in enumerate(SCRIPTS)]
        for vname, variant in VARIANTS.items():
            errs: list[float] = []
            found = expected = 0
            for i, take in enumerate(takes):
                path = make_file(folder, f"take{i}", take.samples, variant)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    n = resolve_narration(segment_id=f"take{i}", script=take.text, clip=path,
                                          cache_dir=None)
                t_spent += time.perf_counter() - t0
                t_audio += n.duration
                assert n.take is not None
                found += n.take.words_found
                expected += n.take.words_expected
                from audio.clips import read_clip

                level_before.append(speech_loudness(read_clip(path)))
                level_after.append(speech_loudness(n.samples))
                truth = np.array(take.starts) + variant[3] - n.take.trimmed_start
                if len(n.words) == len(truth):
                    errs += list(np.abs(np.array([w.start for w in n.words]) - truth))
                path.unlink()
            e = np.array(errs) * 1000
            rows[vname] = {
                "words": len(errs), "found": found, "expected": expected,
                "median_ms": float(np.median(e)) if len(e) else None,
                "p95_ms": float(np.percentile(e, 95)) if len(e) else None,
                "max_ms": float(e.max()) if len(e) else None,
            }
            errors_all += errs
            print(vname, rows[vname], flush=True)
    e = np.array(errors_all) * 1000
    summary = {
        "median_ms": float(np.median(e)), "p95_ms": float(np.percentile(e, 95)),
        "max_ms": float(e.max()), "words": len(e),
        "loudness_spread_before_lu": float(np.ptp(level_before)),
        "loudness_spread_after_lu": float(np.ptp(level_after)),
        "seconds_per_audio_second": t_spent / t_audio,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "align.json").write_text(
        json.dumps({"variants": rows, "all": summary}, indent=2), encoding="utf-8")
    lines = [
        "# Word alignment of recorded takes (bench/bench_align.py)", "",
        f"{len(SCRIPTS)} espeak-ng takes with known word starts, {sum(len(s) for s in SCRIPTS)}"
        " sentences, through decode, trim, level and pocketsphinx alignment.", "",
        "| variant | words found | median error | p95 error | max error |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['found']}/{r['expected']} | {r['median_ms']:.0f} ms | "
                     f"{r['p95_ms']:.0f} ms | {r['max_ms']:.0f} ms |")
    lines += [
        f"| **all** | | **{summary['median_ms']:.0f} ms** | **{summary['p95_ms']:.0f} ms** | "
        f"{summary['max_ms']:.0f} ms |", "",
        "Speech loudness spread across all variant takes: "
        f"{summary['loudness_spread_before_lu']:.1f} LU before levelling, "
        f"{summary['loudness_spread_after_lu']:.2f} LU after.",
        "Take processing (decode, level, align): "
        f"{summary['seconds_per_audio_second']:.2f} s per second of audio on this machine "
        "(shared, loaded).", "",
    ]
    (args.out / "align.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
