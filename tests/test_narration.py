"""Narration sources: sentence splitting, clip decoding, pause timing, source resolution."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from audio import (
    Narration,
    NarrationError,
    find_clip,
    read_clip,
    resolve_narration,
    sentence_times_from_audio,
    split_sentences,
)
from audio.level import EDGE_KEEP as CLIP_LEAD_KEEP
from audio.level import TAIL_KEEP as CLIP_TAIL_KEEP
from audio.narration import detect_sentence_times
from audio.pcm import SAMPLE_RATE

from helpers.audio import (
    have_espeak,
    have_ffmpeg,
    rms_dbfs,
    silence,
    speechlike,
    to_channels,
    tone,
    write_audio,
)

needs_ffmpeg = pytest.mark.skipif(not have_ffmpeg(), reason="ffmpeg/ffprobe not installed")


# ------------------------------------------------------------------ sentence splitting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We start from x_0. Then we add noise, e.g. Gaussian noise with beta = 0.778.",
            ["We start from x_0.", "Then we add noise, e.g. Gaussian noise with beta = 0.778."],
        ),
        ("Wait... what? Yes! It works.", ["Wait... what?", "Yes!", "It works."]),
        ("The mean falls... and falls. Done.", ["The mean falls... and falls.", "Done."]),
        (
            "Ho et al. (2020) showed it. See Fig. 3 now.",
            ["Ho et al. (2020) showed it.", "See Fig. 3 now."],
        ),
        ("i.e. The same. x_0.5 is a value.", ["i.e. The same.", "x_0.5 is a value."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("One\n\ntwo without a full stop", ["One", "two without a full stop"]),
        ("  spread\n over   lines.  ", ["spread over lines."]),
        ("Pi is 3.14. 42 is more.", ["Pi is 3.14.", "42 is more."]),
        ("J. Ho wrote it\u2026 It works.", ["J. Ho wrote it\u2026", "It works."]),
        ("", []),
        ("   \n ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_keeps_every_word() -> None:
    text = "Alpha bar at t = 0.5 is 0.61, i.e. most signal remains. Noise dominates later... Right?"
    assert " ".join(split_sentences(text)).split() == text.split()


# ------------------------------------------------------------------ decoding clips


def _peak_freq(x: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)])


CLIP_CASES = [
    # ext, sample rate, channels, codec override, level tolerance dB
    (".wav", 8_000, 1, None, 0.1),
    (".wav", 96_000, 6, ["-c:a", "pcm_s24le"], 0.1),
    (".wav", 48_000, 2, ["-c:a", "pcm_f32le"], 0.1),
    (".wav", 22_050, 1, ["-c:a", "pcm_u8"], 0.3),
    (".flac", 44_100, 2, None, 0.1),
    (".mp3", 44_100, 1, None, 0.5),
    (".mp3", 22_050, 2, None, 0.5),
    (".m4a", 48_000, 2, None, 0.5),
    (".m4a", 44_100, 1, None, 0.5),
    (".ogg", 32_000, 2, None, 0.5),
]


@needs_ffmpeg
@pytest.mark.parametrize(("ext", "sr", "channels", "codec", "tol_db"), CLIP_CASES)
def test_read_clip_any_format(
    tmp_path: Path, ext: str, sr: int, channels: int, codec: list[str] | None, tol_db: float
) -> None:
    lead, body, tail = 0.25, 1.0, 0.35
    x = np.concatenate([silence(lead, sr), tone(440, body, sr, amp=0.5), silence(tail, sr)])
    path = write_audio(tmp_path / f"clip{ext}", to_channels(x, channels), sr, codec_args=codec)
    y = read_clip(path)
    assert y.dtype == np.float32 and y.ndim == 2 and y.shape[1] == 2
    assert abs(len(y) / SAMPLE_RATE - (lead + body + tail)) < 0.0011
    voiced = np.nonzero(np.abs(y[:, 0]) > 0.05)[0]
    assert abs(voiced[0] / SAMPLE_RATE - lead) < 0.002  # codec priming removed
    assert abs(voiced[-1] / SAMPLE_RATE - (lead + body)) < 0.002
    core = y[int((lead + 0.1) * SAMPLE_RATE) : int((lead + body - 0.1) * SAMPLE_RATE)]
    assert abs(_peak_freq(core[:, 0]) - 440) < 2.0  # rate conversion kept the pitch
    assert abs(rms_dbfs(core) - (20 * np.log10(0.5 / np.sqrt(2)))) < tol_db  # level kept
    lossy = ext in (".mp3", ".m4a", ".ogg")  # joint-stereo coding may differ slightly
    side = np.max(np.abs(y[:, 0] - y[:, 1]))
    assert side < (0.02 if lossy else 1e-6)  # mono/multichannel -> same on both sides
    assert np.abs(y).max() <= 1.0


@needs_ffmpeg
def test_read_clip_keeps_left_and_right(tmp_path: Path) -> None:
    sr = 44_100
    stereo = np.stack([tone(440, 0.8, sr), tone(660, 0.8, sr)], axis=1)
    y = read_clip(write_audio(tmp_path / "lr.flac", stereo, sr))
    assert abs(_peak_freq(y[:, 0]) - 440) < 2 and abs(_peak_freq(y[:, 1]) - 660) < 2


@needs_ffmpeg
def test_bad_clips_raise_narration_error_naming_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    good = write_audio(tmp_path / "good.wav", tone(440, 0.3))
    cases = {
        "empty.mp3": b"",
        "noise.mp3": rng.bytes(4000),
        "noise.wav": rng.bytes(4000),
        "fake.ogg": b"OggS" + rng.bytes(3000),
        "text.m4a": b"this is not audio at all\n" * 20,
        "truncated.wav": good.read_bytes()[:30],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    write_audio(tmp_path / "nothing.flac", np.zeros(0, np.float32))
    write_audio(tmp_path / "tone.aiff", tone(440, 0.3), codec_args=["-c:a", "pcm_s16be"])
    expected = {
        "empty.mp3": "empty",
        "noise.mp3": "not a decodable",
        "noise.wav": "not a decodable",
        "fake.ogg": "not a decodable",
        "text.m4a": "not a decodable",
        "truncated.wav": "not a decodable",
        "nothing.flac": "no audio",
        "tone.aiff": "unsupported",
        "missing.mp3": "not found",
    }
    for name, what in expected.items():
        with pytest.raises(NarrationError) as err:
            read_clip(tmp_path / name)
        msg = str(err.value)
        assert name in msg and what in msg, msg
        assert "\n" not in msg  # one clear line


def test_find_clip(tmp_path: Path) -> None:
    assert find_clip(tmp_path, "intro") is None
    assert find_clip(tmp_path / "absent", "intro") is None
    assert find_clip(None, "intro") is None
    (tmp_path / "intro-2.mp3").write_bytes(b"x")
    (tmp_path / "intro.txt").write_text("script")
    assert find_clip(tmp_path, "intro") is None
    (tmp_path / "intro.MP3").write_bytes(b"x")
    assert find_clip(tmp_path, "intro") == tmp_path / "intro.MP3"
    (tmp_path / "intro.wav").write_bytes(b"x")
    with pytest.raises(NarrationError, match="intro.MP3, intro.wav"):
        find_clip(tmp_path, "intro")


# ------------------------------------------------------------------ sentence times


def _max_error(found: tuple, spans: tuple) -> float:
    assert len(found) == len(spans)
    return max(
        max(abs(s.start - a), abs(s.end - b)) for s, (a, b) in zip(found, spans, strict=True)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pause_boundaries_match_known_sentences(seed: int) -> None:
    sp = speechlike(8, seed=seed)
    found = sentence_times_from_audio(to_channels(sp.samples, 2), list(sp.texts))
    assert [s.text for s in found] == list(sp.texts)
    assert _max_error(found, sp.spans) < 0.010


@needs_ffmpeg
def test_pause_boundaries_in_a_noisy_mp3_clip(tmp_path: Path) -> None:
    sp = speechlike(6, seed=11, sr=44_100, noise_dbfs=-55)
    y = read_clip(write_audio(tmp_path / "take.mp3", sp.samples, sp.sr))
    found = sentence_times_from_audio(y, list(sp.texts))
    assert _max_error(found, sp.spans) < 0.030


def test_too_few_pauses_falls_back_to_proportional() -> None:
    sp = speechlike(2, seed=4)
    script = ["Short one.", "A much longer second sentence here.", "Third.", "And the fourth one."]
    timing = detect_sentence_times(to_channels(sp.samples, 2), script)
    assert timing.method == "proportional"
    times = timing.sentences
    assert times[0].start == pytest.approx(sp.spans[0][0], abs=0.005)
    assert times[-1].end == pytest.approx(sp.spans[-1][1], abs=0.005)
    assert all(a.end <= b.start for a, b in zip(times, times[1:], strict=False))
    per_char = [s.duration / len(s.text) for s in times]
    assert max(per_char) == pytest.approx(min(per_char), rel=1e-6)


def test_longest_pauses_win_over_word_gaps() -> None:
    # word gaps up to 0.3 s, sentence pauses 0.5-0.8 s: only the longest are boundaries
    sp = speechlike(5, seed=5, word_gap=(0.2, 0.3), pause=(0.5, 0.8))
    timing = detect_sentence_times(to_channels(sp.samples, 2), list(sp.texts))
    assert timing.method == "pauses" and timing.pauses_found > 4
    assert _max_error(timing.sentences, sp.spans) < 0.010


def test_silent_clip_gets_proportional_times_over_its_length() -> None:
    x = to_channels(silence(3.0), 2)
    timing = detect_sentence_times(x, ["One.", "Two."])
    assert timing.method == "no-voice"
    assert timing.sentences[0].start == 0.0 and timing.sentences[-1].end == pytest.approx(3.0)


# ------------------------------------------------------------------ resolution


@needs_ffmpeg
def test_resolve_prefers_explicit_clip_then_folder(tmp_path: Path) -> None:
    sp = speechlike(3, seed=2, sr=44_100)
    script = " ".join(sp.texts)
    (tmp_path / "takes").mkdir()
    explicit = write_audio(tmp_path / "takes" / "mine.mp3", sp.samples, 44_100)
    folder = tmp_path / "narration"
    folder.mkdir()
    write_audio(folder / "intro.wav", to_channels(sp.samples, 2), 44_100)
    n = resolve_narration(
        segment_id="intro",
        script=script,
        clip=explicit,
        narration_dir=folder,
        cache_dir=tmp_path / "cache",
    )
    assert n.source == "clip" and n.path == explicit
    assert n.detail.startswith("clip 44.1 kHz mono mp3")
    # the take's own leading/trailing silence is cut to the kept edges
    voiced = sp.spans[-1][1] - sp.spans[0][0]
    assert len(n.sentences) == 3
    assert n.duration == pytest.approx(voiced + CLIP_LEAD_KEEP + CLIP_TAIL_KEEP, abs=0.015)
    m = resolve_narration(
        segment_id="intro", script=script, narration_dir=folder, cache_dir=tmp_path / "cache"
    )
    assert m.source == "clip" and m.path == folder / "intro.wav"
    assert m.detail.startswith("clip 44.1 kHz stereo wav")
    assert m.cache_key != n.cache_key
    # sentence times count from the trimmed start; the outer edges may take in the kept
    # room tone (shorter than a pause), the inner boundaries are exact
    cut = sp.spans[0][0] - CLIP_LEAD_KEEP
    want = [(a - cut, b - cut) for a, b in sp.spans]
    inner = [(s.start, w[0]) for s, w in zip(m.sentences[1:], want[1:], strict=True)]
    inner += [(s.end, w[1]) for s, w in zip(m.sentences[:-1], want[:-1], strict=True)]
    assert max(abs(a - b) for a, b in inner) < 0.010
    assert abs(m.sentences[0].start - want[0][0]) <= CLIP_LEAD_KEEP + 0.010
    assert abs(m.sentences[-1].end - want[-1][1]) <= CLIP_TAIL_KEEP + 0.010


def test_resolve_strict_needs_a_clip(tmp_path: Path) -> None:
    with pytest.raises(NarrationError) as err:
        resolve_narration(
            segment_id="forward",
            script="Hello there.",
            narration_dir=tmp_path,
            strict=True,
            cache_dir=tmp_path / "cache",
        )
    msg = str(err.value)
    assert str(tmp_path / "forward.mp3") in msg and str(tmp_path / "forward.flac") in msg
    with pytest.raises(NarrationError, match="gone.wav"):
        resolve_narration(
            segment_id="forward",
            script="Hello.",
            clip=tmp_path / "gone.wav",
            cache_dir=tmp_path / "cache",
        )


@pytest.mark.skipif(not have_espeak(), reason="espeak-ng not installed")
def test_resolve_speaks_with_the_chosen_voice(tmp_path: Path) -> None:
    n = resolve_narration(
        segment_id="s1",
        script="The forward process adds noise. It has a closed form.",
        narration_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        voice="espeak",
    )
    assert n.source == "espeak" and len(n.sentences) == 2 and n.path is not None
    assert [w.text for w in n.words][:3] == ["The", "forward", "process"]
    quiet = resolve_narration(segment_id="s1", script="Hello there.", cache_dir=tmp_path,
                              voice="silence")
    assert quiet.source == "silence" and quiet.words == ()
    with pytest.raises(ValueError, match="expected one of auto, piper, espeak, silence"):
        resolve_narration(segment_id="s1", script="Hi.", cache_dir=tmp_path, voice="festival")


def test_resolve_falls_back_to_espeak_when_piper_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audio.narration as narration

    monkeypatch.setattr(narration, "piper_available", lambda: "no voice files (test)")
    with pytest.warns(UserWarning, match=r"Piper cannot run \(no voice files.*using espeak"):
        n = resolve_narration(segment_id="s1", script="It adds noise.", cache_dir=tmp_path)
    assert n.source == "espeak"


def test_resolve_without_espeak_gives_timed_silence_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # a machine without espeak-ng
    import audio.narration as narration

    monkeypatch.setattr(narration, "piper_available", lambda: "piper-tts not installed (test)")
    script = "One two three four five six seven eight. Nine ten eleven twelve."
    with pytest.warns(UserWarning, match="espeak-ng is not installed"):
        n = resolve_narration(
            segment_id="s1",
            script=script,
            narration_dir=tmp_path,
            cache_dir=tmp_path / "c",
            wpm=120,
        )
    assert n.source == "silence" and n.path is None
    assert [s.text for s in n.sentences] == split_sentences(script)
    assert n.sentences[0].duration == pytest.approx(8 * 60 / 120)
    assert n.sentences[1].start - n.sentences[0].end == pytest.approx(0.35)
    assert n.duration == pytest.approx(n.sentences[-1].end, abs=1 / SAMPLE_RATE)
    assert not np.any(n.samples)


def test_empty_script_without_clip_is_empty_narration(tmp_path: Path) -> None:
    n = resolve_narration(segment_id="title", script="  ", cache_dir=tmp_path)
    assert n.source == "silence" and n.duration == 0.0 and n.sentences == ()


def test_narration_is_immutable_and_validated() -> None:
    n = Narration("silence", np.zeros((480, 2), np.float32), (), None, "x", "k")
    with pytest.raises(ValueError):
        n.samples[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.source = "clip"  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        Narration("clip", np.zeros(480, np.float32), (), None, "x", "k")
    with pytest.raises(ValueError, match="source"):
        Narration("tts", np.zeros((480, 2), np.float32), (), None, "x", "k")
