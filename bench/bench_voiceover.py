"""Benchmark the offline voiceover service against manim-voiceover's stock offline engine.

A 5-block voiceover scene's texts, each with one ``<bookmark mark="..."/>`` before a
word, are spoken by

* **ours**: ``pipeline.voiceover.service.PiperService`` (Piper), and
* **stock**: manim-voiceover's ``PyTTSX3Service`` (pyttsx3 with its espeak driver, the
  library's only offline engine),

each on a cold cache (the engine warmed up on another sentence first: model loading is
not synthesis). Measured, per system:

* synthesis CPU seconds per second of speech (this process and its children);
* intelligibility: pocketsphinx (bundled US English model, offline) transcribes each
  block; word error rate against the words the block should say
  (``audio.textnorm.spoken_words``);
* bookmark error: where manim-voiceover's tracker puts each bookmark (its own
  ``TimeInterpolator`` over the service's word boundaries) minus the true onset of the
  word after it. True onsets come from a synthesiser's own word events, so they are
  measured on the **second voice**, espeak-ng: ours as ``PiperService(voice="espeak")``
  (truth from a separate libespeak-ng run of the same sentence), stock from pyttsx3's
  libespeak word events recorded during its synthesis. Stock returns no word boundaries
  (without Whisper its bookmarks raise an error); its figure is manim-voiceover's own
  fallback, text position mapped linearly onto the audio. Never the project's aligner.

    .venv/bin/python bench/bench_voiceover.py            # full: 5 blocks, results file
    .venv/bin/python bench/bench_voiceover.py --quick    # 2 blocks, nothing written

Writes ``bench/results/voiceover.json`` and ``.md``. Shared machines are noisy: compare
the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_voice import decoder, edit_distance, transcribe  # noqa: E402

from audio.clips import decode_clip  # noqa: E402
from audio.pcm import SAMPLE_RATE  # noqa: E402
from audio.textnorm import spoken, spoken_words  # noqa: E402
from pipeline.voiceover.boundaries import BOOKMARK, remove_bookmarks  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BLOCKS = [
    "Diffusion models learn to <bookmark mark='a'/>reverse a slow process of adding noise.",
    "At step 3 of 1000, the <bookmark mark='b'/>picture is still almost clean.",
    "Later the signal fades, while the <bookmark mark='c'/>noise keeps growing.",
    "A network predicts the noise, and <bookmark mark='d'/>subtracting it walks back.",
    "After the last step, a handwritten <bookmark mark='e'/>digit appears.",
]
ESPEAK_VOICE, ESPEAK_WPM = "en-us", 175


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def marks(text: str) -> list[tuple[str, int, int]]:
    """``(name, offset in the bookmark-free text, offset in the raw text)`` of each
    bookmark: what manim-voiceover's tracker interpolates at."""
    out, removed = [], 0
    for m in BOOKMARK.finditer(text):
        out.append((m.group(1), m.start() - removed, m.end()))
        removed += m.end() - m.start()
    return out


def tracker_times(text: str, data: dict[str, Any], duration: float) -> dict[str, float]:
    """Bookmark seconds as manim-voiceover's tracker computes them (its fallback, a
    linear text-to-time map, when the service gave no word boundaries)."""
    from manim_voiceover.tracker import AUDIO_OFFSET_RESOLUTION, TimeInterpolator

    content = remove_bookmarks(text)
    wb = data.get("word_boundaries") or [
        {"text_offset": 0, "audio_offset": 0},
        {"text_offset": len(content), "audio_offset": int(duration * AUDIO_OFFSET_RESOLUTION)}]
    f = TimeInterpolator(wb)
    return {name: float(f.interpolate(at)) for name, at, _ in marks(text)}


def wer(dec: Any, samples: np.ndarray, text: str) -> tuple[int, int]:
    ref = [w.lower() for w in spoken_words(remove_bookmarks(text))]
    return edit_distance(ref, transcribe(dec, samples)), len(ref)


def run_service(service: Any, folder: Path, blocks: list[str],
                dec: Any) -> tuple[dict[str, Any], list[tuple[dict[str, Any], float]]]:
    """Speak every block with a manim-voiceover service: CPU per speech second, WER, and
    each block's record and duration."""
    spent = speech = 0.0
    errors = words = 0
    said = []
    for text in blocks:
        c0 = cpu()
        data = service._wrap_generate_from_text(text)
        spent += cpu() - c0
        samples = decode_clip(folder / data["final_audio"]).samples
        speech += len(samples) / SAMPLE_RATE
        e, n = wer(dec, samples, text)
        errors, words = errors + e, words + n
        said.append((data, len(samples) / SAMPLE_RATE))
    return {"cpu_s": round(spent, 3), "speech_s": round(speech, 3),
            "cpu_per_speech_s": round(spent / speech, 4), "words": words,
            "word_errors": errors, "wer": round(errors / max(words, 1), 4)}, said


def espeak_truth(text: str) -> dict[str, float]:
    """True onset (seconds into our trimmed espeak-ng audio) of the word after each
    bookmark, from libespeak-ng's word events on the sentence as spoken."""
    from audio.clips import to_internal
    from audio.sources import trim_bounds
    from audio.speech import _synth_in_worker

    content = remove_bookmarks(text)
    said = spoken(content)
    mono, rate, events = _synth_in_worker(said, ESPEAK_VOICE, ESPEAK_WPM)
    lead = trim_bounds(to_internal(mono, rate))[0] / SAMPLE_RATE
    spans = [m.start() for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)?", said)]
    out = {}
    for name, at, _ in marks(text):
        index = len(spoken_words(content[:at]))  # the spoken word the bookmark precedes
        pos = spans[index]
        sample = max(s for p, s in events if p - 1 <= pos)
        out[name] = sample / rate - lead
    return out


def bookmark_errors(blocks: list[str], said: list[tuple[dict[str, Any], float]],
                    truths: list[dict[str, float]]) -> dict[str, Any]:
    errs = [tracker_times(text, data, seconds)[name] - truth[name]
            for text, (data, seconds), truth in zip(blocks, said, truths, strict=True)
            for name in truth]
    ms = np.abs(np.array(errs)) * 1000
    return {"bookmarks": len(errs), "bookmark_error_ms_mean": round(float(ms.mean()), 1),
            "bookmark_error_ms_max": round(float(ms.max()), 1),
            "bookmark_error_ms": [round(float(e) * 1000, 1) for e in errs]}


class StockEvents:
    """pyttsx3's espeak driver with its libespeak word events recorded: (text position,
    seconds) per word of the last synthesis. Installed before ``pyttsx3.init()``, which
    registers the driver's callback."""

    def __init__(self) -> None:
        from pyttsx3.drivers import _espeak, espeak

        self.events: list[tuple[int, float]] = []
        own = espeak.EspeakDriver._onSynth
        log = self.events

        def on_synth(driver: Any, wav: Any, numsamples: int, events: Any) -> Any:
            i = 0
            while events[i].type != _espeak.EVENT_LIST_TERMINATED:
                if events[i].type == _espeak.EVENT_WORD:
                    log.append((events[i].text_position, events[i].audio_position / 1000))
                i += 1
            return own(driver, wav, numsamples, events)

        espeak.EspeakDriver._onSynth = on_synth

    def truth(self, text: str) -> dict[str, float]:
        """Onset of the word after each bookmark in the raw text pyttsx3 was given."""
        return {name: max(t for p, t in self.events if p - 1 <= raw)
                for name, _, raw in marks(text)}


def stock(blocks: list[str], tmp: Path, dec: Any) -> dict[str, Any]:
    events = StockEvents()
    from manim_voiceover.services.pyttsx3 import PyTTSX3Service

    service = PyTTSX3Service(cache_dir=str(tmp / "stock"))
    service._wrap_generate_from_text("Warm up the engine.")
    speech: dict[str, Any] = {}
    truths = []
    said = []
    for text in blocks:  # one at a time: the events belong to the last synthesis
        events.events.clear()
        part, one = run_service(service, tmp / "stock", [text], dec)
        truths.append(events.truth(text))
        said += one
        for key in ("cpu_s", "speech_s", "words", "word_errors"):
            speech[key] = speech.get(key, 0) + part[key]
    speech["cpu_per_speech_s"] = round(speech["cpu_s"] / speech["speech_s"], 4)
    speech["wer"] = round(speech["word_errors"] / max(speech["words"], 1), 4)
    speech["word_boundaries"] = any("word_boundaries" in d for d, _ in said)
    return {**speech, **bookmark_errors(blocks, said, truths), "engine": "pyttsx3 espeak driver"}


def ours(blocks: list[str], tmp: Path, dec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from pipeline.voiceover.service import PiperService

    piper = PiperService(cache_dir=str(tmp / "piper"), speech_cache=tmp / "speech-piper")
    piper._wrap_generate_from_text("Warm up the voice.")
    speech, _ = run_service(piper, tmp / "piper", blocks, dec)
    espeak = PiperService(voice=f"espeak:{ESPEAK_VOICE}", wpm=ESPEAK_WPM,
                          cache_dir=str(tmp / "espeak"), speech_cache=tmp / "speech-espeak")
    second, said = run_service(espeak, tmp / "espeak", blocks, dec)
    truths = [espeak_truth(text) for text in blocks]
    return ({**speech, "engine": piper.engine.describe()},
            {**second, **bookmark_errors(blocks, said, truths),
             "engine": espeak.engine.describe()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 blocks; write no results")
    args = ap.parse_args()
    blocks = BLOCKS[:2] if args.quick else BLOCKS
    dec = decoder()
    with tempfile.TemporaryDirectory(prefix="bench-voiceover-") as tmp:
        piper, second = ours(blocks, Path(tmp), dec)  # imports the service: sox quieted
        base = stock(blocks, Path(tmp), dec)
    result = {
        "blocks": len(blocks), "machine": platform.platform(),
        "load_average": [round(x, 2) for x in __import__("os").getloadavg()],
        "ours_piper": piper, "ours_second_voice_espeak": second, "stock_pyttsx3": base,
        "cpu_ratio_ours_over_stock": round(piper["cpu_per_speech_s"] / base["cpu_per_speech_s"], 2),
        "wer_ratio_ours_over_stock": round(piper["wer"] / max(base["wer"], 1e-9), 3),
    }
    print(json.dumps(result, indent=1))
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "voiceover.json").write_text(json.dumps(result, indent=1) + "\n")
        (RESULTS / "voiceover.md").write_text(summary(result))
    return 0


def summary(r: dict[str, Any]) -> str:
    p, e, s = r["ours_piper"], r["ours_second_voice_espeak"], r["stock_pyttsx3"]
    return (
        "# Voiceover service against manim-voiceover's stock offline engine\n\n"
        f"`bench/bench_voiceover.py`, {r['blocks']} blocks, {r['machine']}, load "
        f"{r['load_average']}. Compare ratios within the run.\n\n"
        "| | ours (Piper) | stock (pyttsx3, espeak) |\n| --- | --- | --- |\n"
        f"| CPU s per s of speech | {p['cpu_per_speech_s']} | {s['cpu_per_speech_s']} |\n"
        f"| pocketsphinx WER | {p['wer']} | {s['wer']} |\n"
        f"| bookmark error, mean / max ms (espeak-ng voice, true onsets from its word "
        f"events) | {e['bookmark_error_ms_mean']} / {e['bookmark_error_ms_max']} | "
        f"{s['bookmark_error_ms_mean']} / {s['bookmark_error_ms_max']} (no word "
        "boundaries: manim-voiceover's linear fallback) |\n\n"
        "Ours on the espeak-ng voice takes its word boundaries from the same word events "
        "the truth comes from, so its bookmark error checks the mapping from written to "
        "spoken words and the trimming, not the voice's timing. Stock passes the text to "
        "espeak with its bookmark tags, which count in its word errors.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
