"""Piper (the bundled neural voice) and word times: real model, real audio.

Word times are checked against the audio itself: a marked word after a comma pause
starts where the voice comes back after that pause.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from audio import Narration, piper_voice, synthesize
from audio.clips import write_wav
from audio.pcm import SAMPLE_RATE
from audio.piper_voice import PiperEngine, SeededSession, align_groups, piper_available
from audio.textnorm import spoken_words
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.planning.plan import plan_lecture

from helpers.audio import have_espeak, rms_dbfs

pytestmark = pytest.mark.skipif(piper_available() is not None, reason=str(piper_available()))

SENTENCE = "The forward process adds a little Gaussian noise at every step."
MARKED = (
    "Here is a clean handwritten digit. "
    'We wait a moment, and then, <mark name="subtitle"/>noise arrives at every step. '
    'Finally, <mark name="chapter"/>only noise is left.'
)


def voice_onset_after_pause(x: np.ndarray, around: float, *, pause: float = 0.08) -> float:
    """Seconds where the voice resumes after the last pause (>= ``pause`` s) before
    ``around + 0.1`` s: the first 1 ms frame above the speech level - 35 dB."""
    m = np.abs(np.asarray(x, dtype=np.float64).mean(axis=1))
    f = SAMPLE_RATE // 1000
    n = len(m) // f
    env = m[: n * f].reshape(n, f).max(axis=1)
    level = np.percentile(env, 95) * 10 ** (-35 / 20)
    loud = env > level
    end = min(n, int((around + 0.1) * 1000))
    quiet_run = int(pause * 1000)
    for i in range(end - 1, quiet_run, -1):
        if loud[i] and not loud[i - quiet_run : i].any():
            return i / 1000
    raise AssertionError("no pause before the word")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("piper-cache")


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    return PiperEngine(150)


@pytest.fixture(scope="module")
def sentence(engine: PiperEngine, cache: Path) -> Narration:
    return synthesize(engine, SENTENCE, cache_dir=cache)


def test_one_sentence_is_speech_of_the_expected_length(sentence: Narration) -> None:
    assert sentence.source == "piper" and "en_US-joe-medium" in sentence.detail
    x = sentence.samples
    assert x.dtype == np.float32 and x.shape[1] == 2 and np.abs(x).max() <= 1.0
    assert rms_dbfs(x) > -30.0  # speech, not silence
    # 11 written words, 12 spoken, at 150 words per minute: about 4.8 s
    assert 3.0 < sentence.duration < 7.0
    (s,) = sentence.sentences
    assert s.text == SENTENCE and s.start == 0.0


def test_word_times_cover_every_spoken_word_in_order(sentence: Narration) -> None:
    words = sentence.words
    assert [w.text for w in words] == spoken_words(SENTENCE)
    starts = [w.start for w in words]
    assert starts == sorted(starts) and words[-1].end <= sentence.duration + 1e-6
    assert all(w.end > w.start for w in words)
    # words fill the sentence: first starts near its start, last ends near its end
    assert words[0].start < 0.15 and sentence.duration - words[-1].end < 0.15


def test_second_call_is_served_from_the_cache(
    engine: PiperEngine, cache: Path, sentence: Narration, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.setattr(PiperEngine, "say", lambda *a, **k: calls.append(a))
    again = synthesize(engine, SENTENCE, cache_dir=cache)
    assert calls == []
    assert again.cache_key == sentence.cache_key and again.path == sentence.path
    assert np.array_equal(again.samples, sentence.samples) and again.words == sentence.words
    # a different rate is a different entry
    assert PiperEngine(120).identity() != engine.identity()


def test_speech_is_the_same_every_time_it_is_said(
    engine: PiperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VITS samples noise; fed from a generator seeded by the sentence, one text gives
    one waveform whatever was said before it, with a fresh model, and however much
    noise was drawn at first (a too-short draw is retried with more of the same)."""
    first = engine.say(SENTENCE, spoken_words(SENTENCE))
    other = "Something else entirely, to move any hidden state on."
    engine.say(other, spoken_words(other))
    piper_voice._load_voice.cache_clear()  # a fresh ONNX Runtime session
    monkeypatch.setattr(SeededSession, "_PER_SYMBOL", 8)  # forces the retry path
    again = engine.say(SENTENCE, spoken_words(SENTENCE))
    assert np.array_equal(first.samples, again.samples) and first.words == again.words
    # both of the voice's random nodes (duration predictor, prior) now read fed noise
    session = engine._voice().session
    assert isinstance(session, SeededSession) and len(session.noise) == 2


def test_align_groups_handles_merged_function_words() -> None:
    # espeak-ng runs "for a" together into one group
    spans = align_groups(["fɚɹə", "pˈɪksəl"], ["For", "a", "pixel"], ["fˈɔːɹ", "ˈeɪ", "pˈɪksəl"])
    assert spans == [(0, 1, 0, 2), (1, 2, 2, 3)]


@pytest.mark.parametrize("voice", ["piper", "espeak", "take"])
def test_bookmarked_beat_starts_on_its_word(tmp_path: Path, voice: str, cache: Path) -> None:
    """Synthetic voices time words themselves; a recorded take (here: Piper's speech
    saved as a WAV take) gets them from word alignment."""
    if voice == "espeak" and not have_espeak():
        pytest.skip("espeak-ng not installed")
    takes = None
    if voice == "take":
        takes = tmp_path / "takes"
        takes.mkdir()
        said = synthesize(PiperEngine(150), MARKED, cache_dir=cache)
        write_wav(takes / "intro.wav", np.asarray(said.samples))
    toml = tmp_path / "marks.toml"
    toml.write_text(
        f'id = "marks"\ntitle = "Marks"\nquality = "tiny"\nlead_in = 0.5\n'
        f'voice = "{"silence" if voice == "take" else voice}"\n\n'
        '[[segments]]\nid = "intro"\nchapter = "Intro"\nscene = "TitleCard"\n'
        f"narration = '''{MARKED}'''\n",
        encoding="utf-8",
    )
    fps = 60
    q = dataclasses.replace(QUALITIES["tiny"], fps=fps)  # 60 fps: the strictest frame
    opts = RenderOptions(quality=q, out_root=tmp_path / "out", speech_cache=tmp_path / "speech",
                         narration_dir=takes)
    (plan,) = plan_lecture(load_lecture(toml), opts)
    n, timing = plan.narration, plan.timing
    assert n.source == ("clip" if voice == "take" else voice)
    for beat, word in (("subtitle", "noise"), ("chapter", "only")):
        w = next(w for w in n.words if w.text.lower() == word)  # the first "noise"
        start = (timing.beat_frames[timing.beat_names.index(beat)] - timing.speech_frame)
        assert abs(start / timing.fps - w.start) <= 1 / timing.fps, (beat, word)
        # the word time is where the voice comes back after the comma's pause (a
        # synthetic voice knows it to a 60 fps frame; alignment works in 10 ms steps)
        onset = voice_onset_after_pause(n.samples, w.start)
        assert abs(onset - w.start) < (1 / 30 if voice == "take" else 1 / 60), (word, onset)
    assert "mark" not in " ".join(s.text for s in n.sentences)
