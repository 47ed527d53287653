"""Where lectures, outputs and caches are found: the one home of these rules.

Every rule is a function evaluated when called (the current folder and the environment
of that moment), so a test can ``chdir`` or set ``LECTURE_CACHE_DIR`` and see it obeyed.

* **Lectures** (:func:`lecture_dirs`): a lecture id is looked up in ``./config`` of the
  current folder, then among the lectures shipped with the package (the checkout's
  top-level ``config/``, installed as ``pipeline/lectures/``). A ``.toml`` path is taken
  as given; relative paths inside it resolve against its own folder
  (``pipeline.planning.manifest``).
* **Output** (:func:`default_out`): ``./output`` of the current folder, unless ``--out``.
  The render cache is ``<out>/.cache`` (or ``--cache``).
* **Caches** (:func:`cache_root`): the user cache folder
  (``platformdirs.user_cache_dir("diffusion-lectures")``, e.g. ``~/.cache/diffusion-lectures``
  on Linux), or ``$LECTURE_CACHE_DIR`` when set. Never the source tree: synthetic speech
  and analysed takes (:func:`speech_cache`), the placeholder and fingerprint memos, MNIST
  files decompressed or downloaded (:func:`cache_dir`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

APP_NAME = "diffusion-lectures"
CACHE_ENV = "LECTURE_CACHE_DIR"

#: The folder that holds the project's packages (``pipeline``, ``scenes``, ``audio``,
#: ``diffusion``): the checkout, or ``site-packages`` after an install.
SOURCE_ROOT = Path(__file__).resolve().parent.parent
#: Where an installed package keeps the shipped lectures (package data of ``pipeline``;
#: filled from the checkout's ``config/*.toml`` when the wheel is built, see ``setup.py``).
INSTALLED_LECTURES = Path(__file__).resolve().parent / "lectures"


def checkout_root() -> Path | None:
    """The source checkout this code runs from, or ``None`` when it is installed."""
    root = SOURCE_ROOT
    return root if (root / "pyproject.toml").is_file() and (root / "config").is_dir() else None


def local_lectures() -> Path:
    """``./config`` of the current folder (it need not exist)."""
    return Path.cwd() / "config"


def shipped_lectures() -> Path | None:
    """The lectures that come with the code: ``pipeline/lectures/`` of an installed
    package, else the checkout's ``config/``."""
    if INSTALLED_LECTURES.is_dir():
        return INSTALLED_LECTURES
    root = checkout_root()
    return root / "config" if root is not None else None


def lecture_dirs() -> list[Path]:
    """The folders a lecture id is looked up in, first match wins (each folder once:
    from the checkout's own folder, ``./config`` is the shipped folder)."""
    found: list[Path] = []
    for folder in (local_lectures(), shipped_lectures()):
        if folder is not None and all(not _same(folder, f) for f in found):
            found.append(folder)
    return found


def default_out() -> Path:
    """The output folder when ``--out`` is not given: ``./output`` of the current folder."""
    return Path.cwd() / "output"


def _inside_source(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(SOURCE_ROOT)
    except OSError:
        return False


def cache_root() -> Path:
    """The folder of every cache the code keeps outside ``--out`` (not created here).

    ``$LECTURE_CACHE_DIR`` if set; else the user cache folder, unless that lies inside
    the source tree (``XDG_CACHE_HOME`` pointed there), then a private temporary folder.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().absolute()
    from platformdirs import user_cache_dir

    folder = Path(user_cache_dir(APP_NAME, appauthor=False))
    if _inside_source(folder):
        folder = _temp_cache()
    return folder


def cache_dir(*parts: str) -> Path:
    """``cache_root() / parts``, created; a private temporary folder if that cannot be
    made (a read-only home), so a cache never stops a render."""
    folder = cache_root().joinpath(*parts)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = _temp_cache().joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def speech_cache() -> Path:
    """Synthetic speech and analysed recorded takes (``clips/``), keyed by content."""
    return cache_root() / "speech"


def _temp_cache() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{uid}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


_ALIASES = {"CONFIG_DIR": shipped_lectures, "DEFAULT_OUT": default_out,
            "SPEECH_CACHE": speech_cache}


def __getattr__(name: str) -> Path | None:
    """The old constants, now computed when read (``paths.DEFAULT_OUT`` is ``./output``
    of the current folder at that moment); new code calls the functions."""
    if name in _ALIASES:
        return _ALIASES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shown(path: Path) -> str:
    """A path as messages show it: relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
