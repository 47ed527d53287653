"""Keeping the render cache tidy while several runs may share it.

Every run holds a *shared* ``flock`` on ``<cache>/.lock`` while it renders. Work that
would disturb a running render needs the *exclusive* lock:

* at the start of a run, if no other run is using the cache, the leftovers of killed
  runs are removed (``work/`` folders, temporary files in ``renders/``); when another
  run is active, only work folders whose pid is no longer alive are removed;
* after a run, and for ``lecture cache prune``, entries are evicted least recently
  used first until the cache fits its size cap (``pipeline.rendering.cache.prune``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.lock import FolderLock, try_exclusive
from pipeline.rendering import cache

log = logging.getLogger("pipeline.rendering.cache")
SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+-]+$")


def _lock_path(cache_dir: Path) -> Path:
    return cache_dir / ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def work_root(cache_dir: Path) -> Path:
    """Where manim runs: ``<cache>/work``, or a private folder in the system's temporary
    folder when the cache path holds characters manim's own ffmpeg calls do not quote
    (an apostrophe, a space, non-ASCII)."""
    if SAFE_PATH.match(str(cache_dir)):
        return cache_dir / "work"
    return Path(tempfile.gettempdir()) / f"lecture-work-{os.getuid()}"


def _clean(cache_dir: Path, *, everything: bool) -> None:
    work = work_root(cache_dir)
    if work.is_dir():
        for d in work.iterdir():
            parts = d.name.split("-")
            pid = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
            if pid is None or pid == os.getpid() or not _alive(pid):
                shutil.rmtree(d, ignore_errors=True)
    if everything:
        renders = cache_dir / "renders"
        if renders.is_dir():
            for tmp in renders.glob(".*"):
                tmp.unlink(missing_ok=True)


@contextmanager
def using_cache(cache_dir: Path) -> Iterator[None]:
    """Hold the cache shared for a run; clean killed runs' leftovers on the way in."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    sole = try_exclusive(_lock_path(cache_dir))
    if sole is not None:
        _clean(cache_dir, everything=True)
        assert sole.fd is not None
        fcntl.flock(sole.fd, fcntl.LOCK_SH)  # downgrade: others may now share it
        held = sole
    else:
        _clean(cache_dir, everything=False)
        held = FolderLock(_lock_path(cache_dir), shared=True).acquire()
    try:
        yield
    finally:
        held.shared = True
        held.release()


def auto_prune(cache_dir: Path, max_bytes: int) -> None:
    """Evict down to ``max_bytes`` after a run, unless another run is using the cache."""
    if cache.cache_size(cache_dir) <= max_bytes:
        return
    sole = try_exclusive(_lock_path(cache_dir))
    if sole is None:
        return
    try:
        n, freed = cache.prune(cache_dir, max_bytes)
        if n:
            log.warning("render cache over its cap: evicted %d entries (%.1f MB)", n, freed / 1e6)
    finally:
        sole.release()


def prune_now(cache_dir: Path, max_bytes: int,
              on_wait: Callable[[str], None] | None = None) -> tuple[int, int, int]:
    """``lecture cache prune``: wait for running renders, clean, evict. (removed, freed, left)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FolderLock(_lock_path(cache_dir), on_wait=on_wait):
        _clean(cache_dir, everything=True)
        n, freed = cache.prune(cache_dir, max_bytes)
    return n, freed, cache.cache_size(cache_dir)
