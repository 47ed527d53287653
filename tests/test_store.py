"""The render cache as fsspec storage: atomic entries, records, verification (memory://)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pipeline.store import BadEntry, EntryRecord, RenderStore


@pytest.fixture
def store() -> RenderStore:
    return RenderStore(f"memory://cache-{uuid.uuid4().hex}")


@pytest.fixture
def video(tmp_path: Path) -> Path:
    p = tmp_path / "v.mp4"
    p.write_bytes(bytes(range(256)) * 40)
    return p


def test_put_then_lookup_and_fetch(store: RenderStore, video: Path, tmp_path: Path) -> None:
    assert store.lookup("k1", 30) is None
    rec = store.put("k1", video, 30)
    assert store.lookup("k1", 30) == rec
    local = store.fetch("k1", rec, tmp_path / "mirror")
    assert local.read_bytes() == video.read_bytes()
    assert local == tmp_path / "mirror" / "renders" / "k1.mp4"
    # nothing but the entry's two objects: temporary names were moved into place
    names = sorted(p.rsplit("/", 1)[-1] for p in store.fs.ls(f"{store.root}/renders",
                                                              detail=False))
    assert names == ["k1.json", "k1.mp4"]


def test_video_without_record_is_no_entry(store: RenderStore, video: Path) -> None:
    store.fs.makedirs(f"{store.root}/renders", exist_ok=True)
    store.fs.put_file(str(video), store.video("k2"))
    assert store.lookup("k2", 30) is None


def test_wrong_frame_count_or_size_drops_entry(store: RenderStore, video: Path) -> None:
    store.put("k3", video, 30)
    with pytest.warns(UserWarning, match="k3 dropped"):
        assert store.lookup("k3", 31) is None
    assert not store.fs.exists(store.video("k3"))
    store.put("k4", video, 30)
    store.fs.pipe_file(store.video("k4"), video.read_bytes()[:-100])  # truncated
    with pytest.warns(UserWarning, match="k4 dropped"):
        assert store.lookup("k4", 30) is None


def test_same_size_corruption_fails_checksum(store: RenderStore, video: Path,
                                             tmp_path: Path) -> None:
    rec = store.put("k5", video, 30)
    data = bytearray(video.read_bytes())
    data[100] ^= 0xFF
    store.fs.pipe_file(store.video("k5"), bytes(data))
    assert store.lookup("k5", 30) == rec  # cheap check passes: same size
    with pytest.warns(UserWarning), pytest.raises(BadEntry, match="checksum"):
        store.fetch("k5", rec, tmp_path)
    assert store.lookup("k5", 30) is None
    assert not (tmp_path / "renders" / "k5.mp4").exists()


def test_garbage_record_is_dropped(store: RenderStore, video: Path) -> None:
    store.put("k6", video, 30)
    store.fs.pipe_file(store.record("k6"), b"{not json")
    with pytest.warns(UserWarning):
        assert store.lookup("k6", 30) is None


def test_sweep_removes_writer_leftovers_only(store: RenderStore, video: Path) -> None:
    store.put("k7", video, 30)
    store.fs.pipe_file(f"{store.root}/renders/.tmp-dead-k8.mp4", b"half")
    assert store.sweep(older_than=-1) == 1
    assert store.lookup("k7", 30) is not None


def test_file_store_is_the_local_cache_folder(tmp_path: Path, video: Path) -> None:
    store = RenderStore.for_path(tmp_path / "cache")
    rec = store.put("k9", video, 30)
    assert store.is_local
    assert store.fetch("k9", rec, tmp_path / "unused") == tmp_path / "cache" / "renders" / "k9.mp4"
    assert EntryRecord.model_validate_json((tmp_path / "cache/renders/k9.json").read_text()) == rec
