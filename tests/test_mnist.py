"""MNIST loading: torchvision, IDX files (written here in the real format), synthetic digits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

import diffusion.mnist as mn
from diffusion import MnistData, clear_mnist_cache, load_mnist, mnist_root, pick_digits

REAL_RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "MNIST" / "raw"
TV_TRANSFORM = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Fresh loader cache, a private decompression cache and no MNIST_ROOT from outside."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("MNIST_ROOT", raising=False)
    clear_mnist_cache()
    yield
    clear_mnist_cache()


def write_idx(
    folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray, *, gz: bool
) -> None:
    """IDX as published: big-endian magic 2051 (uint8, 3 dims) / 2049 (uint8, 1 dim), dims, data."""
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    blobs = {
        f"{prefix}-images-idx3-ubyte": struct.pack(">iiii", 2051, n, h, w)
        + images.astype(np.uint8).tobytes(),
        f"{prefix}-labels-idx1-ubyte": struct.pack(">ii", 2049, n)
        + labels.astype(np.uint8).tobytes(),
    }
    for name, blob in blobs.items():
        if gz:
            with gzip.open(folder / f"{name}.gz", "wb") as f:
                f.write(blob)
        else:
            (folder / name).write_bytes(blob)


def tiny_set(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the range
    return images, (np.arange(n) % 10).astype(np.uint8)


def torchvision_reference(images: np.ndarray) -> torch.Tensor:
    return torch.stack([TV_TRANSFORM(Image.fromarray(im)) for im in images])


@pytest.mark.parametrize("layout", ["MNIST/raw", "raw", "."])
@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_read_with_torchvision_readers(tmp_path, layout, gz):
    root = tmp_path / "data"
    images, labels = tiny_set()
    write_idx(root / layout, "t10k", images, labels, gz=gz)
    before = sorted(p.name for p in (root / layout).iterdir())
    data = load_mnist(root)
    assert data.source == "idx", data.detail
    assert "t10k-images-idx3-ubyte" in data.detail and "Dataset not found" in data.detail
    assert data.images.shape == (12, 1, 28, 28) and data.images.dtype == torch.float32
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == labels.tolist()
    assert torch.equal(data.images, torchvision_reference(images))  # bit for bit
    assert data.images.min().item() == -1.0 and data.images.max().item() == 1.0
    # Nothing is decompressed next to the data: the copies live in the user cache.
    assert sorted(p.name for p in (root / layout).iterdir()) == before
    cached = list((tmp_path / "xdg-cache" / "diffusion-lectures" / "mnist-idx").glob("t10k-*"))
    assert len(cached) == (2 if gz else 0)


def test_all_four_files_go_through_torchvision_dataset(tmp_path):
    images, labels = tiny_set(10, seed=1)
    write_idx(tmp_path / "MNIST" / "raw", "t10k", images, labels, gz=False)
    write_idx(
        tmp_path / "MNIST" / "raw", "train", images[::-1].copy(), labels[::-1].copy(), gz=False
    )
    test = load_mnist(tmp_path)
    train = load_mnist(tmp_path, split="train")
    assert test.source == train.source == "torchvision"
    assert torch.equal(test.images, torchvision_reference(images))
    assert torch.equal(train.images, torchvision_reference(images[::-1].copy()))
    assert "train=False" in test.detail and "train=True" in train.detail


def test_missing_split_falls_back_to_the_other_and_says_so(tmp_path):
    images, labels = tiny_set(5)
    write_idx(tmp_path / "raw", "t10k", images, labels, gz=True)
    data = load_mnist(tmp_path, split="train")
    assert data.source == "idx" and len(data) == 5
    assert "requested split 'train' not found" in data.detail


def test_corrupt_files_fall_back_to_synthetic(tmp_path):
    images, labels = tiny_set(5)
    write_idx(tmp_path, "t10k", images, labels, gz=False)
    blob = (tmp_path / "t10k-images-idx3-ubyte").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">i", 1234) + blob[4:])
    data = load_mnist(tmp_path, limit=20)
    assert data.source == "synthetic" and len(data) == 20
    assert "IDX files failed" in data.detail


def test_synthetic_digits(tmp_path):
    data = load_mnist(tmp_path)  # an empty folder: nothing real to read
    assert data.source == "synthetic" and "SYNTHETIC" in data.detail and "not MNIST" in data.detail
    assert len(data) == mn.SYNTHETIC_COUNT
    assert data.images.shape == (1000, 1, 28, 28) and data.images.dtype == torch.float32
    assert data.images.min().item() == -1.0 and data.images.max().item() == 1.0
    assert torch.equal(torch.bincount(data.labels), torch.full((10,), 100))
    ink = (data.images > 0).float().mean(dim=(1, 2, 3))
    assert 0.05 < ink.min().item() and ink.max().item() < 0.45  # strokes, not blobs or blanks
    # Deterministic, and image i does not depend on how many are made.
    small, small_labels = mn.synthetic_digits(30)
    assert torch.equal(mn.normalize_uint8(small), data.images[:30])
    assert torch.equal(small_labels, data.labels[:30])
    # The ten digits are told apart by a nearest-class-mean rule fitted on other samples.
    flat = data.images.flatten(1)
    means = torch.stack([flat[:500][data.labels[:500] == d].mean(0) for d in range(10)])
    predicted = torch.cdist(flat[500:], means).argmin(1)
    assert (predicted == data.labels[500:]).float().mean().item() > 0.9


def test_root_resolution(tmp_path, monkeypatch):
    assert mnist_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path / "env"))
    assert mnist_root() == tmp_path / "env"
    assert mnist_root(tmp_path / "arg") == tmp_path / "arg"
    images, labels = tiny_set(4)
    write_idx(tmp_path / "env", "t10k", images, labels, gz=True)
    assert load_mnist().source == "idx" and len(load_mnist()) == 4
    monkeypatch.delenv("MNIST_ROOT")
    expected = mn.SHARED_DATA if mn.SHARED_DATA.is_dir() else None
    assert mnist_root() == expected


def test_cache_dir_never_inside_the_repo(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(mn.REPO_ROOT / "cache-inside-repo"))
    folder = mn.cache_dir()
    assert not folder.resolve().is_relative_to(mn.REPO_ROOT)
    assert not (mn.REPO_ROOT / "cache-inside-repo").exists()


def test_loader_caches_and_validates(tmp_path):
    images, labels = tiny_set(8)
    write_idx(tmp_path, "t10k", images, labels, gz=True)
    first = load_mnist(tmp_path)
    assert load_mnist(tmp_path) is first
    limited = load_mnist(tmp_path, limit=3)
    assert len(limited) == 3 and torch.equal(limited.images, first.images[:3])
    assert len(load_mnist(tmp_path, limit=100)) == 8
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\), got 'val'"):
        load_mnist(tmp_path, split="val")
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match=r"limit must be None or an integer in \[1, inf\)"):
            load_mnist(tmp_path, limit=bad)
    with pytest.raises(ValueError, match=r"images must be \[N, 1, 28, 28\]"):
        MnistData(torch.zeros(2, 28, 28), torch.zeros(2, dtype=torch.int64), "idx", "")
    with pytest.raises(ValueError, match="source must be"):
        MnistData(torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.int64), "web", "")
    with pytest.raises(ValueError, match="images must be a uint8 tensor"):
        mn.normalize_uint8(torch.zeros(2, 28, 28))


def test_pick_digits(tmp_path):
    data = load_mnist(tmp_path, limit=200)  # synthetic, 20 of each digit
    idx = pick_digits(data, 10, seed=0)
    assert idx.dtype == torch.int64 and data.labels[idx].tolist() == list(range(10))
    assert torch.equal(idx, pick_digits(data, 10, seed=0))
    assert not torch.equal(idx, pick_digits(data, 10, seed=1))
    three = data.labels[pick_digits(data, 3, seed=4)].tolist()
    assert len(set(three)) == 3 and three == sorted(three)
    loose = pick_digits(data, 50, seed=2, distinct=False)
    assert len(set(loose.tolist())) == 50 and int(loose.max()) < 200
    with pytest.raises(ValueError, match=r"n must be in \[1, 10\] when distinct=True, got 11"):
        pick_digits(data, 11)
    with pytest.raises(ValueError, match=r"n must be in \[1, 200\], got 0"):
        pick_digits(data, 0, distinct=False)


@pytest.mark.skipif(
    not (REAL_RAW / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="the shared MNIST test split is not on this machine",
)
def test_real_mnist_test_split():
    data = load_mnist(REAL_RAW.parent.parent)
    assert data.source == "idx", data.detail
    assert data.images.shape == (10000, 1, 28, 28) and data.images.dtype == torch.float32
    assert data.labels.shape == (10000,) and set(data.labels.tolist()) == set(range(10))
    assert data.images.min().item() == -1.0 and data.images.max().item() == 1.0
    # Independently parsed (gzip + numpy, not torchvision) and normalized by torchvision.
    with gzip.open(REAL_RAW / "t10k-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    assert struct.unpack(">iiii", raw[:16]) == (2051, 10000, 28, 28)
    u8 = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(10000, 28, 28)
    assert torch.equal(data.images[:64], torchvision_reference(u8[:64]))
    assert torch.equal(data.images, mn.normalize_uint8(torch.from_numpy(u8.copy())))
    with gzip.open(REAL_RAW / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        raw_labels = f.read()
    assert struct.unpack(">ii", raw_labels[:8]) == (2049, 10000)
    assert data.labels.tolist() == list(raw_labels[8:])
