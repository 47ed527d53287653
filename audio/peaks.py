"""True peaks and a look-ahead peak limiter: pure numpy/scipy, bounded memory.

The true peak is the peak between samples, estimated by 4x polyphase interpolation as
ITU-R BS.1770 annex 2 does (12 taps per phase). Only intervals next to a sample within
6 dB of the threshold of interest are interpolated: a band-limited signal does not rise
that far between two samples. Everything runs over the track in pieces, so an hour of
audio needs no more memory than a minute. Used by the lecture's loudness stage
(``pipeline.assembly.loudness``) and by the levelling of each take (``audio.level``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from audio.pcm import is_dual_mono

OVERSAMPLE = 4
PIECE = 1 << 20  # samples streamed at a time: memory stays flat however long the track
TP_PIECE = 1 << 18  # intervals interpolated at a time (12 taps each)


def sample_peaks(x: np.ndarray) -> np.ndarray:
    """``|x|`` maximised over channels (two contiguous passes, not a small-axis reduce)."""
    if x.ndim == 1:
        mono: np.ndarray = np.abs(x)
        return mono
    out: np.ndarray = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(out, np.abs(x[:, c]), out=out)
    return out


@lru_cache(maxsize=1)
def _phases() -> np.ndarray:
    """Taps ``[3, 12]`` giving the signal at ``s + k/4`` (k = 1, 2, 3) from ``x[s-5 .. s+6]``.

    They are the polyphase parts of a 49-tap windowed-sinc low-pass for 4x
    oversampling (12 taps per phase, the size BS.1770 annex 2 uses).
    """
    from scipy.signal import firwin

    h = firwin(12 * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, window=("kaiser", 7.0)) * OVERSAMPLE
    mid = 6 * OVERSAMPLE  # the filter's delay, in oversampled samples
    return np.array([[h[k + mid - OVERSAMPLE * j] for j in range(-5, 7)] for k in (1, 2, 3)])


def true_peaks(x: np.ndarray, threshold: float) -> np.ndarray:
    """Per-sample true peak of ``x`` [n, channels] wherever it can reach ``threshold``.

    Between two samples a band-limited signal rises at most a few dB above them, so
    only intervals next to a sample within 6 dB of ``threshold`` are interpolated (at
    the three quarter-sample points); the peak of an interval counts for both of its
    samples. Elsewhere the sample peak stands. The track is taken in pieces of
    ``TP_PIECE`` intervals (bounded memory).
    """
    if is_dual_mono(x):
        x = x[:, :1]  # both channels have the same true peaks
    if x.ndim == 1:
        x = x[:, None]
    n = len(x)
    out = sample_peaks(x)
    if n < 2:
        return out
    taps = _phases().astype(np.float32)
    offsets = np.arange(-5, 7) + 6
    for a in range(0, n - 1, TP_PIECE):
        b = min(a + TP_PIECE, n - 1)  # intervals (s, s + 1) for s in [a, b)
        near = sample_peaks(x[a: b + 1]) > threshold / 2.0
        starts = np.flatnonzero(near[:-1] | near[1:])  # relative to a
        if len(starts) == 0:
            continue
        lo, hi = max(0, a - 6), min(n, b + 7)
        local = np.zeros((b - a + 13, x.shape[1]), dtype=np.float32)  # x[a - 6 .. b + 6]
        local[lo - (a - 6): hi - (a - 6)] = x[lo:hi]
        windows = local[starts[:, None] + offsets]  # [m, 12, channels]: x[s-5 .. s+6]
        inter = np.abs(np.tensordot(windows, taps, axes=([1], [1])))  # [m, channels, 3]
        values = sample_peaks(inter.reshape(len(starts), -1))
        s = starts + a  # unique: plain indexing is exact
        out[s] = np.maximum(out[s], values)
        out[s + 1] = np.maximum(out[s + 1], values)
    return out


def limiter_gain(peaks: np.ndarray, ceiling: float, width: int) -> np.ndarray:
    """A smooth gain curve in (0, 1] with ``gain * peaks <= ceiling`` at every sample.

    Computed piece by piece, each with a margin of two filter widths on both sides (the
    two filters together reach that far), so a piece's gains equal the whole track's and
    depend only on the peaks near it; pieces with nothing over the ceiling stay at 1.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    n = len(peaks)
    out = np.ones(n, dtype=np.float32)
    over = np.flatnonzero(peaks > ceiling)
    if len(over) == 0:
        return out
    size = 2 * width + 1
    margin = 2 * size
    for a in range(0, n, PIECE):
        b = min(a + PIECE, n)
        i = np.searchsorted(over, a - margin)
        if i >= len(over) or over[i] >= b + margin:
            continue
        lo, hi = max(0, a - margin), min(n, b + margin)
        near = peaks[lo:hi]
        need = np.ones(hi - lo, dtype=np.float32)
        hot = near > ceiling
        need[hot] = ceiling / near[hot]
        floor = minimum_filter1d(need, size=size, mode="nearest")
        gain = np.minimum(uniform_filter1d(floor, size=size, mode="nearest"), need)
        out[a:b] = gain[a - lo: b - lo]
    return out


def true_peak_max(x: np.ndarray, threshold: float | None = None) -> float:
    """The track's largest true peak (see :func:`true_peaks`), in pieces.

    ``threshold`` (default: the sample peak) is the level that matters: only intervals
    that could reach it are interpolated.
    """
    if threshold is None:
        threshold = float(np.max(np.abs(x))) if len(x) else 0.0
    n, top = len(x), 0.0
    for a in range(0, n, PIECE):
        b = min(a + PIECE, n)
        lo, hi = max(0, a - 8), min(n, b + 8)
        top = max(top, float(true_peaks(x[lo:hi], threshold)[a - lo: b - lo].max()))
    return top
