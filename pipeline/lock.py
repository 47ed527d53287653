"""One writer per lecture folder: an advisory ``flock`` on a lock file.

The lock file (``output/.<lecture>.lock``) records the holder's pid and start time for
messages. The kernel drops a ``flock`` when its holder dies, however it dies, so a lock
left by a killed run is simply free: the next run takes it over. The descriptor is
opened non-inheritable, so no ffmpeg or manim child keeps it alive after its parent.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


class LockBusy(RuntimeError):
    """Another run holds the lock (and we were told not to wait)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path.parent}: another render (pid {holder}) is writing this lecture")
        self.holder = holder


class FolderLock:
    """``with FolderLock(path, wait=True, on_wait=print): ...``"""

    def __init__(self, path: Path, *, wait: bool = True,
                 on_wait: Callable[[str], None] | None = None, shared: bool = False) -> None:
        self.path = path
        self.wait = wait
        self.on_wait = on_wait
        self.shared = shared
        self.fd: int | None = None

    def holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").split()
        except OSError:
            return "unknown"
        return text[0] if text else "unknown"

    def acquire(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            if not self.wait:
                os.close(fd)
                raise LockBusy(self.path, holder) from None
            if self.on_wait is not None:
                self.on_wait(holder)
            fcntl.flock(fd, mode)
        if not self.shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {time.time():.0f}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            if not self.shared:
                os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def try_exclusive(path: Path) -> FolderLock | None:
    """The exclusive lock if nobody holds ``path`` (shared or not), else ``None``."""
    try:
        return FolderLock(path, wait=False).acquire()
    except LockBusy:
        return None
