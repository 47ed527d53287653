"""The file watcher: ``watchfiles`` on the folders that hold a lecture's sources.

It watches folders, not files (an editor may save by renaming a new file over the old
one), without recursion, and passes on only changes to the files the lecture is made
of (:class:`pipeline.studio.sources.Sources`). When the sources change (a scene file
imports another module), the watch is started again on the new folders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import watchfiles

from pipeline.studio.sources import Sources

STEP_MS = 50  # a burst of writes ends when nothing changed for this long
DEBOUNCE_MS = 1600  # at most this long is gathered into one change


class Watcher:
    def __init__(self, on_change: Callable[[list[str], float], None]) -> None:
        self.on_change = on_change
        self.sources = Sources(frozenset(), frozenset())
        self._restart = threading.Event()
        self._closing = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="studio-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def update(self, sources: Sources) -> None:
        """Watch these sources from now on."""
        restart = sources.roots != self.sources.roots
        self.sources = sources
        if restart:
            self._ready.clear()
            self._restart.set()

    def wait_ready(self, timeout: float) -> bool:
        """True once the folders of the latest sources are being watched."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._closing = True
        self._restart.set()
        self._thread.join(5.0)

    def _loop(self) -> None:
        while not self._closing:
            self._restart.clear()
            roots = sorted(str(p) for p in self.sources.roots)
            if not roots:
                self._restart.wait(0.2)
                continue
            self._ready.set()
            for changes in watchfiles.watch(
                    *roots, stop_event=self._restart, step=STEP_MS, debounce=DEBOUNCE_MS,
                    recursive=False, raise_interrupt=False, rust_timeout=500):
                at = time.time()
                paths = sorted({p for _, p in changes if self.sources.matters(p)})
                if paths:
                    self.on_change(paths, at)
