"""Publishing a lecture folder as one set: versioned folders behind a symlink.

``output/<id>`` is a relative symlink to ``output/.<id>.versions/vNNNNNN/``. A render
writes the whole new set (video, captions, chapters, description, thumbnail, segments,
manifest, slides) into ``.<id>.versions/.staging-<pid>/``, renames it to the next
version and swaps the symlink with one ``os.replace``. A reader of ``output/<id>/``
sees the old set or the new one, never a mix; a reader that resolved the link keeps
its set until the version after next is published (the previous version is kept).

Only one writer at a time (:class:`pipeline.lock.FolderLock` on ``output/.<id>.lock``).
Under that lock, :meth:`LectureWriter.__enter__` clears what killed runs left: staging
folders, versions newer than the published one (renamed but never switched to),
versions older than the previous one, temporary links, and the pre-version layout's
``.staging-<pid>`` folders. A folder published by an older release of the project
(a real directory at ``output/<id>``) is moved into the version store the first time.

Slides: a new render carries the old ``slides/`` over. When its segments changed, the
carried slides are marked stale (``slides/STALE.txt``) until ``lecture slides``
rebuilds them; :meth:`LectureWriter.derive` makes a new version from the published one
(hard links, so cheap) for such slide-only updates.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.lock import FolderLock

log = logging.getLogger("pipeline.publish")
VERSION = re.compile(r"^v(\d{6})$")
STALE_NOTE = "STALE.txt"
# What a slide deck is made from: when these agree, old slides still fit a new render.
SLIDE_INPUTS = ("id", "chapter", "frames", "beats", "cache_key", "slide")


def store_of(out_root: Path, lecture_id: str) -> Path:
    return out_root / f".{lecture_id}.versions"


def lock_of(out_root: Path, lecture_id: str) -> Path:
    return out_root / f".{lecture_id}.lock"


class LectureWriter:
    """``with LectureWriter(out_root, id) as w: stage = w.stage(); ...; w.commit(stage)``."""

    def __init__(self, out_root: Path, lecture_id: str, *, wait: bool = True,
                 on_wait: Callable[[str], None] | None = None,
                 on_stage: Callable[[str], None] | None = None) -> None:
        self.out_root = out_root
        self.id = lecture_id
        self.link = out_root / lecture_id
        self.store = store_of(out_root, lecture_id)
        self.lock = FolderLock(lock_of(out_root, lecture_id), wait=wait, on_wait=on_wait)
        self.on_stage = on_stage or (lambda name: None)
        self._stages: list[Path] = []

    # ---------------------------------------------------------- lifecycle
    def __enter__(self) -> LectureWriter:
        self.out_root.mkdir(parents=True, exist_ok=True)
        self.lock.acquire()
        try:
            self.recover()
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            for s in self._stages:
                shutil.rmtree(s, ignore_errors=True)
        finally:
            self.lock.release()

    def versions(self) -> list[Path]:
        if not self.store.is_dir():
            return []
        return sorted(p for p in self.store.iterdir() if VERSION.match(p.name) and p.is_dir())

    def current(self) -> Path | None:
        if not self.link.is_symlink():
            return None
        target = self.link.resolve()
        return target if target.is_dir() else None

    def recover(self) -> None:
        """Bring the folder to a clean published state (see the module docstring)."""
        self.store.mkdir(parents=True, exist_ok=True)
        for tmp in self.out_root.glob(f".{self.id}.link-*"):
            tmp.unlink(missing_ok=True)
        if self.link.is_dir() and not self.link.is_symlink():
            self._adopt_legacy()
        for s in self.store.glob(".staging-*"):
            shutil.rmtree(s, ignore_errors=True)
        versions = self.versions()
        current = self.current()
        if current is None and versions and not self.link.exists():
            # killed between the old layout's move and the link: point at the newest
            self._switch(versions[-1])
            current = versions[-1]
        keep = {current}
        if current is not None and current in versions:
            i = versions.index(current)
            keep.add(versions[i - 1] if i > 0 else None)
        for v in versions:
            if v not in keep:
                shutil.rmtree(v, ignore_errors=True)

    def _adopt_legacy(self) -> None:
        """A real ``output/<id>/`` folder from before versioned publishing."""
        for leftover in self.link.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        target = self._next_version()
        os.rename(self.link, target)
        self._switch(target)
        log.warning("moved %s into %s (published folders are now versioned)", self.link, target)

    # ---------------------------------------------------------- writing
    def stage(self) -> Path:
        """A fresh, empty staging folder for the next version."""
        s = self.store / f".staging-{os.getpid()}-{len(self._stages)}"
        shutil.rmtree(s, ignore_errors=True)
        s.mkdir(parents=True)
        self._stages.append(s)
        return s

    def derive(self) -> Path:
        """A staging folder holding the published set (hard links), to be changed."""
        s = self.stage()
        cur = self.current()
        if cur is not None:
            shutil.rmtree(s)
            shutil.copytree(cur, s, copy_function=_link_or_copy, symlinks=True)
        return s

    def commit(self, stage: Path, *, carry_slides: bool = True) -> Path:
        """Publish ``stage`` as the next version; return the new version folder."""
        self.on_stage("publishing")
        cur = self.current()
        if carry_slides and cur is not None and (cur / "slides").is_dir() \
                and not (stage / "slides").exists():
            shutil.copytree(cur / "slides", stage / "slides", copy_function=_link_or_copy)
            if not _same_slide_inputs(cur / "manifest.json", stage / "manifest.json"):
                note = stage / "slides" / STALE_NOTE
                note.write_text(
                    f"These slides were built from an earlier render ({cur.name}) of this "
                    "lecture and do not match it.\nRebuild them: lecture slides (or python "
                    "render.py slides) with this lecture's id and --out (or: make slides)\n",
                    encoding="utf-8")
                log.warning("slides in %s are from an earlier render: marked stale; run "
                            "`lecture slides` to rebuild them", self.link)
        target = self._next_version()
        os.rename(stage, target)
        self._stages.remove(stage)
        self.on_stage("switching")
        self._switch(target)
        self.on_stage("published")
        previous = cur
        for v in self.versions():
            if v not in (target, previous):
                shutil.rmtree(v, ignore_errors=True)
        return target

    def _next_version(self) -> Path:
        nums = [int(m.group(1)) for p in self.versions() if (m := VERSION.match(p.name))]
        return self.store / f"v{(max(nums) + 1 if nums else 1):06d}"

    def _switch(self, target: Path) -> None:
        tmp = self.out_root / f".{self.id}.link-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        os.symlink(os.path.relpath(target, self.out_root), tmp)
        os.replace(tmp, self.link)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _same_slide_inputs(old_manifest: Path, new_manifest: Path) -> bool:
    def inputs(path: Path) -> Any:
        data = json.loads(path.read_text(encoding="utf-8"))
        segs = [{k: s.get(k) for k in SLIDE_INPUTS} | {"narration": _narr(s)}
                for s in data.get("segments", [])]
        return [data.get("quality"), data.get("fps"), segs]

    try:
        return bool(inputs(old_manifest) == inputs(new_manifest))
    except (OSError, ValueError):
        return False


def _narr(seg: dict[str, Any]) -> Any:
    n = seg.get("narration") or {}
    return [n.get("source"), n.get("cache_key"), n.get("duration"), n.get("detail")]


@contextmanager
def slides_update(out_root: Path, lecture_id: str, *, wait: bool = True,
                  on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Yield a staging copy of the published lecture; publish it if the body succeeds."""
    with LectureWriter(out_root, lecture_id, wait=wait, on_wait=on_wait) as w:
        stage = w.derive()
        (stage / "slides" / STALE_NOTE).unlink(missing_ok=True)
        yield stage
        (stage / "slides" / STALE_NOTE).unlink(missing_ok=True)
        w.commit(stage, carry_slides=False)
