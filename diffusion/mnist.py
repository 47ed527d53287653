"""MNIST digits as tensors in [-1, 1], from the first source that works.

1. ``torchvision.datasets.MNIST(root, train=split == "train", download=allow_download)``.
   It needs all four raw files (train and test), so with only the test split on disk it
   raises ``RuntimeError("Dataset not found ...")``, which is caught.
2. The IDX files of whichever split exists under ``<root>/MNIST/raw``, ``<root>/raw`` or
   ``<root>``, read with torchvision's own readers. ``.gz`` files are decompressed into
   the user cache folder (``pipeline.paths.cache_dir``), never the source tree.
3. A synthetic digit set drawn by this module (deterministic strokes with seeded
   jitter), labelled ``source="synthetic"`` with the reason in ``detail``, so an
   offline machine, or an installed package without ``MNIST_ROOT``, still renders.

Images are exactly ``ToTensor()`` then ``Normalize((0.5,), (0.5,))``:
``uint8.float().div(255).sub(0.5).div(0.5)``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral
from pathlib import Path

import numpy as np
import torch

from diffusion.paths import REPO_ROOT, SHARED_DATA, mnist_root  # noqa: F401 (re-exported)
from pipeline import paths

SPLITS = ("train", "test")
IDX_PREFIX = {"train": "train", "test": "t10k"}
SYNTHETIC_COUNT = 1000
IMAGE_SHAPE = (1, 28, 28)  # channels, height, width of one digit
SYNTHETIC_SEED = 20240611


@dataclass(frozen=True, eq=False)
class MnistData:
    """Digits ``[N, 1, 28, 28]`` float32 in [-1, 1], labels ``[N]`` int64, and their origin.

    The tensors are shared through an in-process cache: do not modify them in place.
    """

    images: torch.Tensor
    labels: torch.Tensor
    source: str
    detail: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or tuple(self.images.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"images must be [N, 1, 28, 28], got {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must be [N] = [{self.images.shape[0]}], got {tuple(self.labels.shape)}"
            )
        if self.source not in ("torchvision", "idx", "synthetic"):
            raise ValueError(
                f"source must be 'torchvision', 'idx' or 'synthetic', got {self.source!r}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])


def normalize_uint8(images: torch.Tensor) -> torch.Tensor:
    """``[N, 28, 28]`` uint8 -> ``[N, 1, 28, 28]`` float32, as ToTensor + Normalize(0.5, 0.5)."""
    if images.dtype != torch.uint8 or images.ndim != 3:
        raise ValueError(
            f"images must be a uint8 tensor [N, H, W], got {images.dtype} {tuple(images.shape)}"
        )
    return images.to(torch.float32).div(255).sub(0.5).div(0.5).unsqueeze(1)


# --- source 1: torchvision ------------------------------------------------------------
def _from_torchvision(root: Path, split: str, allow_download: bool) -> MnistData:
    from torchvision.datasets import MNIST

    ds = MNIST(str(root), train=split == "train", download=allow_download)
    return MnistData(
        normalize_uint8(ds.data),
        ds.targets.to(torch.int64),
        "torchvision",
        f"torchvision.datasets.MNIST(root={str(root)!r}, train={split == 'train'}), "
        f"{len(ds.targets)} images",
    )


# --- source 2: IDX files ----------------------------------------------------------------
def cache_dir() -> Path:
    """A writable user cache folder outside the repository (``pipeline.paths``)."""
    return paths.cache_dir()


def _decompressed(path: Path) -> Path:
    """A plain copy of ``path`` (a .gz file) in the cache folder, made once."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    target = cache_dir() / "mnist-idx" / f"{path.name[:-3]}-{key[:12]}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with gzip.open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def _find_idx(root: Path, split: str) -> tuple[Path, Path] | None:
    prefix = IDX_PREFIX[split]
    for folder in (root / "MNIST" / "raw", root / "raw", root):
        found = []
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            plain = folder / f"{prefix}-{kind}"
            packed = folder / f"{prefix}-{kind}.gz"
            found.append(plain if plain.is_file() else packed if packed.is_file() else None)
        if found[0] is not None and found[1] is not None:
            return found[0], found[1]
    return None


def _from_idx(root: Path, split: str) -> MnistData:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    order = [split] + [s for s in SPLITS if s != split]
    for chosen in order:
        pair = _find_idx(root, chosen)
        if pair is None:
            continue
        images_path, labels_path = pair
        readable = [_decompressed(p) if p.suffix == ".gz" else p for p in pair]
        images = read_image_file(str(readable[0]))
        labels = read_label_file(str(readable[1]))
        if images.shape[0] != labels.shape[0] or tuple(images.shape[1:]) != (28, 28):
            raise ValueError(
                f"IDX files disagree: images {tuple(images.shape)}, labels {tuple(labels.shape)}"
            )
        note = "" if chosen == split else f" (requested split {split!r} not found)"
        return MnistData(
            normalize_uint8(images),
            labels.to(torch.int64),
            "idx",
            f"IDX split {chosen!r}{note}: {images_path}, {labels_path}; {images.shape[0]} images",
        )
    raise FileNotFoundError(f"no MNIST IDX files under {root} (looked in MNIST/raw, raw, .)")


# --- source 3: synthetic digits -----------------------------------------------------------
def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 14):
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _bezier(p0, p1, p2, n: int = 10):
    s = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - s) ** 2 * p0 + 2 * (1 - s) * s * p1 + s**2 * p2


def _line(*pts):
    return np.asarray(pts, dtype=np.float64)


def _strokes(digit: int) -> list[np.ndarray]:
    """Polylines of one digit in a unit box (x right, y up)."""
    return {
        0: [_arc(0.5, 0.5, 0.5, 0.5, 0, 360, 28)],
        1: [_line((0.3, 0.8), (0.55, 1.0), (0.55, 0.0))],
        2: [_arc(0.5, 0.74, 0.45, 0.26, 165, -40), _line((0.84, 0.57), (0.0, 0.0), (1.0, 0.0))],
        3: [_arc(0.48, 0.75, 0.42, 0.25, 150, -90), _arc(0.48, 0.27, 0.48, 0.27, 90, -150)],
        4: [_line((0.72, 0.0), (0.72, 1.0), (0.0, 0.32), (1.0, 0.32))],
        5: [_line((0.95, 1.0), (0.15, 1.0), (0.13, 0.53)), _arc(0.48, 0.3, 0.47, 0.3, 128, -150)],
        6: [_bezier((0.85, 1.0), (0.1, 0.8), (0.05, 0.3)), _arc(0.5, 0.3, 0.45, 0.3, 180, 540, 28)],
        7: [_line((0.0, 1.0), (1.0, 1.0), (0.35, 0.0))],
        8: [_arc(0.5, 0.76, 0.38, 0.24, 0, 360, 24), _arc(0.5, 0.27, 0.46, 0.27, 0, 360, 24)],
        9: [_arc(0.5, 0.7, 0.45, 0.3, 0, 360, 28), _bezier((0.95, 0.7), (0.95, 0.3), (0.55, 0.0))],
    }[digit]


def _segments(digit: int) -> np.ndarray:
    """``[K, 2, 2]`` line segments of a digit, centred on 0 in pixel units (y down)."""
    segs = []
    for poly in _strokes(digit):
        px = np.stack([(poly[:, 0] - 0.5) * 13.0, -(poly[:, 1] - 0.5) * 19.0], axis=1)
        segs.append(np.stack([px[:-1], px[1:]], axis=1))
    return np.concatenate(segs)


def synthetic_digits(
    n: int = SYNTHETIC_COUNT, seed: int = SYNTHETIC_SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` digit-like uint8 images ``[n, 28, 28]`` and labels ``i % 10``.

    Each image is the digit's strokes under a seeded random rotation, shear, scale, shift
    and pen width, rendered with anti-aliased edges. Image ``i`` does not depend on ``n``.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be an integer in [1, inf), got {n!r}")
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, size=(int(n), 6))
    labels = np.arange(n) % 10
    ys, xs = np.mgrid[0:28, 0:28]
    pix = np.stack([xs.ravel() + 0.5 - 14.0, ys.ravel() + 0.5 - 14.0], axis=1)  # [784, 2]
    pix = pix.astype(np.float32)
    out = np.zeros((n, 28, 28), dtype=np.uint8)
    for digit in range(10):
        idx = np.nonzero(labels == digit)[0]
        if idx.size == 0:
            continue
        p = u[idx]
        angle = np.radians(12.0) * p[:, 0]
        shear, scale = 0.25 * p[:, 1], 1.0 + 0.1 * p[:, 2]
        shift = 1.5 * p[:, 3:5]
        radius = 1.35 + 0.4 * p[:, 5]
        c, s = np.cos(angle), np.sin(angle)
        rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # [S, 2, 2]
        sh = np.zeros_like(rot)
        sh[:, 0, 0] = sh[:, 1, 1] = 1.0
        sh[:, 0, 1] = shear
        mat = scale[:, None, None] * rot @ sh
        seg = np.einsum("sij,kej->skei", mat, _segments(digit)) + shift[:, None, None, :]
        seg = seg.astype(np.float32)
        d2 = np.full((idx.size, pix.shape[0]), np.inf, dtype=np.float32)  # [S, 784]
        px, py = pix[None, :, 0], pix[None, :, 1]  # [1, 784]
        for k in range(seg.shape[1]):  # running minimum of squared distance to each segment
            ax, ay = seg[:, k, 0, 0, None], seg[:, k, 0, 1, None]  # [S, 1]
            abx, aby = seg[:, k, 1, 0, None] - ax, seg[:, k, 1, 1, None] - ay
            apx, apy = px - ax, py - ay  # [S, 784]
            w = np.clip((apx * abx + apy * aby) / np.maximum(abx * abx + aby * aby, 1e-12), 0, 1)
            dx, dy = apx - w * abx, apy - w * aby
            np.minimum(d2, dx * dx + dy * dy, out=d2)
        d = np.sqrt(d2)
        ink = np.clip(1.0 - (d - radius[:, None]) / 1.2, 0.0, 1.0)
        out[idx] = np.round(255.0 * ink).astype(np.uint8).reshape(-1, 28, 28)
    return torch.from_numpy(out), torch.from_numpy(labels.astype(np.int64))


# --- the loader -------------------------------------------------------------------------------
# Narrow on purpose: what a missing, partial or corrupt data set raises, nothing else.
_SOURCE_ERRORS = (
    OSError,
    EOFError,
    RuntimeError,
    ValueError,
    TypeError,
    AssertionError,
    zlib.error,
)


@lru_cache(maxsize=8)
def _load_real(root: str | None, split: str, allow_download: bool) -> tuple[MnistData | None, str]:
    """The real data set (torchvision, then IDX) or ``None`` and why not."""
    reasons: list[str] = []
    if root is None and allow_download:
        root = str(cache_dir() / "mnist")
    if root is None:
        return None, ("no MNIST folder (no root argument, MNIST_ROOT unset, "
                      "no ../shared/data beside a source checkout)")
    path = Path(root)
    try:
        return _from_torchvision(path, split, allow_download), ""
    except ImportError as exc:
        return None, f"torchvision unavailable ({exc})"
    except _SOURCE_ERRORS as exc:
        reasons.append(f"torchvision.datasets.MNIST failed ({type(exc).__name__}: {exc})")
    try:
        data = _from_idx(path, split)
    except _SOURCE_ERRORS as exc:
        reasons.append(f"IDX files failed ({type(exc).__name__}: {exc})")
        return None, "; ".join(reasons)
    detail = data.detail + "; " + "; ".join(reasons)
    return MnistData(data.images, data.labels, data.source, detail), ""


@lru_cache(maxsize=4)
def _synthetic(n: int, why: str) -> MnistData:
    images, labels = synthetic_digits(n)
    return MnistData(
        normalize_uint8(images),
        labels,
        "synthetic",
        f"SYNTHETIC digits drawn by diffusion.mnist ({n} images, seed {SYNTHETIC_SEED}), "
        f"not MNIST: {why}",
    )


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    split: str = "test",
    allow_download: bool = False,
    limit: int | None = None,
) -> MnistData:
    """Load MNIST digits (see the module docstring for the order of sources).

    The full data set is cached in-process per (root, split, allow_download).

    Parameters
    ----------
    root
        Data folder; default ``mnist_root()``.
    split
        ``"test"`` or ``"train"``. The IDX source falls back to the other split when the
        requested one is absent, and says so in ``detail``.
    allow_download
        Let torchvision download the data set (into ``root``, or the user cache folder).
    limit
        Keep only the first ``limit`` images (in ``[1, inf)``); the synthetic set is
        generated with ``limit`` images, or 1000 by default.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 1
    ):
        raise ValueError(f"limit must be None or an integer in [1, inf), got {limit!r}")
    found = mnist_root(root)
    key = str(found.resolve()) if found is not None else None
    data, why = _load_real(key, split, bool(allow_download))
    if data is None:
        return _synthetic(SYNTHETIC_COUNT if limit is None else int(limit), why)
    if limit is None or limit >= len(data):
        return data
    return MnistData(
        data.images[:limit], data.labels[:limit], data.source, data.detail + f"; first {limit} kept"
    )


def clear_mnist_cache() -> None:
    """Forget loaded data sets (for tests, or after the files change)."""
    _load_real.cache_clear()
    _synthetic.cache_clear()


def pick_digits(data: MnistData, n: int, *, seed: int = 0, distinct: bool = True) -> torch.Tensor:
    """Indices (int64) of ``n`` digits chosen with a seeded generator.

    With ``distinct=True`` every pick has a different label and the result is sorted by
    label (``n`` in ``[1, number of labels]``); otherwise ``n`` distinct images in random
    order (``n`` in ``[1, N]``).
    """
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise ValueError(f"n must be an integer, got {n!r}")
    g = torch.Generator().manual_seed(int(seed))
    if not distinct:
        if not 1 <= n <= len(data):
            raise ValueError(f"n must be in [1, {len(data)}], got {n}")
        return torch.randperm(len(data), generator=g)[: int(n)]
    classes = torch.unique(data.labels)
    if not 1 <= n <= len(classes):
        raise ValueError(f"n must be in [1, {len(classes)}] when distinct=True, got {n}")
    chosen = classes[torch.randperm(len(classes), generator=g)[: int(n)]].sort().values
    picks = []
    for label in chosen:
        members = torch.nonzero(data.labels == label).flatten()
        picks.append(members[torch.randint(len(members), (1,), generator=g)])
    return torch.cat(picks).to(torch.int64)


def describe(data: MnistData) -> str:
    """One line for logs: where the digits came from."""
    return f"{len(data)} digits from {data.source}: {data.detail}"


__all__ = [
    "MnistData",
    "clear_mnist_cache",
    "load_mnist",
    "mnist_root",
    "normalize_uint8",
    "pick_digits",
    "synthetic_digits",
]
