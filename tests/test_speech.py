"""espeak-ng narration: real synthesis, exact sentence times, content-hash cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import audio.speech as speech
from audio import NarrationError, sentence_times_from_audio, speak, split_sentences
from audio.pcm import SAMPLE_RATE
from audio.speech import SENTENCE_PAUSE, silent_narration, speech_cache_key, trim_silence

from helpers.audio import have_espeak, rms_dbfs, silence, to_channels, tone

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng not installed")

SCRIPT = (
    "Diffusion models learn to reverse a gradual noising process. "
    "We start from a clean image, x_0. "
    "At every step we add a little Gaussian noise, e.g. with variance beta_t. "
    "After a thousand steps the image is pure noise... "
    "Remarkably, the forward process has a closed form. "
    "For t equal to 500, alpha bar is about 0.078."
)


class Spy:
    """Counts real espeak-ng runs (the real function still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = speech._run_espeak

        def counting(*args: object, **kwargs: object) -> np.ndarray:
            self.calls += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(speech, "_run_espeak", counting)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="module")
def spoken(cache: Path):  # -> Narration
    return speak(SCRIPT, cache_dir=cache)


def test_sentences_match_script_and_are_exact(spoken) -> None:
    expected = split_sentences(SCRIPT)
    assert spoken.source == "espeak"
    assert [s.text for s in spoken.sentences] == expected and len(expected) == 6
    starts = [s.start for s in spoken.sentences]
    ends = [s.end for s in spoken.sentences]
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(spoken.duration, abs=1e-9)
    assert all(a < b for a, b in zip(starts, ends, strict=True))
    for a, b in zip(spoken.sentences, spoken.sentences[1:], strict=False):
        assert b.start - a.end == pytest.approx(SENTENCE_PAUSE, abs=1.5 / SAMPLE_RATE)
    assert spoken.detail.startswith("espeak-ng ") and "voice en-us" in spoken.detail


def test_audio_is_speech_in_the_sentences_and_silence_between(spoken) -> None:
    x = spoken.samples
    assert x.dtype == np.float32 and x.shape[1] == 2 and np.abs(x).max() <= 1.0
    for s in spoken.sentences:
        part = x[round(s.start * SAMPLE_RATE) : round(s.end * SAMPLE_RATE)]
        assert rms_dbfs(part) > -35.0, s.text
        assert 0.5 < s.duration < 8.0
    for a, b in zip(spoken.sentences, spoken.sentences[1:], strict=False):
        pause = x[round(a.end * SAMPLE_RATE) : round(b.start * SAMPLE_RATE)]
        assert np.abs(pause).max() == 0.0
    # speaking rate near the requested 160 words per minute
    words = len(SCRIPT.split())
    voiced = sum(s.duration for s in spoken.sentences)
    assert 120 < words / voiced * 60 < 220


def test_resampling_adds_no_images_above_the_source_band(spoken) -> None:
    """espeak speaks at 22.05 kHz: a proper 48 kHz resample has ~nothing above 12 kHz.

    (Linear interpolation leaves spectral images at about -35 dB here; polyphase
    resampling measures about -65 dB.)
    """
    x = spoken.samples[:, 0].astype(np.float64)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    above = power[freqs > 12_500].sum() / power.sum()
    assert 10 * np.log10(above + 1e-30) < -55


def test_second_call_hits_the_cache(cache: Path, spoken, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = spoken.path
    assert wav is not None and wav.parent == cache and wav.suffix == ".npy"
    meta = wav.with_suffix(".json")
    before = (wav.stat().st_mtime_ns, meta.stat().st_mtime_ns)
    spy = Spy(monkeypatch)
    again = speak(SCRIPT, cache_dir=cache)
    assert spy.calls == 0
    assert (wav.stat().st_mtime_ns, meta.stat().st_mtime_ns) == before
    assert again.cache_key == spoken.cache_key and again.sentences == spoken.sentences
    assert np.array_equal(again.samples, spoken.samples)
    # the audio is memory-mapped, one channel for mono speech: a plan that only needs
    # the durations reads none of it
    base = again.samples
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap) and again.samples.strides[1] == 0
    info = json.loads(meta.read_text())
    assert info["key"] == spoken.cache_key and info["frames"] == len(spoken.samples)
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*"))


def test_cache_key_follows_text_voice_wpm_and_version() -> None:
    base = dict(voice="en-us", wpm=160, version="1.51")
    key = speech_cache_key(SCRIPT, **base)  # type: ignore[arg-type]
    assert key == speech_cache_key(SCRIPT, **base)  # type: ignore[arg-type]
    assert key == speech_cache_key("  " + SCRIPT.replace(" ", "  "), **base)  # type: ignore[arg-type]
    changed = [
        speech_cache_key(SCRIPT + " One more.", **base),  # type: ignore[arg-type]
        speech_cache_key(SCRIPT, voice="en-gb", wpm=160, version="1.51"),
        speech_cache_key(SCRIPT, voice="en-us", wpm=140, version="1.51"),
        speech_cache_key(SCRIPT, voice="en-us", wpm=160, version="1.52"),
    ]
    assert len({key, *changed}) == 5


def test_slower_rate_is_a_new_and_longer_entry(tmp_path: Path) -> None:
    text = "The noise schedule sets how fast the signal fades. It matters."
    fast = speak(text, cache_dir=tmp_path, wpm=200)
    slow = speak(text, cache_dir=tmp_path, wpm=120)
    british = speak(text, cache_dir=tmp_path, voice="en-gb", wpm=200)
    assert len({fast.cache_key, slow.cache_key, british.cache_key}) == 3
    assert len(list(tmp_path.glob("*.npy"))) == 3
    assert slow.duration > fast.duration * 1.3


def test_corrupt_cache_entry_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Sampling runs the chain backwards. One step at a time."
    first = speak(text, cache_dir=tmp_path)
    assert first.path is not None
    first.path.with_suffix(".json").write_text('{"key": "trunc')
    spy = Spy(monkeypatch)
    again = speak(text, cache_dir=tmp_path)
    assert spy.calls == 2  # one run per sentence
    assert np.array_equal(again.samples, first.samples)


def test_unknown_voice_and_empty_text_are_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrationError, match="no-such-voice"):
        speak("Hello there.", cache_dir=tmp_path, voice="no-such-voice")
    with pytest.raises(NarrationError, match="empty"):
        speak("   ", cache_dir=tmp_path)


def test_pause_detection_recovers_espeak_sentence_times(spoken) -> None:
    """Clip timing measured against speech whose sentence times are known exactly."""
    texts = [s.text for s in spoken.sentences]
    found = sentence_times_from_audio(spoken.samples, texts)
    errors = [
        max(abs(f.start - s.start), abs(f.end - s.end))
        for f, s in zip(found, spoken.sentences, strict=True)
    ]
    assert max(errors) < 0.05, errors


def test_trim_silence_keeps_a_short_edge_and_fades() -> None:
    x = to_channels(np.concatenate([silence(0.3), tone(300, 0.5, amp=0.6), silence(0.4)]), 2)
    y = trim_silence(x)
    assert len(y) / SAMPLE_RATE == pytest.approx(0.5 + 2 * speech.EDGE_KEEP, abs=0.003)
    assert y[0, 0] == 0.0 and y[-1, 0] == 0.0
    assert len(trim_silence(to_channels(silence(0.2), 2))) == 0


def test_silent_narration_reads_at_the_given_pace() -> None:
    n = silent_narration("One two three four five six. Seven eight nine.", wpm=180)
    assert n.source == "silence" and [len(s.text.split()) for s in n.sentences] == [6, 3]
    assert n.sentences[0].duration == pytest.approx(2.0)
    assert n.sentences[1].duration == pytest.approx(1.0)
    assert n.duration == pytest.approx(3.0 + SENTENCE_PAUSE, abs=1 / SAMPLE_RATE)
