"""In-process loudness: BS.1770 gain and the true-peak limiter, on generated signals."""

from __future__ import annotations

import numpy as np
import pytest

from audio import peaks
from pipeline.assembly import loudness

RATE = 48_000


def stereo(x: np.ndarray) -> np.ndarray:
    return np.stack([x, x], axis=1).astype(np.float32)


def sine(freq: float, seconds: float, amp: float, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return amp * np.sin(2 * np.pi * freq * t + phase)


def test_true_peak_finds_the_peak_between_samples() -> None:
    # A quarter-rate sine sampled 45 degrees off its crests: samples at 0.707, peak 1.0.
    x = stereo(sine(RATE / 4, 0.2, 1.0, np.pi / 4))
    assert float(np.abs(x).max()) == pytest.approx(0.7071, abs=1e-3)
    tp = peaks.true_peaks(x, threshold=0.9)
    assert tp[100:-100].max() == pytest.approx(1.0, abs=0.01)
    # a quiet 1 kHz tone has no inter-sample overshoot to speak of
    quiet = peaks.true_peaks(stereo(sine(997, 0.2, 0.5)), threshold=0.5)
    assert quiet[100:-100].max() == pytest.approx(0.5, abs=0.002)


def test_limiter_gain_is_smooth_and_never_above_what_a_sample_needs() -> None:
    tp = np.full(10_000, 0.5)
    tp[5_000] = 2.0  # one sample four times over the ceiling
    g = peaks.limiter_gain(tp, ceiling=1.0, width=100)
    assert np.all(g * tp <= 1.0 + 1e-6)
    assert g[5_000] == pytest.approx(0.5, abs=1e-6)
    assert g[4_700] == 1.0 and g[5_300] == 1.0  # untouched outside attack and release
    assert np.max(np.abs(np.diff(g))) <= 0.5 / 100 + 1e-6  # linear ramps, no steps


def test_normalise_reaches_target_with_true_peak_under_ceiling() -> None:
    rng = np.random.default_rng(0)
    # speech-like: bursts of band-limited noise, with a few sharp clicks
    n = 20 * RATE
    env = (np.sin(2 * np.pi * 0.8 * np.arange(n) / RATE) > 0.2).astype(np.float32)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    x = 0.05 * noise * env
    x[RATE * 3:: RATE * 4] = 0.9
    result = loudness.normalise(stereo(x))
    assert result.loudness.gain_db == pytest.approx(round(result.loudness.gain_db / 0.2) * 0.2)
    assert result.loudness.integrated_lufs == pytest.approx(loudness.TARGET_LUFS, abs=0.3)
    assert result.loudness.true_peak_dbtp <= loudness.CEILING_DBTP + 0.05
    assert result.loudness.limited_ms > 0
    measured = loudness.integrated_loudness(result.samples)
    assert measured == pytest.approx(result.loudness.integrated_lufs, abs=1e-6)


def test_silence_is_left_alone() -> None:
    silent = np.zeros((RATE * 2, 2), dtype=np.float32)
    result = loudness.normalise(silent)
    assert result.loudness.gain_db == 0.0 and np.array_equal(result.samples, silent)


def test_dual_mono_is_measured_as_the_stereo_track_it_is() -> None:
    import pyloudnorm

    rng = np.random.default_rng(1)
    x = 0.1 * np.convolve(rng.standard_normal(5 * RATE), np.ones(4) / 4, mode="same")
    x[RATE: 2 * RATE] *= 0.01  # a quiet second: the gates have blocks to drop
    dual = stereo(x)
    reference = pyloudnorm.Meter(RATE).integrated_loudness(dual.astype(np.float64))
    assert loudness.integrated_loudness(dual) == pytest.approx(reference, abs=1e-3)
    uneven = dual.copy()
    uneven[:, 1] *= 0.5
    reference = pyloudnorm.Meter(RATE).integrated_loudness(uneven.astype(np.float64))
    assert loudness.integrated_loudness(uneven) == pytest.approx(reference, abs=1e-3)


def _speechlike(seconds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = seconds * RATE
    env = (np.sin(2 * np.pi * 0.7 * np.arange(n) / RATE) > 0.1).astype(np.float32)
    x = 0.04 * np.convolve(rng.standard_normal(n), np.ones(6) / 6, mode="same") * env
    x[RATE // 2:: RATE * 3] = 0.8  # plosive-like clicks the limiter has to catch
    return x


def test_published_gain_is_kept_so_unchanged_audio_stays_bit_identical() -> None:
    x = _speechlike(30, 2)
    first = loudness.normalise(stereo(x))
    # one "take" replaced: seconds 12-15 a little louder (the lecture moves ~0.2 LU)
    y = x.copy()
    y[12 * RATE: 15 * RATE] *= 1.25
    fresh = loudness.normalise(stereo(y))
    kept = loudness.normalise(stereo(y), prefer_gain_db=first.loudness.gain_db)
    assert kept.loudness.gain_db == first.loudness.gain_db
    assert abs(kept.loudness.integrated_lufs - loudness.TARGET_LUFS) <= loudness.STICKY_LU
    assert kept.loudness.true_peak_dbtp <= loudness.CEILING_DBTP + 0.05
    # outside the changed seconds (and the limiter's few ms), not one sample moved
    edge = RATE // 10
    assert np.array_equal(kept.samples[: 12 * RATE - edge], first.samples[: 12 * RATE - edge])
    assert np.array_equal(kept.samples[15 * RATE + edge:], first.samples[15 * RATE + edge:])
    # without the published gain, a step would move
    assert fresh.loudness.gain_db != first.loudness.gain_db
    # a bigger change (seconds 12-15 at 1.6x) no longer fits: a new gain, at the target
    y[12 * RATE: 15 * RATE] *= 1.6 / 1.25
    moved = loudness.normalise(stereo(y), prefer_gain_db=first.loudness.gain_db)
    assert moved.loudness.gain_db != first.loudness.gain_db
    assert moved.loudness.integrated_lufs == pytest.approx(loudness.TARGET_LUFS,
                                                           abs=loudness.TOLERANCE_LU)


def test_a_published_gain_that_no_longer_fits_is_dropped() -> None:
    x = _speechlike(20, 3)
    best = loudness.normalise(stereo(x))
    off = loudness.normalise(stereo(x), prefer_gain_db=best.loudness.gain_db + 3.0)
    assert off.loudness.integrated_lufs == pytest.approx(loudness.TARGET_LUFS,
                                                         abs=loudness.TOLERANCE_LU)
    assert off.loudness.gain_db == pytest.approx(best.loudness.gain_db, abs=0.41)


def test_pieces_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming in pieces (filter state carried, margins around each piece) gives the
    whole-track answers: loudness to rounding, true peaks and limiter gains exactly."""
    import pyloudnorm

    x = _speechlike(12, 4)
    x[5 * RATE: 6 * RATE] *= 0.001
    track = np.stack([x, 0.7 * x], axis=1).astype(np.float32)
    reference = pyloudnorm.Meter(RATE).integrated_loudness(track.astype(np.float64))
    ceiling = 10 ** (loudness.CEILING_DBTP / 20)
    loud = track * np.float32(8.0)  # plenty over the ceiling
    monkeypatch.setattr(peaks, "PIECE", 1 << 30)
    monkeypatch.setattr(peaks, "TP_PIECE", 1 << 30)
    whole_peaks = peaks.true_peaks(loud, ceiling)
    whole_gain = peaks.limiter_gain(whole_peaks, ceiling, 192)
    whole_lufs = loudness.integrated_loudness(track)
    monkeypatch.setattr(peaks, "PIECE", 40_000)  # pieces that split blocks and peaks
    monkeypatch.setattr(peaks, "TP_PIECE", 30_001)
    pieces_peaks = peaks.true_peaks(loud, ceiling)
    assert np.array_equal(pieces_peaks, whole_peaks)
    assert np.allclose(peaks.limiter_gain(pieces_peaks, ceiling, 192), whole_gain,
                       rtol=0, atol=1e-6)
    assert (whole_gain < 1).sum() > 1000
    assert loudness.integrated_loudness(track) == pytest.approx(whole_lufs, abs=1e-9)
    assert whole_lufs == pytest.approx(reference, abs=1e-6)


def test_a_mono_track_is_the_stereo_track_it_is_published_as() -> None:
    """Narration kept as one channel ([n, 1]) gets the gain, limiting, loudness and
    samples of the dual-mono stereo it is published as."""
    x = _speechlike(15, 5)
    mono = x[:, None].astype(np.float32)
    dual = stereo(x)
    assert loudness.integrated_loudness(mono) == pytest.approx(
        loudness.integrated_loudness(dual), abs=1e-9)
    a, b = loudness.normalise(mono), loudness.normalise(dual)
    assert a.samples.shape == mono.shape and b.samples.shape == dual.shape
    la, lb = a.loudness, b.loudness
    assert (la.gain_db, la.limited_ms) == (lb.gain_db, lb.limited_ms) and la.limited_ms > 0
    assert a.loudness.integrated_lufs == pytest.approx(b.loudness.integrated_lufs, abs=1e-9)
    assert a.loudness.true_peak_dbtp == pytest.approx(b.loudness.true_peak_dbtp, abs=1e-9)
    assert np.array_equal(a.samples[:, 0], b.samples[:, 0])
    assert np.array_equal(b.samples[:, 0], b.samples[:, 1])


def test_normalise_in_pieces_is_the_whole_track_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gained copy is limited piece by piece (peaks and gains never held for the whole
    track): the samples are exactly those of one piece."""
    x = _speechlike(12, 6)
    track = np.stack([x, 0.6 * x], axis=1).astype(np.float32)
    monkeypatch.setattr(peaks, "PIECE", 1 << 30)
    monkeypatch.setattr(peaks, "TP_PIECE", 1 << 30)
    whole = loudness.normalise(track)
    # a click 50 samples before a piece edge: its release runs on into the next piece,
    # whose margin must still read it unlimited
    monkeypatch.setattr(peaks, "PIECE", 168_050)
    monkeypatch.setattr(peaks, "TP_PIECE", 20_011)
    pieces = loudness.normalise(track)
    assert whole.loudness.limited_ms > 0 and pieces.loudness.limited_ms == whole.loudness.limited_ms
    assert np.array_equal(pieces.samples, whole.samples)
    assert pieces.loudness.true_peak_dbtp == pytest.approx(whole.loudness.true_peak_dbtp, abs=1e-12)
