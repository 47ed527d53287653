"""Which synthetic voice speaks a voiceover scene, with the pipeline's fallbacks (pure).

``voice`` is the lecture's (``audio.narration.parse_voice``): ``auto`` is Piper, else
espeak-ng with the pipeline's warning, else an error (a voiceover scene needs speech:
its animation is timed by it). :func:`pinned` names the voice chosen, so a render
child speaks with exactly the voice planning chose and never falls back on its own.
"""

from __future__ import annotations

import warnings

from audio.clips import NarrationError
from audio.narration import parse_voice
from audio.piper_voice import PiperEngine, piper_available
from audio.sources import SpeechEngine
from audio.speech import EspeakEngine, espeak_binary

__all__ = ["engine_for", "pinned"]


def engine_for(voice: str, wpm: int, where: str) -> SpeechEngine:
    """The engine for ``voice`` at ``wpm``; ``where`` names the segment or scene in the
    warning and errors."""
    try:
        kind, arg = parse_voice(voice)
    except ValueError as exc:
        raise NarrationError(f"{where}: {exc}") from None
    if kind == "silence":
        raise NarrationError(f"{where}: a voiceover scene needs a voice (its animation is "
                             "timed by the speech); voice 'silence' cannot time it")
    if kind == "piper":
        return PiperEngine(wpm, model=arg)
    if kind == "espeak":
        return EspeakEngine(arg or "en-us", wpm)
    why_not = piper_available()
    if why_not is None:
        return PiperEngine(wpm)
    if espeak_binary() is None:
        raise NarrationError(f"{where}: Piper cannot run ({why_not}) and espeak-ng is not "
                             "installed; a voiceover scene needs a voice")
    warnings.warn(f"{where}: Piper cannot run ({why_not}); using espeak-ng", stacklevel=2)
    return EspeakEngine("en-us", wpm)


def pinned(engine: SpeechEngine) -> str:
    """``voice`` text that gives ``engine`` again with no fallback."""
    if isinstance(engine, PiperEngine):
        return f"piper:{engine.model}"
    if isinstance(engine, EspeakEngine):
        return f"espeak:{engine.voice}"
    raise TypeError(f"no voice text for {type(engine).__name__}")
