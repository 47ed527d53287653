"""The studio's events: a hub every open page listens to (server-sent events), and the
progress reporter that feeds it from a build.

A build is stopped (Ctrl-C, the stop button) by :class:`StudioReporter` raising
:class:`Cancelled` at its next report. It raises only where the orchestrator can still
undo everything (planning, a segment's progress, the start of rendering or assembly),
never once publishing has begun, so a stopped build leaves the published set and no
staging folder behind.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.records import TakeRow

#: the stages at which a cancelled build may stop (publishing runs to its end)
STOPPABLE = ("planning", "rendering", "assembling")


class Cancelled(BaseException):
    """The build was asked to stop (a ``BaseException``: no ``except Exception`` in the
    pipeline may swallow it)."""


class Hub:
    """Events to every listening page; each page has its own queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.Queue[str | None]] = []
        self._seq = 0

    def subscribe(self) -> queue.Queue[str | None]:
        q: queue.Queue[str | None] = queue.Queue()
        with self._lock:
            self._queues.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[str | None]) -> None:
        with self._lock:
            if q in self._queues:
                self._queues.remove(q)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._queues)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """One server-sent event (``event: kind``, JSON data) to every page."""
        with self._lock:
            self._seq += 1
            text = f"id: {self._seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
            for q in self._queues:
                q.put(text)

    def close(self) -> None:
        """End every page's stream."""
        with self._lock:
            for q in self._queues:
                q.put(None)
            self._queues.clear()


class StudioReporter:
    """A :class:`pipeline.progress.Reporter` that streams progress to the pages and stops
    the build when ``cancel`` is set."""

    def __init__(self, hub: Hub, job: str, cancel: threading.Event) -> None:
        self.hub, self.job, self.cancel = hub, job, cancel
        self.states: dict[str, str] = {}

    def stage(self, name: str) -> None:
        if self.cancel.is_set() and name in STOPPABLE:
            raise Cancelled
        self.hub.publish("progress", {"job": self.job, "stage": name})

    def segment(self, seg_id: str, state: str, frames: int = 0) -> None:
        if self.cancel.is_set():
            raise Cancelled
        self.states[seg_id] = state
        self.hub.publish("progress", {"job": self.job, "segment": seg_id, "state": state,
                                      "frames": frames})

    def takes(self, rows: Sequence[TakeRow]) -> None:
        """The takes table reaches the page with the record (``manifest.json`` holds it);
        here only the pages hear that the takes were analysed."""
        self.hub.publish("progress", {"job": self.job, "stage": "takes", "takes": len(rows)})
