"""The render cache as fsspec storage: atomic entries, records, verification (memory://)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from pipeline.planning.manifest import QUALITIES
from pipeline.rendering.cache import EntryRecord, describe
from pipeline.rendering.store import BadEntry, RenderStore

TINY = QUALITIES["tiny"]
FRAMES = 10


@pytest.fixture
def store() -> RenderStore:
    return RenderStore(f"memory://cache-{uuid.uuid4().hex}")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 10-frame tiny H.264 video, as a cache entry's video is."""
    p = tmp_path_factory.mktemp("clip") / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc=size={TINY.width}x{TINY.height}:rate={TINY.fps}",
                    "-frames:v", str(FRAMES), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(p)], check=True)
    return p


@pytest.fixture
def video(clip: Path, tmp_path: Path) -> Path:
    p = tmp_path / "v.mp4"
    p.write_bytes(clip.read_bytes())
    return p


def record_for(video: Path, key: str) -> Path:
    rec = video.with_name(f"{key}.json")
    rec.write_text(describe(video, key).model_dump_json(), encoding="utf-8")
    return rec


def put(store: RenderStore, key: str, video: Path) -> EntryRecord:
    return store.put(key, video, record_for(video, key))


def test_put_then_lookup_and_fetch(store: RenderStore, video: Path, tmp_path: Path) -> None:
    assert store.lookup("k1", TINY, FRAMES) is None
    rec = put(store, "k1", video)
    assert store.lookup("k1", TINY, FRAMES) == rec
    local = store.fetch("k1", rec, tmp_path / "mirror")
    assert local.read_bytes() == video.read_bytes()
    assert local == tmp_path / "mirror" / "renders" / "k1.mp4"
    # nothing but the entry's two objects: temporary names were moved into place
    names = sorted(n.rsplit("/", 1)[-1] for n in store.fs.ls(f"{store.root}/renders",
                                                              detail=False))
    assert names == ["k1.json", "k1.mp4"]


def test_video_without_record_is_no_entry(store: RenderStore, video: Path) -> None:
    store.fs.makedirs(f"{store.root}/renders", exist_ok=True)
    store.fs.put_file(str(video), store.video("k2"))
    assert store.lookup("k2", TINY, FRAMES) is None


def test_wrong_frame_count_or_size_drops_entry(store: RenderStore, video: Path) -> None:
    put(store, "k3", video)
    with pytest.warns(UserWarning, match="k3 dropped"):
        assert store.lookup("k3", TINY, FRAMES + 1) is None
    assert not store.fs.exists(store.video("k3"))
    put(store, "k4", video)
    store.fs.pipe_file(store.video("k4"), video.read_bytes()[:-100])  # truncated
    with pytest.warns(UserWarning, match="k4 dropped"):
        assert store.lookup("k4", TINY, FRAMES) is None


def test_same_size_corruption_fails_checksum(store: RenderStore, video: Path,
                                             tmp_path: Path) -> None:
    rec = put(store, "k5", video)
    data = bytearray(video.read_bytes())
    data[100] ^= 0xFF
    store.fs.pipe_file(store.video("k5"), bytes(data))
    assert store.lookup("k5", TINY, FRAMES) == rec  # cheap check passes: same size
    with pytest.warns(UserWarning), pytest.raises(BadEntry, match="checksum"):
        store.fetch("k5", rec, tmp_path)
    assert store.lookup("k5", TINY, FRAMES) is None
    assert not (tmp_path / "renders" / "k5.mp4").exists()


def test_garbage_record_is_dropped(store: RenderStore, video: Path) -> None:
    put(store, "k6", video)
    store.fs.pipe_file(store.record("k6"), b"{not json")
    with pytest.warns(UserWarning):
        assert store.lookup("k6", TINY, FRAMES) is None


def test_sweep_removes_writer_leftovers_only(store: RenderStore, video: Path) -> None:
    put(store, "k7", video)
    store.fs.pipe_file(f"{store.root}/renders/.tmp-dead-k8.mp4", b"half")
    assert store.sweep(older_than=-1) == 1
    assert store.lookup("k7", TINY, FRAMES) is not None


def test_file_store_is_the_local_cache_folder(tmp_path: Path, video: Path) -> None:
    store = RenderStore.for_path(tmp_path / "cache")
    rec = put(store, "k9", video)  # the same layout and record as the local cache
    assert store.is_local
    assert store.fetch("k9", rec, tmp_path / "unused") == tmp_path / "cache" / "renders" / "k9.mp4"
    assert EntryRecord.model_validate_json((tmp_path / "cache/renders/k9.json").read_text()) == rec
