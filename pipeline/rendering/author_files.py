"""A lecture's own scene, shipped to a worker that does not share the author's disk.

The client packs the files its render key covers (:func:`pack`): the scene file, the
modules beside it that it imports and the asset files it names by a literal path, as
bytes relative to the scene's folder (``AuthorScene.root``). The worker unpacks them into
a private folder named by their digest (:func:`unpack`), so repeated tasks of the same
code reuse one copy, and renders from there (:func:`relocated`). The render key does not
depend on where the folder is, so the worker checks the copy against the client's key.

Files outside the scene's folder (an absolute asset path, ``"../x"``) are not shipped:
the worker reads them where the client did, and a different copy there changes the key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.planning.scene_ref import AuthorScene
from pipeline.rendering import fingerprint

#: The most a task carries: a larger closure is refused on the client (one line).
MAX_BYTES = 50 * 1024 * 1024
_DONE = ".complete"


class TooLarge(ValueError):
    """The scene's files are over :data:`MAX_BYTES`."""


@dataclass(frozen=True)
class AuthorFiles:
    """The author's files, as ``(path relative to the scene's root, bytes)``, sorted."""

    files: tuple[tuple[str, bytes], ...]

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for rel, blob in self.files:
            h.update(rel.encode() + b"\0")
            h.update(len(blob).to_bytes(8, "big"))
            h.update(blob)
        return h.hexdigest()[:24]

    @property
    def size(self) -> int:
        return sum(len(b) for _, b in self.files)


def closure_files(author: AuthorScene) -> dict[str, Path]:
    """The files the render key covers that lie in the scene's folder, by relative path."""
    # Paths are normalised, not resolved: a symlink in the folder ships as its bytes.
    root = Path(os.path.abspath(author.root))
    files, _ = fingerprint.import_closure([Path(author.file)], root)
    found: dict[str, Path] = {}
    for p in files:
        found[Path(os.path.abspath(p)).relative_to(root).as_posix()] = p
    for text in fingerprint.named_files(files, root):
        p = Path(os.path.abspath(root / text))
        if p.is_relative_to(root):
            found.setdefault(p.relative_to(root).as_posix(), p)
    return dict(sorted(found.items()))


def pack(author: AuthorScene, segment_id: str, limit: int | None = None) -> AuthorFiles:
    """The scene's files as bytes; :class:`TooLarge` (naming the segment and the largest
    file) if they come to more than ``limit`` (:data:`MAX_BYTES`)."""
    limit = MAX_BYTES if limit is None else limit
    found = closure_files(author)
    sizes = {rel: p.stat().st_size for rel, p in found.items()}
    total = sum(sizes.values())
    if total > limit:
        big = max(sizes, key=lambda r: sizes[r])
        raise TooLarge(
            f"segment {segment_id}: scene {author.text}: its files come to "
            f"{total / 2**20:.1f} MB (largest {big}, {sizes[big] / 2**20:.1f} MB), over the "
            f"{limit / 2**20:.0f} MB a Dask task carries; render it with the local executor"
        )
    return AuthorFiles(tuple((rel, p.read_bytes()) for rel, p in found.items()))


def unpack(files: AuthorFiles, work_dir: str | None) -> Path:
    """A folder holding ``files`` under ``work_dir``, named by their digest: made once,
    atomically, and reused by every later task with the same files."""
    base = Path(work_dir or tempfile.gettempdir()) / "lecture-author"
    folder = base / files.digest
    if (folder / _DONE).is_file():
        return folder
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    try:
        for rel, blob in files.files:
            target = (tmp / rel).resolve()
            if not target.is_relative_to(tmp.resolve()):
                raise ValueError(f"{rel}: outside the scene's folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        (tmp / _DONE).write_text(files.digest)
        try:
            os.rename(tmp, folder)
        except OSError:  # another task made it first
            if not (folder / _DONE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def relocated(author: AuthorScene, folder: Path) -> AuthorScene:
    """``author`` with its root and file in ``folder`` (the same relative layout)."""
    rel = Path(author.file).relative_to(author.root)  # the client's paths, not read here
    return author.model_copy(update={"root": str(folder), "file": str(folder / rel)})
