"""``PiperService``: the project's offline voice as a manim-voiceover speech service.

A voiceover scene switches to it with one line::

    from pipeline.voiceover.service import PiperService

    class MyScene(VoiceoverScene):
        def construct(self):
            self.set_speech_service(PiperService())
            with self.voiceover(text="This is a <bookmark mark='A'/>circle.") as tracker:
                self.wait_until_bookmark("A")
                ...

It speaks with Piper (any voice model: ``PiperService(voice="piper:/path/voice.onnx")``),
falling back to espeak-ng with the pipeline's warning (``audio`` voices and
``voice`` texts, see :mod:`pipeline.voiceover.voices`). The text is read as the
pipeline reads a narration (:mod:`audio.textnorm`: numbers, symbols) and spoken
sentence by sentence through :func:`audio.sources.synthesize`, so it lands in the
pipeline's speech cache (the same sentence gives the same bytes everywhere). Word
boundaries come from the voice itself (:mod:`pipeline.voiceover.boundaries`), so
bookmarks need no Whisper and no network.

In a lecture's render child (:mod:`pipeline.voiceover.child`) the lecture's voice, rate
and speech cache replace the arguments, and with a recorded take each block returns its
slice of the take instead of speech.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

# manim-voiceover imports the sox wrapper, which logs a long warning when the SoX program
# is absent (a filter: the wrapper sets its logger's level when imported). Only
# ``global_speed`` uses SoX, and PiperService sets speed with ``wpm``.
logging.getLogger("sox").addFilter(lambda record: "SoX could not be found" not in
                                   record.getMessage())

from manim_voiceover._typing import VoiceoverData  # noqa: E402
from manim_voiceover.services.base import PathLike, SpeechService  # noqa: E402

from audio.clips import NarrationError, read_wav  # noqa: E402
from audio.pcm import SAMPLE_RATE  # noqa: E402
from audio.sentences import Word  # noqa: E402
from audio.sources import synthesize  # noqa: E402
from audio.textnorm import shown, spoken_words  # noqa: E402
from pipeline import paths  # noqa: E402
from pipeline.voiceover.boundaries import remove_bookmarks, word_boundaries  # noqa: E402
from pipeline.voiceover.job import VoiceoverJob  # noqa: E402
from pipeline.voiceover.segment import write_wav_atomic  # noqa: E402
from pipeline.voiceover.voices import engine_for  # noqa: E402

__all__ = ["PiperService", "VoiceoverTextError", "LECTURE"]

SERVICE_NAME = "diffusion-lectures"


class VoiceoverTextError(ValueError):
    """A voiceover block the voice cannot say (one line)."""


class _Lecture:
    """The lecture's job while a render child runs a segment (None elsewhere)."""

    job: VoiceoverJob | None = None


LECTURE = _Lecture()


class PiperService(SpeechService):
    """manim-voiceover speech service: Piper (or espeak-ng), word times from the voice.

    ``voice``: ``"auto"`` (Piper, else espeak-ng with a warning), ``"piper"``,
    ``"piper:<model.onnx>"``, ``"espeak"`` or ``"espeak:<voice>"``. ``wpm``: speaking
    rate (espeak-ng words per minute, Piper scaled to match; 150, a lecture's default, so
    a scene keeps its timing in a lecture). ``speech_cache``: where
    synthetic sentences are kept (default: the pipeline's). Other keywords go to
    manim-voiceover's ``SpeechService`` (``cache_dir``); the pace is set with ``wpm``
    (not ``global_speed``), and no transcription model is needed.
    """

    def __init__(self, voice: str = "auto", wpm: int = 150,
                 speech_cache: PathLike | None = None, **kwargs: Any) -> None:
        if float(kwargs.get("global_speed", 1.0)) != 1.0:
            raise ValueError("PiperService: set the speaking rate with wpm=..., not "
                             "global_speed (a time stretch of the speech; a lecture speaks "
                             "at its own wpm)")
        if kwargs.get("transcription_model") is not None:
            raise ValueError("PiperService: word times come from the voice; "
                             "transcription_model is not used")
        job = LECTURE.job
        if job is not None:  # in a lecture the lecture's voice speaks, and the WAVs go
            voice, wpm, speech_cache = job.voice, job.wpm, job.speech_cache  # to the
            kwargs.pop("cache_dir", None)  # child's own media folder, not the author's
        self.job = job
        self.blocks_said = 0
        self.engine = engine_for(voice, wpm, "PiperService")
        self.speech_cache = Path(speech_cache) if speech_cache else paths.speech_cache()
        super().__init__(**kwargs)

    def generate_from_text(self, text: str, cache_dir: PathLike | None = None,
                           path: PathLike | None = None, **kwargs: object) -> VoiceoverData:
        """Speak ``text`` (bookmarks removed), write it as a WAV in ``cache_dir`` and
        return manim-voiceover's record with word boundaries."""
        folder = Path(cache_dir if cache_dir is not None else self.cache_dir)
        content = remove_bookmarks(text)
        if not spoken_words(content):
            raise VoiceoverTextError(f"voiceover text {text!r} says nothing once read "
                                     "aloud (no words after text normalisation)")
        if self.job is not None and self.job.take is not None:
            samples, words, key = self._take_block(content)
        else:
            said = synthesize(self.engine, content, cache_dir=self.speech_cache)
            samples, words, key = np.asarray(said.samples[:, 0]), said.words, said.cache_key
        self.blocks_said += 1
        name = os.fspath(path) if path is not None else f"{_slug(content)}-{key[:16]}.wav"
        target = folder / name
        if not target.is_file() or target.stat().st_size != 44 + 2 * len(samples):
            write_wav_atomic(target, samples)
        duration = len(samples) / SAMPLE_RATE
        return {
            "input_text": text,
            "input_data": {"input_text": text, "service": SERVICE_NAME,
                           "config": {"key": key}},
            "original_audio": name,
            "word_boundaries": word_boundaries(content, words, duration),  # type: ignore[typeddict-item]
        }

    def _take_block(self, content: str) -> tuple[np.ndarray, tuple[Word, ...], str]:
        """The next block's slice of the lecture's recorded take."""
        assert self.job is not None and self.job.take is not None
        take, k = self.job.take, self.blocks_said
        if k >= len(take) or take[k].text != shown(content):
            raise VoiceoverTextError(
                f"voiceover block {k + 1} ({shown(content)[:40]!r}) is not the block the "
                "take was aligned to; the scene's voiceover texts must not change between runs")
        block = take[k]
        samples, sr = read_wav(block.audio)
        if sr != SAMPLE_RATE:
            raise NarrationError(f"{block.audio}: expected {SAMPLE_RATE} Hz")
        words = tuple(Word(t, a, b) for t, a, b in block.words)
        return samples[:, 0], words, f"take-{self.job.take_key}-{k}"


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:6])[:40] or "voiceover"
