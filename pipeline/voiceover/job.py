"""What a render child needs to run a voiceover scene as a lecture segment (pure).

The planner puts a :class:`VoiceoverJob` into the segment's ``AuthorScene``: the voice
(already resolved, so the child never falls back on its own), the speaking rate, the
speech cache, the lead-in in frames, and for a recorded take the take's slice for each
block. The dry run answers with the :class:`Block` s it met.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Block", "TakeBlock", "VoiceoverJob"]


class TakeBlock(BaseModel):
    """One voiceover block's slice of a recorded take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str  # the block's shown text (bookmarks removed), as the take was aligned to
    audio: str  # a 48 kHz mono WAV holding the slice
    words: tuple[tuple[str, float, float], ...]  # spoken words, seconds into the slice


class VoiceoverJob(BaseModel):
    """How the child's ``PiperService`` speaks, and where the blocks start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    voice: str  # "piper:<model.onnx>" or "espeak:<voice>" (audio.narration.parse_voice)
    wpm: int
    identity: str  # the engine's identity (model hash, version, rate) as JSON
    speech_cache: str
    lead_in_frames: int = 0  # the first frame held this long before ``construct``
    take: tuple[TakeBlock, ...] | None = None
    take_key: str = ""  # content hash of the take's analysis (the render key covers it)

    def key_payload(self) -> dict[str, Any]:
        """What decides the render (not where the caches are)."""
        return {"engine": self.identity,
                "lead_in_frames": self.lead_in_frames, "take": self.take_key,
                "blocks": [[b.text, b.words] for b in self.take or ()]}


class Block(BaseModel):
    """One ``with self.voiceover(text=...)`` block as the dry run met it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str  # as written, bookmarks included
    start: float  # seconds into the scene (lead-in included)
    duration: float  # the tracker's duration: the block's audio
