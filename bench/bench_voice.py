"""Benchmark the synthetic voices on a lecture's narration (one run, both voices).

For Piper (the default, en_US-joe-medium) and espeak-ng it measures, on a cold
private speech cache:

* synthesis speed: wall time / narration duration (must be well under 1), after the
  model is loaded; also CPU seconds per narration second (less sensitive to other
  work on a shared machine; the load average is recorded);
* intelligibility: every sentence is transcribed by pocketsphinx (its bundled US
  English acoustic model, language model and dictionary; offline) and the word error
  rate is computed against the words the voice was asked to say
  (:func:`audio.textnorm.spoken_words`). The recogniser is the same for both voices, so
  the ratio of the two WERs is what matters; the target is Piper <= half of espeak-ng;
* speaking rate (spoken words per minute inside sentences) and, for Piper, the rate at
  length scale 1 (``NATURAL_WPM`` in audio/piper_voice.py);
* word-time exactness: for every word that follows a pause of 80 ms or more, the
  distance between the engine's word start and where the voice resumes in the audio.

Shared machines are noisy: compare ratios within one run, not absolute seconds.

    .venv/bin/python bench/bench_voice.py [--lecture ID] [--limit N]

Writes ``bench/results/voice-<lecture>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio.pcm import SAMPLE_RATE  # noqa: E402
from audio.piper_voice import PiperEngine  # noqa: E402
from audio.sources import Narration, SpeechEngine, synthesize  # noqa: E402
from audio.speech import EspeakEngine  # noqa: E402
from audio.textnorm import shown, spoken_words  # noqa: E402
from pipeline.planning.manifest import load_lecture  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def decoder():  # type: ignore[no-untyped-def]
    from pocketsphinx import Decoder

    return Decoder(loglevel="FATAL")


def transcribe(dec, samples: np.ndarray) -> list[str]:  # type: ignore[no-untyped-def]
    """Words pocketsphinx hears in 48 kHz stereo float audio (resampled to 16 kHz mono)."""
    from scipy.signal import resample_poly

    r = Fraction(16_000, SAMPLE_RATE)
    mono = resample_poly(np.asarray(samples, np.float64).mean(axis=1), r.numerator, r.denominator)
    pcm = np.clip(np.round(mono * 32767), -32768, 32767).astype("<i2").tobytes()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    hyp = dec.hyp()
    words = hyp.hypstr.split() if hyp is not None else []
    return [w.split("(")[0].lower() for w in words if not w.startswith("<") and w != "[noise]"]


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def onset_errors(n: Narration) -> list[float]:
    """Engine word start minus where the voice resumes, for words after a >= 80 ms pause."""
    m = np.abs(np.asarray(n.samples, np.float64).mean(axis=1))
    f = SAMPLE_RATE // 1000
    k = len(m) // f
    env = m[: k * f].reshape(k, f).max(axis=1)
    loud = env > np.percentile(env, 95) * 10 ** (-35 / 20)
    resumes = [i / 1000 for i in range(80, k) if loud[i] and not loud[i - 80 : i].any()]
    out = []
    for r in resumes:
        w = min(n.words, key=lambda w: abs(w.start - r))
        if abs(w.start - r) < 0.25:  # the word that starts there (not a stop's closure)
            out.append(w.start - r)
    return out


def bench_engine(engine: SpeechEngine, scripts: list[str], cache: Path) -> dict:
    dec = decoder()
    engine.say("Warm up.", ["Warm", "up"])  # model load is not synthesis
    synth_s = cpu_s = 0.0
    narr_s = 0.0
    errors = words = 0
    spoken_n = 0
    voiced_s = 0.0
    onsets: list[float] = []
    per_segment = []
    for script in scripts:
        t0, c0 = time.perf_counter(), time.process_time()
        n = synthesize(engine, script, cache_dir=cache)
        synth_s += time.perf_counter() - t0
        cpu_s += time.process_time() - c0
        narr_s += n.duration
        onsets += onset_errors(n)
        seg_err = seg_words = 0
        for s in n.sentences:
            ref = [w.lower() for w in spoken_words(s.text)]
            part = n.samples[round(s.start * SAMPLE_RATE) : round(s.end * SAMPLE_RATE)]
            hyp = transcribe(dec, part)
            seg_err += edit_distance(ref, hyp)
            seg_words += len(ref)
            voiced_s += s.duration
            spoken_n += len(ref)
        errors += seg_err
        words += seg_words
        per_segment.append(round(seg_err / max(seg_words, 1), 3))
    abs_on = np.abs(np.array(onsets)) if onsets else np.zeros(1)
    return {
        "voice": engine.describe(),
        "narration_s": round(narr_s, 2),
        "synthesis_s": round(synth_s, 2),
        "speed_ratio": round(synth_s / narr_s, 3),
        # CPU seconds of this process (all its threads; espeak-ng's worker processes are
        # not counted) per second of narration: what an idle machine would need
        "cpu_s": round(cpu_s, 2),
        "cpu_ratio": round(cpu_s / narr_s, 3),
        "words": words,
        "word_errors": errors,
        "wer": round(errors / max(words, 1), 4),
        "wer_per_segment": per_segment,
        "spoken_wpm": round(spoken_n / voiced_s * 60, 1),
        "word_onsets_checked": len(onsets),
        "word_onset_error_ms_median": round(float(np.median(abs_on)) * 1000, 1),
        "word_onset_error_ms_p90": round(float(np.percentile(abs_on, 90)) * 1000, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lecture", default="forward-diffusion")
    ap.add_argument("--limit", type=int, default=0, help="only the first N segments")
    args = ap.parse_args()
    spec = load_lecture(args.lecture)
    segs = spec.segments[: args.limit] if args.limit else spec.segments
    scripts = [s.narration for s in segs]
    results = {"lecture": spec.id, "segments": len(segs), "wpm": spec.wpm,
               "cores": os.cpu_count(), "machine": platform.platform(),
               "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        piper = PiperEngine(spec.wpm)
        results["piper"] = bench_engine(piper, scripts, Path(tmp) / "piper")
        results["piper"]["natural_wpm"] = round(
            results["piper"]["spoken_wpm"] * piper.length_scale, 1)
        results["espeak"] = bench_engine(EspeakEngine("en-us", spec.wpm), scripts,
                                         Path(tmp) / "espeak")
    results["load_after"] = os.getloadavg()
    p, e = results["piper"], results["espeak"]
    results["wer_ratio_piper_over_espeak"] = round(p["wer"] / max(e["wer"], 1e-9), 3)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"voice-{spec.id}.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"{spec.id}: {len(segs)} segments, {sum(len(shown(s).split()) for s in scripts)} "
          "script words")
    print(f"{'voice':<10}{'narration':>11}{'synthesis':>11}{'ratio':>8}{'WER':>8}"
          f"{'wpm':>7}{'onset med/p90 ms':>18}")
    for name in ("piper", "espeak"):
        r = results[name]
        print(f"{name:<10}{r['narration_s']:>10.1f}s{r['synthesis_s']:>10.1f}s"
              f"{r['speed_ratio']:>8.3f}{r['wer']:>8.3f}{r['spoken_wpm']:>7.0f}"
              f"{r['word_onset_error_ms_median']:>9.1f}/{r['word_onset_error_ms_p90']:<8.1f}")
    print(f"WER piper / espeak = {results['wer_ratio_piper_over_espeak']} (target <= 0.5); "
          f"Piper natural rate {p['natural_wpm']} wpm")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
