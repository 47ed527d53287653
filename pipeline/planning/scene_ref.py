"""A lecture's own Manim scene, named by file or module instead of a registered name.

``scene = "path/to/file.py:ClassName"`` names a file relative to the lecture's folder;
``scene = "package.module:ClassName"`` a module importable from the lecture's folder.
Either becomes an :class:`AuthorScene`: where the file is, which folder goes first on
``sys.path`` (and is the render child's current folder, so the scene reads its assets
relative to itself), the class, and what the render child needs besides (the seed of
Python's and numpy's global generators, and the frame to hold the last picture until).

Pure: no manim, no imports of the author's code (the dry-run child does that,
``pipeline.rendering.author_process``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.voiceover.job import VoiceoverJob

REFERENCE = re.compile(r"^(?P<where>[^:]+):(?P<cls>[A-Za-z_]\w*)$")
MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


class AuthorScene(BaseModel):
    """One segment's own scene, located (absolute paths)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str  # as the manifest writes it
    root: str  # put first on sys.path; the child's current folder
    module: str  # the module's name when imported
    file: str  # the module's file
    cls: str
    random_seed: int = 0  # seeds `random` and numpy's global generator in the child
    hold_to: int | None = None  # a plain scene: hold its last frame until this frame
    voiceover: VoiceoverJob | None = None  # a manim-voiceover scene speaking the segment

    @property
    def name(self) -> str:
        """``module:Class``, independent of where the folder is."""
        return f"{self.module}:{self.cls}"


def is_reference(text: str) -> bool:
    """``"file.py:Class"`` or ``"package.module:Class"``."""
    m = REFERENCE.match(text)
    if m is None:
        return False
    where = m["where"]
    return where.endswith(".py") or MODULE.match(where) is not None


def locate(text: str, resolve: Callable[[str], Path]) -> AuthorScene:
    """The scene ``text`` names, its paths made absolute by ``resolve`` (the lecture's
    ``resolve_path``). A file or module that does not exist raises ``ValueError``."""
    m = REFERENCE.match(text)
    if m is None or not is_reference(text):
        raise ValueError(f"{text!r} is not 'file.py:Class' or 'module:Class'")
    where, cls = m["where"], m["cls"]
    if where.endswith(".py"):
        file = resolve(where)
        if not file.is_file():
            raise ValueError(f"{file}: no such file")
        return AuthorScene(text=text, root=str(file.parent), module=file.stem,
                           file=str(file), cls=cls)
    root = resolve(".")
    base = root.joinpath(*where.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return AuthorScene(text=text, root=str(root), module=where,
                               file=str(candidate), cls=cls)
    raise ValueError(f"{base}.py: no such file (module {where!r} is looked up in {root})")


def segment_seed(seed: int, segment_id: str) -> int:
    """The seed of a segment's global random generators: from the lecture's seed and
    the segment id, so each segment draws its own numbers, the same in every run."""
    h = hashlib.sha256(f"{seed}:{segment_id}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF
