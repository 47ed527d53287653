"""Recorded takes: what is speech, how loud it is, and bringing every take to one level.

Pure numpy analysis on the internal format (48 kHz stereo float32). Rules:

* **Frames**: 10 ms, RMS in dBFS on a mono mix. The *floor* is the 10th percentile of
  frame levels (room tone; digital silence reads -100 dBFS), the *speech level* the
  95th percentile.
* **Speech** frames are those above ``max(speech - 35 dB, floor + 10 dB)`` (at most
  ``speech - 6 dB``): well under the voice, above the room.
* **Silence** (what trimming may cut) is stricter: frames within :data:`SILENCE_ABOVE_FLOOR`
  dB of the floor, or below -70 dBFS. A breath, a click or a slate tone before the first
  word is louder than that, so trimming keeps it.
* **Loudness**: BS.1770 integrated loudness with its gating (``pyloudnorm``), measured on
  the speech frames only (joined), so leading tones and long pauses do not pull it.
* **Clipped**: samples of the decoded file (before any resampling) at or above
  :data:`~audio.pcm.CLIP_LEVEL` of full scale (:func:`~audio.pcm.clipped_share`); a take
  is clipped when they are at least :data:`CLIPPED_SHARE` of its speech samples.
* **Noisy**: speech level minus floor below :data:`NOISY_SNR_DB`.
* **Levelling**: one gain brings the speech loudness to :data:`TAKE_TARGET_LUFS`, then a
  look-ahead true-peak limiter (4x oversampled peaks) holds the result under
  :data:`TAKE_CEILING_DBTP`. Only samples that the gain pushed over the ceiling are turned
  down; the rest is a plain gain. The gain is at most :data:`MAX_GAIN_DB`, and a take
  whose peak stays under :data:`MUTED_DBFS` is left as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audio.pcm import SAMPLE_RATE, clipped_share
from audio.peaks import true_peak_max, true_peaks

__all__ = [
    "TakeReport",
    "TAKE_TARGET_LUFS",
    "TAKE_CEILING_DBTP",
    "CLIPPED_SHARE",
    "NOISY_SNR_DB",
    "FrameLevels",
    "TakeLevel",
    "frame_levels",
    "speech_threshold",
    "silence_bounds",
    "trim_edges",
    "speech_loudness",
    "true_peak_dbtp",
    "limit_true_peak",
    "analyse_take",
    "level_take",
]

TAKE_TARGET_LUFS = -15.0  # every take's speech is brought here before the lecture-wide pass
TAKE_CEILING_DBTP = -3.0  # peaks after levelling (the lecture pass adds about +1 dB)
MAX_GAIN_DB = 45.0  # never more: beyond this a take is room noise, not a quiet voice
MUTED_DBFS = -60.0  # a take whose peak stays under this is not levelled (muted microphone)
CLIPPED_SHARE = 0.001  # a take with at least 0.1 % of its speech samples at full scale is clipped
NOISY_SNR_DB = 25.0  # speech level minus room floor under this: noisy
SILENCE_ABOVE_FLOOR = 6.0  # dB: a frame this close to the floor is silence
ABSOLUTE_SILENCE_DBFS = -70.0
FRAME_SECONDS = 0.01
_MIN_MEASURE = 0.4  # s: BS.1770's gating block


@dataclass(frozen=True)
class FrameLevels:
    """10 ms frame levels of a take (mono mix), with its floor and speech level."""

    db: np.ndarray  # [frames] dBFS, floored at -100
    frame: int  # samples per frame
    floor: float  # 10th percentile, dBFS
    speech: float  # 95th percentile, dBFS


@dataclass(frozen=True)
class TakeLevel:
    """What :func:`analyse_take` and :func:`level_take` found for one take."""

    loudness_lufs: float  # speech loudness before levelling (-inf: no speech)
    gain_db: float  # applied to the whole take
    limited_db: float  # most gain reduction the limiter applied (0: none)
    true_peak_dbtp: float  # after levelling
    floor_dbfs: float
    snr_db: float  # speech level minus floor
    clipped_share: float  # of speech samples at full scale in the decoded file
    clipped: bool
    noisy: bool

    def describe(self) -> str:
        return (
            f"speech {self.loudness_lufs:.1f} LUFS, gain {self.gain_db:+.1f} dB"
            + (f", limited {self.limited_db:.1f} dB" if self.limited_db > 0.05 else "")
            + f", floor {self.floor_dbfs:.0f} dBFS"
        )


@dataclass(frozen=True)
class TakeReport:
    """What happened to a recorded take: its level, trim and how well it was aligned."""

    level: TakeLevel
    trimmed_start: float  # seconds of leading silence cut
    words_found: int
    words_expected: int
    approximate: bool  # captions and sentence times estimated, not aligned
    transcript: str | None  # the transcript file that replaced the script, if any
    # where the captions' words come from: "script", "transcript" or "recogniser" (a draft)
    transcript_source: str = "script"
    draft: str | None = None  # the recogniser's draft transcript, written for the author
    levelled_lufs: float = float("nan")  # speech loudness after levelling
    source_format: str = ""  # e.g. "clip 44.1 kHz mono mp3"

    @property
    def share_found(self) -> float:
        return self.words_found / self.words_expected if self.words_expected else 1.0


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def frame_levels(samples: np.ndarray, sr: int = SAMPLE_RATE) -> FrameLevels:
    """RMS of 10 ms frames of the mono mix, in dBFS (floored at -100)."""
    x = _mono(samples)
    frame = max(1, int(sr * FRAME_SECONDS))
    n = len(x) // frame
    if n == 0:
        return FrameLevels(np.zeros(0), frame, -100.0, -100.0)
    rms = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-5))
    return FrameLevels(db, frame, float(np.percentile(db, 10)), float(np.percentile(db, 95)))


def speech_threshold(levels: FrameLevels) -> float:
    """Frame level above which a frame is speech (module docstring)."""
    return min(max(levels.speech - 35.0, levels.floor + 10.0), levels.speech - 6.0)


def silence_bounds(samples: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[int, int] | None:
    """Sample range from the first to the last frame that is not silence, or ``None``.

    Silence is a frame within :data:`SILENCE_ABOVE_FLOOR` dB of the floor or under
    -70 dBFS; anything louder (speech, a breath, a clap, a tone) is kept.
    """
    lv = frame_levels(samples, sr)
    if len(lv.db) == 0:
        return None
    limit = max(lv.floor + SILENCE_ABOVE_FLOOR, ABSOLUTE_SILENCE_DBFS)
    if lv.speech <= limit:  # nothing stands out of the floor: no voice at all
        return None
    loud = np.nonzero(lv.db > limit)[0]
    return int(loud[0] * lv.frame), int(min(len(samples), (loud[-1] + 1) * lv.frame))


EDGE_KEEP = 0.02  # s of room tone kept before the first and after the last sound
TAIL_KEEP = 0.15  # s kept after the last sound (its natural decay)


def trim_edges(samples: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """Cut a take's leading and trailing *silence* only; returns (audio, seconds cut at the start).

    Anything louder than the room (a breath, a clap, a slate tone) is not silence
    (:func:`silence_bounds`) and stays, at its place relative to the words. A take with
    no sound above its floor is returned whole.
    """
    bounds = silence_bounds(samples, sr)
    if bounds is None:
        return samples, 0.0
    a = max(0, bounds[0] - int(EDGE_KEEP * sr))
    b = min(len(samples), bounds[1] + int(TAIL_KEEP * sr))
    return samples[a:b], a / sr


def _speech_mask(levels: FrameLevels, pad_frames: int = 3) -> np.ndarray:
    on = levels.db > speech_threshold(levels)
    if pad_frames and on.any():
        k = np.ones(2 * pad_frames + 1)
        on = np.convolve(on.astype(float), k, mode="same") > 0
    return on


def speech_loudness(samples: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """BS.1770 integrated loudness (LUFS) of the speech frames only (``-inf`` if none)."""
    import pyloudnorm

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    lv = frame_levels(x, sr)
    if len(lv.db) == 0:
        return -math.inf
    mask = _speech_mask(lv)
    idx = np.repeat(mask, lv.frame)
    speech = x[: len(idx)][idx]
    if len(speech) < _MIN_MEASURE * sr:
        speech = x
    if len(speech) < _MIN_MEASURE * sr:  # pad a very short take with silence for one block
        speech = np.concatenate([speech, np.zeros((int(_MIN_MEASURE * sr) + 1, x.shape[1]))])
    return float(pyloudnorm.Meter(sr).integrated_loudness(speech))


def true_peak_dbtp(samples: np.ndarray) -> float:
    """True peak (4x oversampled, BS.1770 annex 2 style, :mod:`audio.peaks`) in dBTP."""
    if len(samples) == 0:
        return -math.inf
    p = true_peak_max(np.asarray(samples, dtype=np.float32))
    return 20 * math.log10(p) if p > 0 else -math.inf


def _running(op: str, x: np.ndarray, width: int) -> np.ndarray:
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    out: np.ndarray
    if op == "min":
        out = minimum_filter1d(x, size=width, mode="nearest")
    else:
        out = uniform_filter1d(x, size=width, mode="nearest")
    return out


def limit_true_peak(
    samples: np.ndarray, ceiling_dbtp: float, *, attack: float = 0.005, sr: int = SAMPLE_RATE
) -> tuple[np.ndarray, float]:
    """Turn down only where the true peak exceeds ``ceiling_dbtp``; returns (audio, most dB cut).

    The gain each sample needs is held for ``2 * attack`` around it (look-ahead) and then
    smoothed over ``attack``, so the gain is never above what a peak needs and changes
    over about 5 ms, without clicks. Repeats (at most 4 times) while a peak still exceeds
    the ceiling after smoothing.
    """
    x = np.asarray(samples, dtype=np.float64)
    ceiling = 10 ** (ceiling_dbtp / 20)
    width = max(3, int(attack * sr)) | 1
    total_cut = 1.0
    for _ in range(4):
        tp = true_peaks(x.astype(np.float32), ceiling).astype(np.float64)
        if tp.max() <= ceiling:
            break
        need = np.minimum(1.0, ceiling * 0.995 / np.maximum(tp, 1e-12))
        gain = _running("mean", _running("min", need, 2 * width + 1), width)
        gain = np.minimum(gain, 1.0)
        x = x * (gain[:, None] if x.ndim == 2 else gain)
        total_cut = min(total_cut, float(gain.min()))
    return x.astype(np.float32), -20 * math.log10(total_cut)


def analyse_take(samples: np.ndarray, clipped: float | None = None) -> TakeLevel:
    """Loudness, floor, noise and clipping of one take, before any change (gain 0).

    ``clipped`` is the decoded file's :func:`clipped_share` when known (it is measured
    before resampling); else it is measured on ``samples``.
    """
    lv = frame_levels(samples)
    loud = speech_loudness(samples)
    share = clipped_share(samples) if clipped is None else clipped
    snr = lv.speech - lv.floor
    return TakeLevel(
        loudness_lufs=loud,
        gain_db=0.0,
        limited_db=0.0,
        true_peak_dbtp=true_peak_dbtp(samples),
        floor_dbfs=lv.floor,
        snr_db=snr,
        clipped_share=share,
        clipped=share >= CLIPPED_SHARE,
        noisy=bool(np.isfinite(loud)) and snr < NOISY_SNR_DB,
    )


def level_take(
    samples: np.ndarray,
    clipped: float | None = None,
    *,
    target_lufs: float = TAKE_TARGET_LUFS,
    ceiling_dbtp: float = TAKE_CEILING_DBTP,
) -> tuple[np.ndarray, TakeLevel]:
    """The take at ``target_lufs`` speech loudness, true peak under ``ceiling_dbtp``.

    A take without speech (loudness ``-inf``) is returned unchanged. Output is float32
    ``[n, 2]``; values may exceed what the source could hold only below the ceiling.
    """
    before = analyse_take(samples, clipped)
    peak = float(np.abs(np.asarray(samples)).max()) if len(samples) else 0.0
    if not math.isfinite(before.loudness_lufs) or peak < 10 ** (MUTED_DBFS / 20):
        # no speech, or a muted microphone: left as it is, for the preflight to refuse
        return np.asarray(samples, dtype=np.float32), before
    gain_db = min(target_lufs - before.loudness_lufs, MAX_GAIN_DB)
    x = np.asarray(samples, dtype=np.float64) * 10 ** (gain_db / 20)
    y, cut = limit_true_peak(x, ceiling_dbtp)
    return y, TakeLevel(
        loudness_lufs=before.loudness_lufs,
        gain_db=gain_db,
        limited_db=cut,
        true_peak_dbtp=true_peak_dbtp(y),
        floor_dbfs=before.floor_dbfs,
        snr_db=before.snr_db,
        clipped_share=before.clipped_share,
        clipped=before.clipped,
        noisy=before.noisy,
    )
