"""Where the course data lives. No torch: the render cache keys read it while planning."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def mnist_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """Where to look for MNIST.

    ``root`` if given, else env ``MNIST_ROOT``, else ``<repo>/../shared/data`` if it exists.
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("MNIST_ROOT")
    if env:
        return Path(env)
    return SHARED_DATA if SHARED_DATA.is_dir() else None
