"""Where the course data lives. No torch: the render cache keys read it while planning.

The rules for the project's folders (checkout or installed, user cache) are in
``pipeline.paths``; this module adds where MNIST is looked for.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import paths

REPO_ROOT = paths.SOURCE_ROOT
_CHECKOUT = paths.checkout_root()
#: The course's shared data folder beside a source checkout (``<checkout>/../shared/data``);
#: ``None`` for an installed package, which has no such neighbour.
SHARED_DATA: Path | None = _CHECKOUT.parent / "shared" / "data" if _CHECKOUT is not None else None


def mnist_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """Where to look for MNIST.

    ``root`` if given, else env ``MNIST_ROOT``, else ``<checkout>/../shared/data`` if it
    exists; ``None`` otherwise (an installed package without ``MNIST_ROOT``), and
    ``diffusion.mnist.load_mnist`` then draws its labelled synthetic digits.
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("MNIST_ROOT")
    if env:
        return Path(env)
    return SHARED_DATA if SHARED_DATA is not None and SHARED_DATA.is_dir() else None
