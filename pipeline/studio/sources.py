"""The files a lecture is made from, as far as its author edits them: what the studio
watches.

The TOML; each segment's own scene file and the files its render key covers (its local
imports and the assets it names, :func:`pipeline.rendering.author_files.closure_files`);
a clip a segment names; and the takes folder (any file in it). Folders are watched
rather than files, so an editor that saves by writing a new file and renaming it over
the old one is seen too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.planning import scene_ref
from pipeline.planning.manifest import LectureSpec
from pipeline.rendering.author_files import closure_files

#: names editors and recorders write beside a file while saving it
SCRATCH_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload")


def _abs(path: Path | str) -> Path:
    return Path(os.path.abspath(path))


@dataclass(frozen=True)
class Sources:
    files: frozenset[Path]  # these files
    folders: frozenset[Path]  # any file directly in these folders

    @property
    def roots(self) -> frozenset[Path]:
        """The folders to watch (those that exist)."""
        found = {f.parent for f in self.files} | set(self.folders)
        return frozenset(p for p in found if p.is_dir())

    def matters(self, path: str | Path) -> bool:
        p = _abs(path)
        if p.name.startswith((".", "#")) or p.name.endswith(SCRATCH_SUFFIXES):
            return False
        return p in self.files or p.parent in self.folders


def lecture_sources(toml: Path, spec: LectureSpec | None, takes: Path | None) -> Sources:
    """What to watch for ``toml`` (its last readable ``spec``, if any) and ``takes``."""
    files = {_abs(toml)}
    if spec is not None:
        for seg in spec.segments:
            if seg.clip is not None:
                files.add(_abs(spec.resolve_path(seg.clip)))
            if not scene_ref.is_reference(seg.scene):
                continue
            try:
                author = scene_ref.locate(seg.scene, spec.resolve_path)
            except ValueError:
                continue  # planning says what is wrong with it
            files.add(_abs(author.file))
            try:
                files.update(_abs(p) for p in closure_files(author).values())
            except (OSError, SyntaxError, ValueError):
                continue  # a file that does not parse: its own file is watched
    folders = {_abs(takes)} if takes is not None else set()
    return Sources(frozenset(files), frozenset(folders))
