"""The internal audio format and the sample-level helpers the audio modules share.

Internal audio everywhere in this project is :data:`SAMPLE_RATE` (48 kHz) stereo
float32 in [-1, 1], shaped ``[n, 2]``; mono narration is held as a dual-mono broadcast
view (:func:`compact`). Pure numpy; this module imports nothing of the project, so
:mod:`audio.clips`, :mod:`audio.level`, :mod:`audio.peaks` and the rest import from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "CLIP_LEVEL",
    "is_dual_mono",
    "compact",
    "clipped_share",
    "segment_to_array",
    "pcm16_bytes",
]

SAMPLE_RATE = 48_000
CLIP_LEVEL = 0.99  # |sample| at or above this counts as full scale


# ---------------------------------------------------------------- dual mono


def is_dual_mono(x: np.ndarray) -> bool:
    """``[n, 2]`` whose two channels are sample-for-sample equal (mono narration)."""
    if x.ndim != 2 or x.shape[1] != 2:
        return False
    return x.strides[1] == 0 or bool(np.array_equal(x[:, 0], x[:, 1]))


def compact(x: np.ndarray) -> np.ndarray:
    """Dual-mono ``[n, 2]`` as a read-only view of one stored channel (half the memory,
    the same values); anything else, and memory-mapped arrays, unchanged."""
    if isinstance(x, np.memmap) or x.ndim != 2 or x.shape[1] != 2 or x.strides[1] == 0:
        return x
    if not is_dual_mono(x):
        return x
    return np.broadcast_to(np.ascontiguousarray(x[:, 0])[:, None], x.shape)


# ---------------------------------------------------------------- full scale


def clipped_share(decoded: np.ndarray) -> float:
    """Share of samples at full scale among the loud samples of a decoded file.

    ``decoded`` is the file's own samples, before resampling (resampling smears the flat
    tops). "Loud" means above -30 dBFS, so long silences do not dilute the share.
    """
    x = np.abs(np.asarray(decoded, dtype=np.float64)).ravel()
    loud = x > 10 ** (-30 / 20)
    n = int(loud.sum())
    if n == 0:
        return 0.0
    return float((x >= CLIP_LEVEL).sum()) / n


# ---------------------------------------------------------------- integer PCM


def segment_to_array(seg: Any) -> tuple[np.ndarray, int]:
    """pydub AudioSegment -> (float64 [n, channels], sample rate)."""
    width = seg.sample_width
    channels = seg.channels
    raw = seg.raw_data
    if width == 1:  # pydub stores 8-bit audio signed (it un-biases WAV's unsigned bytes)
        x = np.frombuffer(raw, dtype=np.int8).astype(np.float64) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise ValueError(f"unsupported sample width {width}")
    n = len(x) // channels
    return x[: n * channels].reshape(n, channels), int(seg.frame_rate)


def pcm16_bytes(samples: np.ndarray) -> bytes:
    """float [-1, 1] -> interleaved little-endian 16-bit PCM (rounded, clipped)."""
    q = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767.0), -32768, 32767)
    return q.astype("<i2").tobytes()
