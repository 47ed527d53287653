"""Loudness of the narration track, in-process: one gain and a true-peak limiter.

The whole lecture's PCM track is measured once per ITU-R BS.1770 (``pyloudnorm``: K
weighting, 400 ms blocks, absolute and relative gating). One gain brings it to the
target (−14 LUFS, docs/publishing.md); the gain is rounded to ``GAIN_STEP_DB`` so that a
change in one segment's take rarely moves the others' audio by a bit (their segment
clips can then be reused). A look-ahead limiter then keeps the *true* peak (the peak
between samples, estimated by 4x polyphase interpolation, as BS.1770 annex 2 does)
under ``CEILING_DBTP``:

* the gain each sample needs is ``ceiling / true_peak`` (1 where nothing is near it);
* a running minimum over ``2w + 1`` samples followed by a running mean over the same
  width turns that into a smooth gain curve that is never above what any sample needs
  (each mean is taken over minima whose windows all contain the sample), with linear
  attack and release of ``w`` samples (``LIMITER_MS``), starting before the peak.

Speech at −14 LUFS rarely needs more than a few dB of limiting, and only on plosives.
True peaks and the gain curve are :mod:`audio.peaks` (shared with take levelling).
Everything streams in pieces: the gained copy of the track is the one full-length array.
A ``[n, 1]`` track is mono narration published on both channels. Pure numpy/scipy; no
ffmpeg, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audio import peaks
from audio.pcm import SAMPLE_RATE, is_dual_mono
from audio.peaks import limiter_gain, true_peak_max, true_peaks
from pipeline.records import LoudnessRecord

TARGET_LUFS = -14.0
CEILING_DBTP = -1.5  # half a dB under the −1 dBTP limit: AAC adds a little overshoot
GAIN_STEP_DB = 0.2  # gain resolution (keeps the result within ±0.1 dB of the target)
LIMITER_MS = 4.0  # attack/release ramp of the limiter
TOLERANCE_LU = 0.3  # a limited track this close to the target is not limited again
STICKY_LU = 0.5  # the published gain is kept while the result is this close to the target
PASSES = 3  # gain corrections at most
SILENT_LUFS = -70.0  # BS.1770's absolute gate: a track below it has no loudness


@dataclass(frozen=True)
class NormalisedTrack:
    samples: np.ndarray  # [n, channels] float32, the normalised track
    input_lufs: float  # before gain and limiter
    loudness: LoudnessRecord  # after gain and limiter: the figures manifest.json keeps


def integrated_loudness(track: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """BS.1770 integrated loudness in LUFS (``-inf`` for silence or very short audio).

    pyloudnorm's K-weighting filters (its ``Meter``'s high shelf and high pass, the
    BS.1770 coefficients) run over the track in pieces, their state carried from one
    piece to the next, so an hour of narration needs no more memory than a minute.
    Each 400 ms block, every 100 ms, is the sum of four 100 ms energies; the gates are
    BS.1770's (absolute −70 LUFS, relative −10 LU) over the channel-summed energies
    (stereo: both weights 1). Agrees with ``pyloudnorm.Meter.integrated_loudness``
    (tests/test_loudness.py).
    """
    import pyloudnorm  # scipy-heavy: imported only when a track is measured
    from scipy.signal import lfilter

    x, scale = _measured_channels(np.asarray(track, dtype=np.float32))
    step = rate // 10
    if len(x) < 4 * step:
        return float("-inf")
    if rate % 10:  # blocks off the sample grid: pyloudnorm's own loop
        with np.errstate(divide="ignore"):
            loud = x if scale == 1.0 else np.repeat(x, 2, axis=1)
            return float(pyloudnorm.Meter(rate).integrated_loudness(loud))
    stages = [(f.b, f.a, f.passband_gain)
              for f in pyloudnorm.Meter(rate)._filters.values()]  # K-weighting
    states = [np.zeros((len(a) - 1, x.shape[1])) for _, a, _ in stages]
    n_sub = len(x) // step
    sub = np.empty(n_sub)  # K-weighted energy of each 100 ms, channels summed
    piece = peaks.PIECE // step * step
    for at in range(0, n_sub * step, piece):
        y = x[at: min(at + piece, n_sub * step)].astype(np.float64)
        for k, (b, a, gain) in enumerate(stages):
            y, states[k] = lfilter(b, a, y, axis=0, zi=states[k])
            y *= gain
        sub[at // step: at // step + len(y) // step] = (
            np.square(y).sum(axis=1).reshape(-1, step).sum(axis=1))
    blocks = (sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]) * (scale / (4 * step))
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(blocks)
        gated = blocks[block_lufs >= SILENT_LUFS]
        if len(gated) == 0:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) - 10
        final = blocks[(block_lufs > relative) & (block_lufs >= SILENT_LUFS)]
        return float(-0.691 + 10 * np.log10(final.mean())) if len(final) else float("-inf")


def _measured_channels(x: np.ndarray) -> tuple[np.ndarray, float]:
    """The channels BS.1770 has to filter, ``[n, c]``, and the weight of their energy.

    A ``[n, 1]`` track is narration published on both channels, and stereo whose two
    channels are equal is the same thing: one channel, counted twice. A 1-D array is a
    single channel counted once (pyloudnorm's mono).
    """
    if x.ndim == 1:
        return x[:, None], 1.0
    if x.shape[1] == 1:
        return x, 2.0
    if is_dual_mono(x):
        return x[:, :1], 2.0
    return x, 1.0


def normalise(track: np.ndarray, rate: int = SAMPLE_RATE, *,
              prefer_gain_db: float | None = None) -> NormalisedTrack:
    """``track`` at ``TARGET_LUFS`` with its true peak under ``CEILING_DBTP``.

    Limiting takes a little loudness away (more for peaky voices), so when the limited
    track misses the target by more than ``TOLERANCE_LU`` the gain is corrected by the
    miss and the limiter runs again on the original track (at most ``PASSES`` times).

    ``prefer_gain_db`` (the gain of the published outputs) is tried first and kept when
    the result lands within ``STICKY_LU`` of the target (the publishing rules allow ±1 LU):
    one changed take then leaves the other segments' samples bit-identical (the limiter
    is local), so their segment clips are reused instead of encoded again.
    """
    x = np.asarray(track, dtype=np.float32)
    before = integrated_loudness(x, rate)
    if not np.isfinite(before) or before < SILENT_LUFS:  # silence: nothing to normalise
        peak = float(np.abs(x).max()) if len(x) else 0.0
        tp = 20 * np.log10(peak) if peak > 0 else float("-inf")
        return NormalisedTrack(x, before, LoudnessRecord(integrated_lufs=before,
                                                          true_peak_dbtp=tp))
    ceiling = 10 ** (CEILING_DBTP / 20)
    width = max(1, int(LIMITER_MS / 1000 * rate))
    gain_db = _step(TARGET_LUFS - before)
    # The published gain already includes its limiter's correction: tried as it is.
    sticky = False
    if prefer_gain_db is not None and bool(np.isfinite(prefer_gain_db)):
        sticky = True
        gain_db = _step(float(prefer_gain_db))
    y: np.ndarray | None = None
    for attempt in range(PASSES):
        y = None  # the last pass's track goes before this pass makes its own
        y, limited = _gain_and_limit(x, gain_db, ceiling, width, rate)
        after = integrated_loudness(y, rate) if limited else before + gain_db
        miss = TARGET_LUFS - after
        if sticky and abs(miss) <= STICKY_LU:
            break
        sticky = False
        if abs(miss) <= TOLERANCE_LU or attempt == PASSES - 1 or _step(gain_db + miss) == gain_db:
            break
        gain_db = _step(gain_db + miss)
    assert y is not None
    top = true_peak_max(y, ceiling)  # what the limiter left
    return NormalisedTrack(y, before, LoudnessRecord(
        integrated_lufs=after,
        true_peak_dbtp=20 * np.log10(top) if top > 0 else float("-inf"),
        gain_db=gain_db,
        limited_ms=limited,
    ))


def _gain_and_limit(x: np.ndarray, gain_db: float, ceiling: float, width: int,
                    rate: int) -> tuple[np.ndarray, float]:
    """``x`` at ``gain_db`` through the limiter, and how long (ms) the limiter acted.

    The gained copy is the only full-length array made: true peaks and limiter gains are
    computed piece by piece over that copy with a margin wide enough for both filters and
    the interpolation taps (so every gain equals the whole-track one), and a piece's gain
    is applied only after the next piece has read its unlimited margin.
    """
    y = x * np.float32(10 ** (gain_db / 20))  # the one working copy of the track
    n = len(y)
    margin = 2 * (2 * width + 1) + 8
    assert margin < peaks.PIECE, "limiter wider than a piece"
    limited = 0
    pending: tuple[int, int, np.ndarray] | None = None
    for a in range(0, n, peaks.PIECE):
        b = min(a + peaks.PIECE, n)
        lo, hi = max(0, a - margin), min(n, b + margin)
        g = limiter_gain(true_peaks(y[lo:hi], ceiling), ceiling, width)[a - lo: b - lo]
        if pending is not None:
            _apply(y, *pending)
        pending = None
        over = int(np.count_nonzero(g < 1.0))
        if over:
            limited += over
            pending = (a, b, g)
    if pending is not None:
        _apply(y, *pending)
    return y, float(limited / rate * 1000)


def _apply(y: np.ndarray, a: int, b: int, gain: np.ndarray) -> None:
    y[a:b] *= gain[:, None] if y.ndim == 2 else gain


def _step(db: float) -> float:
    """``db`` rounded to the gain resolution (the same float however it was reached)."""
    return round(round(db / GAIN_STEP_DB) * GAIN_STEP_DB, 3)
