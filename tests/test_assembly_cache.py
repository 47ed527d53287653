"""What decides whether assembly work is redone: the clip-analysis cache and the keys.

The end-to-end behaviour (a warm run writes nothing; one changed take re-renders and
re-encodes exactly its segment) is tested in ``test_lecture_e2e.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import audio.narration as narration
from pipeline import media
from pipeline.assembly import loudness, parts
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.planning.plan import plan_lecture
from pipeline.records import LectureRecord, RecordError, read_record

from helpers.audio import speechlike, write_audio

LECTURE = '''
id = "keys"
title = "Keys"
quality = "tiny"
[[segments]]
id = "a"
chapter = "A"
scene = "TitleCard"
narration = "One. Two."
[[segments]]
id = "b"
chapter = "B"
scene = "TitleCard"
params = { title = "B" }
narration = "Three. Four."
'''


def test_a_takes_analysis_is_read_back_not_redone(tmp_path: Path, monkeypatch) -> None:
    sp = speechlike(2, seed=4, lead=0.3, tail=0.3)
    clip = tmp_path / "take.wav"
    write_audio(clip, sp.samples, sp.sr)
    cache = tmp_path / "cache"
    first = narration.resolve_narration(segment_id="a", script="One. Two.", clip=clip,
                                        cache_dir=cache)
    assert list((cache / "clips").glob("*.npy"))

    def no_decoding(path):  # a cache hit must not decode or analyse the take again
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(narration, "decode_clip", no_decoding)
    again = narration.resolve_narration(segment_id="a", script="One. Two.", clip=clip,
                                        cache_dir=cache)
    assert again.cache_key == first.cache_key and again.sentences == first.sentences
    assert np.array_equal(np.asarray(again.samples), first.samples)
    # a different script is a different analysis: decoded again
    with pytest.raises(AssertionError, match="decoded"):
        narration.resolve_narration(segment_id="a", script="One. Two. Three.", clip=clip,
                                    cache_dir=cache)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("keys")
    toml = base / "keys.toml"
    toml.write_text(LECTURE, encoding="utf-8")
    spec = load_lecture(toml)
    takes = base / "takes"
    takes.mkdir()
    for i, sid in enumerate(("a", "b")):
        sp = speechlike(2, seed=i, lead=0.0, tail=0.05)
        write_audio(takes / f"{sid}.wav", sp.samples, sp.sr)
    opts = RenderOptions(quality=QUALITIES["tiny"], out_root=base / "out", narration_dir=takes,
                         speech_cache=base / "speech")
    return spec, opts, plan_lecture(spec, opts)


def test_assembly_key_follows_what_shapes_the_outputs(planned, monkeypatch) -> None:
    spec, opts, plans = planned
    key = parts.assembly_key(spec, plans, opts.quality)
    assert parts.assembly_key(spec, plans, opts.quality) == key  # deterministic
    assert parts.assembly_key(spec, list(reversed(plans)), opts.quality) != key
    retitled = spec.model_copy(update={"title": "Other"})
    assert parts.assembly_key(retitled, plans, opts.quality) != key
    assert parts.assembly_key(spec, plans, QUALITIES["preview"]) != key
    monkeypatch.setattr(media, "AAC_BITRATE", "256k")  # an encoder setting
    assert parts.assembly_key(spec, plans, opts.quality) != key
    monkeypatch.undo()
    monkeypatch.setattr(loudness, "TARGET_LUFS", -16.0)  # a loudness setting
    assert parts.assembly_key(spec, plans, opts.quality) != key


def test_clip_key_is_the_picture_and_the_exact_audio() -> None:
    audio = np.zeros((4800, 2), dtype=np.float32)
    key = parts.clip_key("render-1", audio)
    assert parts.clip_key("render-1", audio.copy()) == key
    assert parts.clip_key("render-2", audio) != key
    louder = audio.copy()
    louder[100, 0] = 1e-6
    assert parts.clip_key("render-1", louder) != key


def test_mono_audio_is_keyed_and_streamed_as_the_stereo_it_becomes() -> None:
    """A one-channel lecture track (mono narration, half the memory) gives the same clip
    key and the same bytes on ffmpeg's stdin as the dual-mono stereo it stands for."""
    from audio.pcm import compact, is_dual_mono
    from audio.sources import Narration

    x = (0.1 * np.sin(np.arange(300_000) / 7.0)).astype(np.float32)
    dual = np.stack([x, x], axis=1)
    mono = x[:, None]
    assert parts.clip_key("r", mono) == parts.clip_key("r", dual)
    assert b"".join(media.stereo_f32le(mono, piece=70_001)) == dual.astype("<f4").tobytes()
    view = compact(dual)
    assert view.strides[1] == 0 and np.array_equal(view, dual) and is_dual_mono(view)
    assert parts.clip_key("r", view) == parts.clip_key("r", dual)
    uneven = dual.copy()
    uneven[5, 1] = 0.5
    assert compact(uneven) is uneven and not is_dual_mono(uneven)
    # a Narration keeps one channel of mono speech
    n = Narration(source="silence", samples=dual.copy(), sentences=(), path=None,
                  detail="", cache_key="k")
    assert n.samples.strides[1] == 0 and np.array_equal(n.samples, dual)
    assert not n.samples.flags.writeable


def test_record_round_trip_and_bad_records(tmp_path: Path) -> None:
    rec = LectureRecord.model_validate({
        "lecture": "x", "title": "X", "quality": "tiny", "width": 256, "height": 144,
        "fps": 15, "frames": 30, "duration": 2.0, "assembly_key": "k",
        "segments": [{
            "index": 1, "id": "a", "chapter": "A", "scene": "TitleCard", "start": 0.0,
            "start_frame": 0, "duration": 2.0, "frames": 30, "speech_start": 0.5,
            "narration": {"source": "clip", "duration": 1.0,
                          "sentences": [{"text": "Hi.", "start": 0.0, "end": 0.8}]},
            "beats": {"title": 2.0}, "cache_key": "r", "files": {"segment": "segments/01_a.mp4"},
        }],
    })
    path = tmp_path / "manifest.json"
    rec.write(path)
    assert read_record(path) == rec
    assert rec.segments[0].name == "01_a" and "segments/01_a.mp4" in rec.files()
    path.write_text(path.read_text().replace('"frames": 30,\n      "speech', '"frames": 0,\n'
                                             '      "speech'))
    with pytest.raises(RecordError, match=r"segments\.0\.frames"):
        read_record(path)
    with pytest.raises(RecordError, match="unreadable"):
        read_record(tmp_path / "missing.json")
