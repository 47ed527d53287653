"""Checks of the command line's paths and values, made before any work starts.

Each failure is an ``InputError``: one line naming the flag and what is wrong with it.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audio.clips import CLIP_EXTENSIONS
from pipeline import paths
from pipeline.planning.manifest import InputError

if TYPE_CHECKING:
    from audio.narration import Narration
    from pipeline.planning.manifest import LectureSpec

log = logging.getLogger("pipeline.planning.preflight")


def __getattr__(name: str) -> Path:
    """``DEFAULT_OUT``: ``./output`` of the current folder when read
    (``pipeline.paths.default_out``)."""
    if name == "DEFAULT_OUT":
        return paths.default_out()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def output_root(out: Path | None, default: Path | None = None) -> Path:
    """The output folder (``out``, else ``default``, else ``./output`` of the current
    folder), created if needed and proven writable (a probe file)."""
    flag = "--out" if out is not None else "output folder"
    chosen = out if out is not None else default if default is not None else paths.default_out()
    root = Path(os.path.abspath(chosen))
    if root.exists() and not root.is_dir():
        raise InputError(f"{flag}: {root} is a file, not a folder")
    parent = root
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{flag}: {parent} is a file, so {root} cannot be a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        why = {errno.EACCES: "permission denied", errno.EPERM: "not permitted",
               errno.EROFS: "read-only file system", errno.ENOSPC: "no space left",
               errno.ENOTDIR: "a part of it is a file"}.get(exc.errno or 0, exc.strerror)
        raise InputError(f"{flag}: {root} is not writable ({why})") from None
    return root


def folder_flag(flag: str, path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{flag}: {path} does not exist")
    if not path.is_dir():
        raise InputError(f"{flag}: {path} is not a folder")
    return path


def size_flag(flag: str, text: str) -> int:
    from pipeline.rendering.cache import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise InputError(f"{flag}: {exc}") from None


SILENT_DBFS = -60.0  # a recorded take whose peak stays below this is a muted microphone


def check_clip(seg_id: str, narration: Narration) -> None:
    """A recorded take must decode cleanly to its end and hold sound: a truncated or
    silent clip is bad input, not a short or quiet lecture."""
    import numpy as np

    if narration.source != "clip":
        return
    from pipeline.media import decode_errors

    if narration.path is not None:
        err = decode_errors(narration.path)
        if err:
            raise InputError(f"{narration.path}: narration clip for segment {seg_id!r} is "
                             f"damaged or truncated ({err[:160]})")
    peak = float(np.max(np.abs(narration.samples))) if narration.samples.size else 0.0
    if peak < 10 ** (SILENT_DBFS / 20):
        level = f"{20 * np.log10(peak):.0f} dBFS" if peak > 0 else "digital silence"
        raise InputError(f"{narration.path}: narration clip for segment {seg_id!r} is silent "
                         f"(peak {level}); was the microphone muted?")


def check_clip_names(narration_dir: Path | None, segment_ids: Sequence[str], source: str,
                     *, strict: bool) -> None:
    """Clips in ``narration_dir`` named after no segment are probably misnamed takes:
    an error in ``--strict`` mode (publishing), a warning otherwise."""
    if narration_dir is None or not narration_dir.is_dir():
        return
    ids = set(segment_ids)
    stray = sorted(p.name for p in narration_dir.iterdir()
                   if p.suffix.lower() in CLIP_EXTENSIONS and p.stem not in ids)
    if not stray:
        return
    more = f" (+{len(stray) - 1} more)" if len(stray) > 1 else ""
    msg = (f"{narration_dir / stray[0]}: clip named after no segment of {source}{more}; "
           "clips are named <segment-id>.<ext>")
    if strict:
        raise InputError(msg)
    log.warning(msg)


def require_clips(spec: LectureSpec, narration_dir: Path | None, source: str) -> None:
    """``--strict``: every segment needs a recorded take. Checked before any take is
    analysed, so a missing one is reported first, naming the segment and where we looked."""
    from audio.clips import find_clip
    from audio.narration import expected_clip_paths

    for seg in spec.segments:
        if seg.clip is not None or find_clip(narration_dir, seg.id) is not None:
            continue  # an explicit clip that does not exist is reported by its resolver
        where = ", ".join(str(p) for p in expected_clip_paths(narration_dir, seg.id))
        raise InputError(f"{source}: segments ({seg.id}): strict mode needs a "
                         f"recorded clip; none of {where} exists")
