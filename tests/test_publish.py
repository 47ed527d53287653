"""Versioned publishing, the folder lock and cache entries on real files (no rendering)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline import media
from pipeline.lock import FolderLock, LockBusy
from pipeline.planning.manifest import QUALITIES
from pipeline.publish import STALE_NOTE, LectureWriter
from pipeline.rendering import cache, housekeeping

ROOT = Path(__file__).resolve().parent.parent
TINY = QUALITIES["tiny"]


def manifest(key: str) -> str:
    return json.dumps({"quality": "tiny", "fps": 15, "segments": [
        {"id": "a", "chapter": "A", "frames": 30, "beats": {"x": 2.0}, "cache_key": key,
         "slide": {}, "narration": {"source": "clip", "cache_key": "n1"}}]})


def publish(out: Path, key: str, *, slides: bool = False) -> Path:
    with LectureWriter(out, "lec") as w:
        stage = w.stage()
        (stage / "lecture.mp4").write_bytes(key.encode() * 100)
        (stage / "manifest.json").write_text(manifest(key))
        if slides:
            (stage / "slides").mkdir()
            (stage / "slides" / "index.html").write_text(f"deck {key}")
        return w.commit(stage)


def test_publish_switches_the_whole_set_and_keeps_one_previous(tmp_path: Path) -> None:
    v1 = publish(tmp_path, "k1")
    link = tmp_path / "lec"
    assert link.is_symlink() and link.resolve() == v1
    assert not os.path.isabs(os.readlink(link))  # relative: the output folder can move
    v2 = publish(tmp_path, "k2")
    v3 = publish(tmp_path, "k3")
    assert (link / "manifest.json").read_text() == manifest("k3")
    assert v2.exists() and v3.exists() and not v1.exists()  # previous kept, older dropped


def test_leftovers_of_killed_runs_are_cleaned(tmp_path: Path) -> None:
    v1 = publish(tmp_path, "k1")
    store = tmp_path / ".lec.versions"
    (store / ".staging-99999-0").mkdir()  # killed while assembling
    (store / "v000007").mkdir()  # killed between the rename and the switch
    (tmp_path / ".lec.link-99999").symlink_to("nowhere")
    with LectureWriter(tmp_path, "lec"):
        pass
    assert sorted(p.name for p in store.iterdir()) == [v1.name]
    assert not list(tmp_path.glob(".lec.link-*"))
    assert (tmp_path / "lec").resolve() == v1


def test_a_folder_from_before_versions_is_adopted(tmp_path: Path) -> None:
    old = tmp_path / "lec"
    old.mkdir()
    (old / "lecture.mp4").write_bytes(b"old")
    (old / ".staging-1234").mkdir()  # a killed run of the old layout
    with LectureWriter(tmp_path, "lec"):
        pass
    assert (tmp_path / "lec").is_symlink()
    assert (tmp_path / "lec" / "lecture.mp4").read_bytes() == b"old"
    assert not list((tmp_path / "lec").glob(".staging-*"))


def test_old_slides_are_marked_stale_only_when_segments_changed(tmp_path: Path) -> None:
    publish(tmp_path, "k1", slides=True)
    publish(tmp_path, "k1")  # same segments: the deck still fits
    assert (tmp_path / "lec" / "slides" / "index.html").read_text() == "deck k1"
    assert not (tmp_path / "lec" / "slides" / STALE_NOTE).exists()
    publish(tmp_path, "k2")  # a segment changed
    assert (tmp_path / "lec" / "slides" / "index.html").read_text() == "deck k1"
    assert "lecture slides" in (tmp_path / "lec" / "slides" / STALE_NOTE).read_text()


def test_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / ".lec.lock"
    with FolderLock(path):
        with pytest.raises(LockBusy) as info:
            FolderLock(path, wait=False).acquire()
        assert info.value.holder == str(os.getpid())
    FolderLock(path, wait=False).acquire().release()


def test_lock_of_a_killed_holder_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".lec.lock"
    code = ("import sys, time; from pathlib import Path; from pipeline.lock import FolderLock;"
            f"FolderLock(Path({str(path)!r})).acquire(); "
            "import subprocess; subprocess.Popen(['sleep', '30']); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy, match=f"pid {holder.pid}"):
            FolderLock(path, wait=False).acquire()
        holder.send_signal(signal.SIGKILL)  # its child `sleep` lives on, without the lock
        holder.wait()
        t0 = time.monotonic()
        FolderLock(path, wait=False).acquire().release()
        assert time.monotonic() - t0 < 1
    finally:
        try:
            os.killpg(holder.pid, signal.SIGKILL)  # the orphaned child
        except ProcessLookupError:
            pass


def _encoded(tmp_path: Path, frames: int) -> Path:
    """A render as the pipeline writes one: moving RGBA frames through its one encoder."""
    out = tmp_path / "encoded.mp4"
    enc = media.FrameEncoder(TINY, out)
    y, x = np.mgrid[0:TINY.height, 0:TINY.width]
    for i in range(frames):
        rgba = np.zeros((TINY.height, TINY.width, 4), dtype=np.uint8)
        rgba[..., 0] = (x * 2 + i * 7) % 256
        rgba[..., 1] = (y * 3) % 256
        rgba[..., 3] = 255
        enc.write(rgba)
    assert enc.close() == frames
    return out


def test_cache_entry_is_verified_on_reuse(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache_dir = tmp_path / "cache"
    path = cache.store(cache_dir, "k" * 24, _encoded(tmp_path, 20), TINY, 20)
    rec = cache.record_path(cache_dir, "k" * 24)
    assert cache.lookup(cache_dir, "k" * 24, TINY, 20) == path
    assert cache.lookup(cache_dir, "k" * 24, TINY, 21) is None  # wrong frame count: discarded
    assert not path.exists() and not rec.exists()
    assert "discarded" in caplog.text

    for damage in ("truncate", "flip", "record"):
        path = cache.store(cache_dir, "k" * 24, _encoded(tmp_path, 20), TINY, 20)
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "flip":  # same size, a changed byte at the end (sampled window)
            data[-10] ^= 0xFF
            path.write_bytes(bytes(data))
        else:
            rec.write_text("{not json")
        assert cache.lookup(cache_dir, "k" * 24, TINY, 20) is None, damage
        assert not path.exists(), damage


def test_prune_evicts_least_recently_used(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    keys = [f"{i}" * 24 for i in range(3)]
    for k in keys:
        cache.store(cache_dir, k, _encoded(tmp_path, 10), TINY, 10)
        time.sleep(0.01)
    cache.lookup(cache_dir, keys[0], TINY, 10)  # used last now
    (cache_dir / "renders" / ".tmp-leftover").write_bytes(b"x")
    newest = sum(p.stat().st_size for p in (cache.video_path(cache_dir, keys[0]),
                                             cache.record_path(cache_dir, keys[0])))
    n, _ = cache.prune(cache_dir, max_bytes=newest)
    assert n == 2
    assert cache.video_path(cache_dir, keys[0]).exists()
    assert not cache.video_path(cache_dir, keys[1]).exists()
    assert not (cache_dir / "renders" / ".tmp-leftover").exists()
    assert housekeeping.prune_now(cache_dir, 0)[2] == 0
