"""The render cache as shared storage: entries under any fsspec URL.

A cache entry is two objects under ``<root>/renders/``, exactly as in the local cache
(:mod:`pipeline.rendering.cache`): the encoded silent video ``<key>.mp4`` and its record
``<key>.json`` (:class:`pipeline.rendering.cache.EntryRecord`: frames, size, codec parameters,
SHA-256). The record is written last, so an entry exists only once both are whole. A
``file://`` store is therefore an ordinary render cache folder: the local executor and
the Dask workers can share one.

Writers never expose a partial object: each is copied to a temporary name beside its
final one and moved into place (a rename on ``file://``; on object stores such as
``s3://`` a single PUT is already all-or-nothing). A writer killed mid-copy leaves only a
``.tmp-*`` object, which no reader looks at and :meth:`RenderStore.sweep` removes.

Readers check an entry before trusting it: the record must parse, name the key, the
frame count and the quality's codec parameters the job needs, and match the stored size;
the bytes a client uses must hash to the record's SHA-256. A bad entry is dropped with a
warning, so it renders again.

``file:///shared/cache``, a plain path, ``memory://cache`` (one process only; tests) and
``s3://bucket/prefix`` (needs ``s3fs``) all work the same way.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem
from pydantic import ValidationError

from pipeline.files import file_sha256
from pipeline.planning.manifest import InputError, Quality
from pipeline.rendering.cache import EntryRecord, entry_problem


class BadEntry(RuntimeError):
    """A cache entry that does not match its record."""


class RenderStore:
    """Render cache entries under one fsspec URL (see the module docstring)."""

    def __init__(self, url: str) -> None:
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise InputError(f"--cache: cannot open {url!r}: {exc}") from None
        self.url = url
        self.fs: fsspec.AbstractFileSystem = fs
        self.root = root.rstrip("/")

    @classmethod
    def for_path(cls, path: Path) -> RenderStore:
        return cls(path.resolve().as_uri())

    # ------------------------------------------------------------------ names
    @property
    def is_local(self) -> bool:
        """True when entries are ordinary files this process can open by path."""
        return isinstance(self.fs, LocalFileSystem)

    def video(self, key: str) -> str:
        return f"{self.root}/renders/{key}.mp4"

    def record(self, key: str) -> str:
        return f"{self.root}/renders/{key}.json"

    def local_path(self, key: str) -> Path:
        """The entry's video as a local path (only for ``file://`` stores)."""
        assert self.is_local, self.url
        return Path(self.video(key))

    # ------------------------------------------------------------------ read
    def lookup(self, key: str, q: Quality, frames: int) -> EntryRecord | None:
        """The entry's record if it is there and consistent (cheap: no hashing)."""
        try:
            raw = self.fs.cat_file(self.record(key))
        except FileNotFoundError:
            return None
        try:
            rec = EntryRecord.model_validate_json(raw)
            if rec.key != key:
                raise BadEntry(f"record names key {rec.key}")
            problem = entry_problem(rec, q, frames)
            if problem:
                raise BadEntry(f"record: the video {problem}")
            size = self.fs.size(self.video(key))
            if size != rec.size:
                raise BadEntry(f"video is {size} bytes, record says {rec.size}")
        except (ValidationError, BadEntry, FileNotFoundError) as exc:
            self.discard(key, f"{exc}")
            return None
        return rec

    def fetch(self, key: str, rec: EntryRecord, local_dir: Path) -> Path:
        """A verified local copy of the entry's video (the entry itself on ``file://``).

        Remote entries are downloaded into ``local_dir/renders/<key>.mp4``, a local
        mirror that is reused while it matches the record. Raises :class:`BadEntry`
        (after dropping the entry) when the bytes do not hash to the record.
        """
        if self.is_local:
            path = self.local_path(key)
        else:
            path = local_dir / "renders" / f"{key}.mp4"
            if not (path.exists() and path.stat().st_size == rec.size
                    and file_sha256(path) == rec.sha256):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
                try:
                    self.fs.get_file(self.video(key), str(tmp))
                    os.replace(tmp, path)
                finally:
                    tmp.unlink(missing_ok=True)
        if file_sha256(path) != rec.sha256:
            self.discard(key, "checksum differs from its record")
            if not self.is_local:
                path.unlink(missing_ok=True)
            raise BadEntry(f"render cache entry {key}: checksum differs from its record")
        return path

    # ------------------------------------------------------------------ write
    def put(self, key: str, video: Path, record: Path) -> EntryRecord:
        """Store a local cache entry (``video`` and its ``record`` file, as
        :func:`pipeline.rendering.cache.store` wrote them): video first, record last, each
        atomic."""
        rec = EntryRecord.model_validate_json(record.read_text(encoding="utf-8"))
        if rec.key != key or rec.size != video.stat().st_size:
            raise BadEntry(f"render cache entry {key}: its record does not describe {video}")
        self.fs.makedirs(f"{self.root}/renders", exist_ok=True)
        self._atomic_put_file(str(video), self.video(key))
        self._atomic_put_bytes(record.read_bytes(), self.record(key))
        return rec

    def discard(self, key: str, why: str) -> None:
        warnings.warn(f"render cache entry {key} dropped: {why}", stacklevel=2)
        for name in (self.record(key), self.video(key)):
            try:
                self.fs.rm_file(name)
            except FileNotFoundError:
                pass

    def sweep(self, older_than: float = 3600.0) -> int:
        """Remove temporary objects of killed writers older than ``older_than`` seconds."""
        removed = 0
        try:
            names = self.fs.ls(f"{self.root}/renders", detail=True)
        except FileNotFoundError:
            return 0
        now = time.time()
        for info in names:
            name = info["name"].rsplit("/", 1)[-1]
            if not name.startswith(".tmp-"):
                continue
            mtime = info.get("mtime") or info.get("created") or info.get("LastModified")
            stamp = mtime.timestamp() if hasattr(mtime, "timestamp") else mtime
            if stamp is None or now - float(stamp) > older_than:
                self.fs.rm_file(info["name"])
                removed += 1
        return removed

    def _tmp_name(self, final: str) -> str:
        head, name = final.rsplit("/", 1)
        return f"{head}/.tmp-{uuid.uuid4().hex}-{name}"

    def _atomic_put_file(self, local: str, final: str) -> None:
        tmp = self._tmp_name(final)
        try:
            self.fs.put_file(local, tmp)
            self.fs.mv(tmp, final)
        except BaseException:
            self._forget(tmp)
            raise

    def _atomic_put_bytes(self, data: bytes, final: str) -> None:
        tmp = self._tmp_name(final)
        try:
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, final)
        except BaseException:
            self._forget(tmp)
            raise

    def _forget(self, name: str) -> None:
        try:
            self.fs.rm_file(name)
        except (FileNotFoundError, OSError):
            pass
