"""Recorded takes: levelled to one loudness, trimmed of silence only, aligned word by word.

Real audio throughout: espeak-ng speech synthesised a word at a time (so every word's
start is known), generated tones, and real ffmpeg encodes (mp3, ogg).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from audio.align import align, align_words
from audio.level import (
    TAKE_CEILING_DBTP,
    TAKE_TARGET_LUFS,
    analyse_take,
    level_take,
    speech_loudness,
    trim_edges,
)
from audio.narration import resolve_narration
from audio.textnorm import spoken_words

from helpers.audio import have_espeak, have_ffmpeg, tone, write_audio
from helpers.takes import SR, known_take

pytestmark = pytest.mark.skipif(
    not (have_espeak() and have_ffmpeg()), reason="needs espeak-ng and ffmpeg"
)

SENTENCES = [
    "The forward process adds a little noise at every step.",
    "After many steps the image is pure noise.",
]


@pytest.fixture(scope="module")
def take():
    return known_take(SENTENCES, seed=1)


def _stereo(x: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(x, np.float32)[:, None], 2, axis=1)


def test_quiet_and_hot_takes_come_out_at_one_loudness(take) -> None:
    normal = _stereo(take.samples)  # peaks at -6 dBFS
    quiet = normal * 10 ** (-28 / 20)
    hot = np.clip(normal * 10 ** (18 / 20), -1.0, 1.0)  # clipped, as a hot recording is
    before = [speech_loudness(x) for x in (normal, quiet, hot)]
    assert max(before) - min(before) > 25  # the spread the issue reports
    levelled = []
    for x in (normal, quiet, hot):
        y, info = level_take(x)
        levelled.append(speech_loudness(y))
        assert info.true_peak_dbtp <= TAKE_CEILING_DBTP + 0.05
    assert max(levelled) - min(levelled) <= 1.0, levelled
    assert all(abs(v - TAKE_TARGET_LUFS) <= 1.0 for v in levelled), levelled
    assert analyse_take(hot).clipped and not analyse_take(normal).clipped
    assert not analyse_take(quiet).clipped


def test_noisy_take_is_flagged(take) -> None:
    rng = np.random.default_rng(0)
    x = take.samples * 0.3 + rng.normal(0, 10 ** (-38 / 20), len(take.samples))
    assert analyse_take(_stereo(x)).noisy
    assert not analyse_take(_stereo(take.samples * 0.3)).noisy


@pytest.mark.parametrize("sound", ["tone", "clap"])
def test_trim_keeps_a_slate_sound_in_place(take, sound: str) -> None:
    lead = np.zeros(int(0.8 * SR), np.float32)
    if sound == "tone":
        burst = tone(1000, 0.15, SR, amp=0.03)  # a quiet slate beep, -33 dBFS
    else:
        rng = np.random.default_rng(2)
        n = int(0.03 * SR)
        burst = (rng.normal(0, 0.3, n) * np.exp(-np.arange(n) / (0.004 * SR))).astype(np.float32)
    gap = np.zeros(int(0.5 * SR), np.float32)
    x = _stereo(np.concatenate([lead, burst, gap, take.samples]))
    y, cut = trim_edges(x)
    burst_at = len(lead) / SR
    assert 0.7 < cut < burst_at  # room silence before it went, the burst did not
    loud = np.nonzero(np.abs(y[:, 0]) > 1e-3)[0]
    assert abs(loud[0] / SR - (burst_at - cut)) < 0.005  # the burst is the first sound
    # the words are where they were relative to the burst
    first_word = (len(lead) + len(burst) + len(gap)) / SR + take.starts[0]
    assert len(y) / SR > first_word - cut


def test_alignment_word_starts_on_short_takes(take, tmp_path: Path) -> None:
    """Accuracy on a short take, re-encoded and offset (a looser bound than the bench)."""
    words = [spoken_words(s) for s in SENTENCES]
    lead = 0.6
    x = np.concatenate([np.zeros(int(lead * SR), np.float32), take.samples * 0.1])
    mp3 = write_audio(tmp_path / "t.mp3", x, SR)
    from audio.clips import read_clip

    y = read_clip(mp3)
    a = align(y, words)
    assert a.share == 1.0 and a.on_script
    err = np.abs(np.array([w.start for w in a.words]) - (np.array(take.starts) + lead))
    assert np.median(err) <= 0.08, err
    assert np.percentile(err, 95) <= 0.15, err


def test_off_script_take_finds_few_words(take) -> None:
    other = [spoken_words("Sampling runs the learned reverse chain from pure Gaussian noise.")]
    a = align_words(_stereo(take.samples), other[0])
    assert a.share < 0.6 and not a.on_script


def test_clip_narration_aligns_and_levels(take, tmp_path: Path) -> None:
    from scipy.signal import resample_poly

    x44 = resample_poly(take.samples * 0.02, 147, 160)  # 48 kHz -> 44.1 kHz
    path = write_audio(tmp_path / "seg.ogg", x44, 44_100,
                       codec_args=["-c:a", "libvorbis", "-q:a", "5"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an on-script, clean take warns about nothing
        n = resolve_narration(segment_id="seg", script=" ".join(SENTENCES), clip=path,
                              cache_dir=tmp_path / "cache")
    assert n.take is not None and not n.take.approximate
    assert n.take.words_found == n.take.words_expected == len(n.words)
    assert abs(speech_loudness(n.samples) - TAKE_TARGET_LUFS) < 1.0
    # the second sentence starts at its first aligned word, near the true time
    true_start = take.starts[len(SENTENCES[0].split())] - n.take.trimmed_start
    assert abs(n.sentences[1].start - true_start) < 0.1


def test_off_script_take_warns_and_strict_refuses(take, tmp_path: Path) -> None:
    from audio.clips import NarrationError

    path = write_audio(tmp_path / "seg.wav", take.samples, SR)
    script = "Sampling runs the learned reverse chain. It ends at a clean digit."
    with pytest.warns(UserWarning, match=r"seg.*does not follow its script: \d+ of \d+ words"):
        n = resolve_narration(segment_id="seg", script=script, clip=path, cache_dir=None)
    assert n.take is not None and n.take.approximate
    with pytest.raises(NarrationError, match="--allow-unaligned"):
        resolve_narration(segment_id="seg", script=script, clip=path, cache_dir=None,
                          strict=True)
    # the transcript beside the take replaces the script
    (tmp_path / "seg.txt").write_text(" ".join(SENTENCES), encoding="utf-8")
    n = resolve_narration(segment_id="seg", script=script, clip=path, cache_dir=None,
                          strict=True)
    assert n.take is not None and not n.take.approximate
    assert n.sentences[0].text == SENTENCES[0]
