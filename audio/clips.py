"""Recorded narration clips: finding them, decoding them, converting to the internal format.

The internal format (:mod:`audio.pcm`) is :data:`~audio.pcm.SAMPLE_RATE` (48 kHz) stereo
float32 in [-1, 1], shaped ``[n, 2]``. :func:`to_internal` converts any rate and
channel count to it (polyphase resampling, exact output length ``ceil(n * 48000 / sr)``).
Decoding goes through pydub, which needs ``ffmpeg``/``ffprobe`` for anything but WAV.
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from audio.pcm import SAMPLE_RATE, clipped_share, pcm16_bytes, segment_to_array

__all__ = [
    "CLIP_EXTENSIONS",
    "NarrationError",
    "DecodedClip",
    "decode_clip",
    "find_clip",
    "read_clip",
    "to_internal",
    "read_wav",
    "write_wav",
]

CLIP_EXTENSIONS: tuple[str, ...] = (".mp3", ".wav", ".m4a", ".ogg", ".flac")


class NarrationError(ValueError):
    """A narration source is missing or unusable. The message names the file."""


def to_internal(samples: np.ndarray, sr: int) -> np.ndarray:
    """Any ``[n]`` or ``[n, channels]`` array at ``sr`` Hz -> ``[m, 2]`` float32 at 48 kHz.

    Mono is copied to both sides; more than two channels are mixed down to mono first
    (narration is speech: no spatial content to keep). Resampling is polyphase
    (``scipy.signal.resample_poly``, Kaiser window), then values are clipped to [-1, 1].
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"to_internal: expected [n] or [n, channels], got shape {x.shape}")
    if sr <= 0:
        raise ValueError(f"to_internal: sample rate must be > 0, got {sr}")
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    elif x.shape[1] > 2:
        x = np.repeat(x.mean(axis=1, keepdims=True), 2, axis=1)
    if sr != SAMPLE_RATE and len(x):
        from scipy.signal import resample_poly

        ratio = Fraction(SAMPLE_RATE, sr)
        n_out = math.ceil(len(x) * SAMPLE_RATE / sr)
        x = resample_poly(x, ratio.numerator, ratio.denominator, axis=0)[:n_out]
    return np.ascontiguousarray(np.clip(x, -1.0, 1.0), dtype=np.float32)


def find_clip(narration_dir: str | Path | None, segment_id: str) -> Path | None:
    """The recorded clip ``<narration_dir>/<segment_id>.<ext>``, or ``None``.

    ``ext`` is one of :data:`CLIP_EXTENSIONS`, matched case-insensitively. Two clips for
    one segment (``intro.mp3`` and ``intro.wav``) are ambiguous: :class:`NarrationError`.
    """
    if narration_dir is None:
        return None
    folder = Path(narration_dir)
    if not folder.is_dir():
        return None
    found = sorted(
        p
        for p in folder.iterdir()
        if p.stem == segment_id and p.suffix.lower() in CLIP_EXTENSIONS and p.is_file()
    )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise NarrationError(
            f"{folder}: several clips for segment {segment_id!r} ({names}); keep one"
        )
    return found[0] if found else None


@dataclass(frozen=True, eq=False)
class DecodedClip:
    """A decoded clip in the internal format, plus what it was before conversion."""

    path: Path
    samples: np.ndarray  # [n, 2] float32 at 48 kHz
    source_rate: int
    source_channels: int
    clipped_share: float = 0.0  # share of the file's loud samples at full scale

    @property
    def describe(self) -> str:
        """E.g. ``"clip 44.1 kHz mono mp3"``."""
        khz = f"{self.source_rate / 1000:g}"
        layout = {1: "mono", 2: "stereo"}.get(self.source_channels, f"{self.source_channels}ch")
        return f"clip {khz} kHz {layout} {self.path.suffix.lower().lstrip('.')}"


def _wav_is_integer_pcm(p: Path) -> bool:
    """True when the WAV's ``fmt`` chunk says integer PCM (plain or extensible)."""
    with p.open("rb") as f:
        head = f.read(1 << 16)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return False
    pos = 12
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if cid == b"fmt ":
            if size < 16 or pos + 8 + size > len(head):
                return False
            tag: int = struct.unpack_from("<H", head, pos + 8)[0]
            if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: sub-format GUID
                tag = struct.unpack_from("<H", head, pos + 8 + 24)[0]
            return tag == 1
        pos += 8 + size + (size & 1)
    return False


def _container_frames(p: Path, sr: int, decoded: int) -> int:
    """How many of the ``decoded`` frames are real audio, per the container's duration.

    AAC in MP4/M4A decodes to whole 1024-sample frames: ffmpeg drops the encoder
    priming but keeps the end padding, while the edit list records the true length.
    When the decoded audio is longer than the stream's duration by at most 0.2 s
    (codec padding, not content), it is cut to that duration.
    """
    from pydub.utils import mediainfo_json

    try:
        info = mediainfo_json(str(p))
        stream = next(s for s in info.get("streams", []) if s.get("codec_type") == "audio")
        duration = float(stream["duration"])
    except (StopIteration, KeyError, TypeError, ValueError):
        return decoded
    expected = int(round(duration * sr))
    if 0 < expected < decoded <= expected + int(0.2 * sr):
        return expected
    return decoded


def decode_clip(path: str | Path) -> DecodedClip:
    """Decode a recorded clip (mp3, wav, m4a, ogg, flac; any rate and channel count).

    Raises :class:`NarrationError` naming the file when it is missing, empty, of an
    unsupported type, undecodable, or holds no audio.
    """
    p = Path(path)
    if p.suffix.lower() not in CLIP_EXTENSIONS:
        raise NarrationError(
            f"{p}: unsupported narration format {p.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(CLIP_EXTENSIONS)}"
        )
    if not p.is_file():
        raise NarrationError(f"{p}: narration clip not found")
    if p.stat().st_size == 0:
        raise NarrationError(f"{p}: narration clip is empty (0 bytes)")
    try:
        from pydub import AudioSegment
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise NarrationError(f"{p}: cannot decode clips, pydub is not installed") from exc
    try:
        if p.suffix.lower() == ".wav" and _wav_is_integer_pcm(p):
            seg = AudioSegment.from_file(str(p), format="wav")  # pydub's own reader
        elif p.suffix.lower() == ".wav":
            # float or compressed WAV: pydub's own reader would take float bits for
            # integers, and it is chosen by the file name, so hand over an open file
            # (no name, no format) to make pydub decode with ffmpeg
            with p.open("rb") as f:
                seg = AudioSegment.from_file(f)
        else:
            seg = AudioSegment.from_file(str(p))
        x, sr = segment_to_array(seg)
        if p.suffix.lower() != ".wav":
            x = x[: _container_frames(p, sr, len(x))]
    except FileNotFoundError as exc:
        # pydub raises this when the ffmpeg/ffprobe binaries are missing
        raise NarrationError(f"{p}: cannot decode ({exc}); is ffmpeg installed?") from exc
    except Exception as exc:  # pydub/ffmpeg signal corrupt input with many types
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        # pydub's message ends with ffmpeg's own output; its last line says what is wrong
        first = (lines[-1] if len(lines) > 1 else lines[0]) if lines else type(exc).__name__
        raise NarrationError(f"{p}: not a decodable audio file ({first[:200]})") from exc
    if len(x) == 0 or sr <= 0:
        raise NarrationError(f"{p}: clip decodes to no audio (0 samples)")
    return DecodedClip(p, to_internal(x, sr), sr, x.shape[1], clipped_share(x))


def read_clip(path: str | Path) -> np.ndarray:
    """Decode a clip to ``[n, 2]`` float32 at 48 kHz (see :func:`decode_clip`)."""
    return decode_clip(path).samples


# ---------------------------------------------------------------- WAV (stdlib) I/O


def write_wav(path: str | Path, samples: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """Write ``[n]`` or ``[n, channels]`` float samples as 16-bit PCM WAV (not atomic)."""
    x = np.asarray(samples)
    channels = 1 if x.ndim == 1 else x.shape[1]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm16_bytes(x))


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV -> (float32 ``[n, channels]``, sample rate)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise NarrationError(f"{path}: expected 16-bit PCM WAV")
        channels = w.getnchannels()
        sr = w.getframerate()
        raw = w.readframes(w.getnframes())
    x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return x.reshape(-1, channels), sr
