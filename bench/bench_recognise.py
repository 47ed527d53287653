"""Word error rate of the recogniser's drafts on off-script takes, and of script biasing.

    PYTHONPATH=. .venv/bin/python bench/bench_recognise.py [--quick] [--out bench/results]

Each case is a segment script of ``config/forward-diffusion.toml`` and what a lecturer
might say instead (other words, shorter). The said text is spoken by the project's
Piper voice and by espeak-ng, then handed over as a recorder would: a clean 48 kHz
WAV, and a 44.1 kHz MP3 with room noise (-45 dBFS) and an echo (80 ms, -12 dB). Every
take goes through the pipeline's own take path (:func:`audio.narration.resolve_narration`:
decode, trim, level, align, and, being off its script, recognise), and the words of
its draft captions are scored against the words said (``draft``: pocketsphinx's
general language model, what the pipeline runs).

The experiment beside it, ``script n-gram`` (not used): the take decoded with a small
bigram model of the script's sentences mixed with the general model's likeliest 20,000
words, in place of the general model (pocketsphinx mixes no two models at run time).
It is no better on average for the Piper voice (better on degraded takes, worse on
most clean ones), and pulls a draft towards the script's words. A third way, adding the
script's words the general model lacks (``cosine``, ``noising``) as unigrams, changed
nothing: the words were never heard.

Writes ``recognise.md`` and ``recognise.json`` to ``--out``. Word error rates only: no
timings.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from audio.align import recogniser_pcm  # noqa: E402
from audio.narration import resolve_narration  # noqa: E402
from audio.recognise import word_error_rate  # noqa: E402
from audio.sentences import split_sentences  # noqa: E402
from audio.textnorm import spoken_words  # noqa: E402

from helpers.audio import write_audio  # noqa: E402
from helpers.takes import SR, voiced_take  # noqa: E402

CASES = {
    "01_00_intro": (
        "Welcome to the first chapter of our course on diffusion models. Today we study the "
        "forward process, which turns clean data into noise, one small step at a time. We "
        "will derive the math, write the code, and watch it work on handwritten digits.",
        "Hello and welcome. In this first part we look at how diffusion models destroy an "
        "image. Step by step we add a bit of noise until nothing is left but static. Then "
        "we write the code for it."),
    "01_03_setup_packages_data": (
        "We use PyTorch for tensors and torchvision for MNIST, and this function, load "
        "mnist, brings in the digits. Its arguments pick the data folder, the split, "
        "whether downloads are allowed, and an optional limit on the number of images.",
        "First we load the MNIST digits with torchvision. You can choose the folder and "
        "how many images you want. If there is no internet it draws fake digits instead."),
    "01_04_visualize_clean_image": (
        "Let's look closely at one training image, which we call x sub zero. Its label "
        "says which digit it is, although the forward process never uses labels. Pixels "
        "are scaled to the range minus one to one, the same scale as standard Gaussian "
        "noise, so the dark background sits at minus one.",
        "So here is one of the training images. We call it x zero. The pixels go from "
        "minus one to one, which matches the scale of the noise we will add later. The "
        "label is there but the process ignores it."),
    "01_22_closing": (
        "That is the forward process: a fixed recipe that adds Gaussian noise step by step "
        "until the data is gone. Next time we learn the reverse process, and train a "
        "network to undo each step.",
        "And that is all for today. We saw how noise is added until the digit disappears. "
        "In the next chapter we train a network that goes the other way."),
    "01_13_todo1_intro": (
        "Now it is your turn: TODO one replaces the linear schedule with the cosine "
        "schedule of Nichol and Dhariwal, which adds noise more gradually. Here is why: with "
        "the linear schedule, the digit is nearly gone by step five hundred. With the same "
        "noise, the cosine schedule keeps the digit visible much longer.",
        "Your first exercise is the cosine schedule. The linear one destroys the digit too "
        "early, because the noising is fast at the start. The cosine version is gentler, so "
        "the digit survives longer."),
}
VOICES = ("piper", "espeak")


def room(x: np.ndarray, seed: int) -> np.ndarray:
    """An echo 80 ms later at -12 dB, and room noise at -45 dBFS."""
    d = int(0.08 * SR)
    y = np.concatenate([x, np.zeros(d, np.float32)])
    y[d:] += x * 10 ** (-12 / 20)
    noise = np.random.default_rng(seed).standard_normal(len(y)) * 10 ** (-45 / 20)
    return (y + noise).astype(np.float32)


def variants(x: np.ndarray, seed: int) -> dict[str, tuple[np.ndarray, int, str]]:
    lead = np.zeros(int(0.5 * SR), np.float32)
    clean = np.concatenate([lead, x, lead]) * 0.5
    noisy = resample_poly(room(clean, seed), 147, 160).astype(np.float32)  # 44.1 kHz
    return {"wav 48 kHz": (clean, SR, ".wav"), "mp3 44.1 kHz, room": (noisy, 44_100, ".mp3")}


# ------------------------------------------------------------------ the experiment
def script_lm(script: str, path: Path, top: int = 20_000, share: float = 0.3) -> None:
    """An ARPA bigram model: the script's bigrams (half their weight) over unigrams that
    mix the script's words (``share``) with the general model's ``top`` likeliest."""
    import pocketsphinx
    from pocketsphinx import Decoder

    lm = Decoder(samprate=16_000, loglevel="FATAL").get_lm()
    dict_path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    vocab = [ln.split(" ", 1)[0] for ln in dict_path.read_text().splitlines()]
    to10 = math.log10(1.0001)  # pocketsphinx's log base
    general = sorted(((lm.prob([w]) * to10, w) for w in vocab if "(" not in w), reverse=True)
    pg = {w: 10**p for p, w in general[:top]}
    sents = [spoken_words(s) for s in split_sentences(script)]
    uni = collections.Counter(w for s in sents for w in s)
    for w in uni:
        pg.setdefault(w, 1e-7)
    z, n = sum(pg.values()), sum(uni.values())
    p = {w: share * uni[w] / n + (1 - share) * v / z for w, v in pg.items()}
    p["</s>"] = 0.05
    bi: collections.Counter[tuple[str, str]] = collections.Counter()
    ctx: collections.Counter[str] = collections.Counter()
    for s in sents:
        seq = ["<s>", *s, "</s>"]
        for a, b in zip(seq, seq[1:], strict=False):
            bi[a, b] += 1
            ctx[a] += 1
    pb = {(a, b): 0.5 * c / ctx[a] + 0.5 * p.get(b, 0.05) for (a, b), c in bi.items()}
    backoff = {}
    for a in ctx:
        seen = [k for k in pb if k[0] == a]
        left = 1 - sum(pb[k] for k in seen)
        backoff[a] = max(left, 1e-6) / max(1 - sum(p.get(k[1], 0.05) for k in seen), 1e-6)
    lines = ["\\data\\", f"ngram 1={len(p) + 1}", f"ngram 2={len(pb)}", "", "\\1-grams:",
             f"-99 <s> {math.log10(backoff.get('<s>', 1)):.4f}"]
    lines += [f"{math.log10(v):.4f} {w} {math.log10(backoff.get(w, 1)):.4f}"
              for w, v in p.items()]
    lines += ["", "\\2-grams:"] + [f"{math.log10(v):.4f} {a} {b}" for (a, b), v in pb.items()]
    path.write_text("\n".join([*lines, "", "\\end\\", ""]), encoding="utf-8")


def with_lm(samples: np.ndarray, lm: Path) -> list[str]:
    from pocketsphinx import Decoder

    d = Decoder(samprate=16_000, loglevel="FATAL", lm=str(lm))
    d.start_utt()
    d.process_raw(recogniser_pcm(samples, SR).tobytes(), full_utt=True)
    d.end_utt()
    return [s.word.split("(")[0] for s in d.seg() if not s.word.startswith(("<", "["))]


# ------------------------------------------------------------------ the bench
def score(seg: str, script: str, said: str, voice: str, tmp: Path) -> list[dict[str, Any]]:
    x = voiced_take(said, voice=voice)
    ref = spoken_words(said)
    lm = tmp / f"{seg}.arpa"
    script_lm(script, lm)
    out = []
    for name, (y, sr, ext) in variants(x, len(out)).items():
        folder = tmp / f"{seg}-{voice}-{ext[1:]}"
        folder.mkdir()
        write_audio(folder / f"{seg}{ext}", y, sr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n = resolve_narration(segment_id=seg, script=script, narration_dir=folder,
                                  cache_dir=tmp / "cache")
        assert n.take is not None
        drafted = spoken_words(" ".join(s.text for s in n.sentences))
        row = {"segment": seg, "voice": voice, "take": name, "words": len(ref),
               "found": f"{n.take.words_found}/{n.take.words_expected}",
               "source": n.take.transcript_source,
               "draft": word_error_rate(ref, drafted),
               "script n-gram": word_error_rate(ref, with_lm(n.samples, lm))}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["segment", "voice", "take", "words", "found", "source", "draft", "script n-gram"]
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c])
                                       for c in cols) + " |")
    for voice in VOICES:
        mine = [r for r in rows if r["voice"] == voice]
        if mine:
            means = [f"{np.mean([r[c] for r in mine]):.2f}"
                     for c in ("draft", "script n-gram")]
            lines.append(f"| mean | {voice} | | | | | " + " | ".join(means) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one case, Piper only")
    ap.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    ap.add_argument("--out", type=Path, default=None, help="write recognise.md/.json here")
    args = ap.parse_args()
    cases = [(k, v) for k, v in CASES.items() if not args.case or k in args.case]
    cases = cases[:1] if args.quick else cases
    voices = VOICES[:1] if args.quick else VOICES
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seg, (script, said) in cases:
            for voice in voices:
                rows += score(seg, script, said, voice, Path(tmp))
    text = ("# Recogniser drafts: word error rate on off-script takes\n\n"
            "`bench/bench_recognise.py`: word error rate of the words said against the "
            "draft captions (`draft`, what the pipeline writes) and against the script n-gram "
            "experiment; lower is better. `found`: words of the script the aligner found."
            "\n\n" + table(rows))
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "recognise.md").write_text(text, encoding="utf-8")
        (args.out / "recognise.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
