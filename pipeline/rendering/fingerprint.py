"""Everything a silent scene render depends on, as content digests.

A render's pixels are a function of

* **code**: the scene's module and every project module it imports, transitively
  (found by reading the ``import`` statements with :mod:`ast`, never a hand-kept list),
  plus project modules named by ``"package.module:name"`` strings in that code or in
  its parameters (a scene that shows a function's source), and the versions of the
  third-party distributions that code imports;
* **data**: a module of the closure that calls a data loader listed in
  :data:`DATA_SOURCES` depends on that data set's files (checksums), or on the
  synthetic stand-in's generator when the real files are absent;
* **toolchain**: manim, manimpango, pycairo; the cairo and pango libraries; the TeX
  engine and dvisvgm; the font files the scenes name; ffmpeg and the libx264 it links.

Probing the toolchain runs a few programs; the answers are kept on disk (the user cache
folder, ``pipeline.paths.cache_dir``), keyed by the programs' and font folders'
modification times, and computed once per process. File checksums are kept the same way,
keyed by path, size and mtime.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from pipeline import paths
from pipeline.files import file_sha256

ROOT = paths.SOURCE_ROOT
PROBE_FORMAT = 1
#: What every render child's environment sets, and so every render key includes. A fixed
#: hash seed: manim walks sets in places (``ConvexHull`` orders its vertices so), and a
#: set's order follows the per-process string hash.
CHILD_ENV: dict[str, str] = {"PYTHONHASHSEED": "0"}
# Names whose use in a scene's code means "reads this data set" -> how to fingerprint it.
DATA_SOURCES: dict[str, str] = {"load_mnist": "mnist"}
TARGET_PATTERN = re.compile(r"^([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*):[A-Za-z_][\w.]*$")
FONT_CONSTANT = re.compile(r"FONT|MONO")


def digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def user_cache() -> Path:
    """A writable per-user folder outside the repository for probe answers
    (``pipeline.paths.cache_dir``: the user cache, or ``$LECTURE_CACHE_DIR``)."""
    return paths.cache_dir()


# ------------------------------------------------------------------ stored answers
class _DiskMemo:
    """A small JSON map ``key -> value`` in the user cache, written atomically."""

    LIMIT = 4000

    def __init__(self, name: str) -> None:
        self.path = user_cache() / name
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        self.dirty = False

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.data:
            self.data[key] = make()
            self.dirty = True
        return self.data[key]

    def save(self) -> None:
        if not self.dirty:
            return
        if len(self.data) > self.LIMIT:  # oldest answers first out (dicts keep order)
            self.data = dict(list(self.data.items())[-self.LIMIT:])
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".memo-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
        self.dirty = False


@lru_cache(maxsize=1)
def placeholder_memo() -> _DiskMemo:
    """Narration placeholders' digits by text, parameters and code (``script_values``)."""
    return _DiskMemo("placeholders.json")


@lru_cache(maxsize=1)
def _file_memo() -> _DiskMemo:
    return _DiskMemo("file-digests.json")


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, remembered on disk by (path, size, mtime)."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    memo = _file_memo()
    key = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"

    value = memo.get(key, lambda: file_sha256(path))
    memo.save()
    return str(value)


# ------------------------------------------------------------------ code
def module_name(path: Path, root: Path = ROOT) -> str:
    rel = Path(os.path.relpath(_abs(path), _abs(root))).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The project file of module ``name`` (``a.b`` -> ``a/b.py`` or ``a/b/__init__.py``)."""
    if not name:
        return None
    base = root.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _abs(path: Path) -> Path:
    """An absolute path without resolving symlinks (``Path.resolve`` is slow)."""
    return Path(os.path.abspath(path))


def _with_parents(name: str) -> list[str]:
    """Importing ``a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


class Parsed(NamedTuple):
    imports: tuple[str, ...]  # project or third-party modules, relative ones resolved
    used: frozenset[str]  # every name and attribute the code uses
    fonts: tuple[str, ...]  # values of module constants named like FONT/MONO
    defines: frozenset[str]  # top-level functions


def _analyse(source: bytes, package: str, filename: str = "<unknown>") -> Parsed:
    """What one file imports, uses, names as fonts and defines; relative imports are
    resolved against ``package``."""
    tree = ast.parse(source, filename=filename)
    imports: list[str] = []
    used: set[str] = set()
    fonts: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            imports.append(base)
            imports += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
            used.update(a.name for a in node.names)
        elif isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = TARGET_PATTERN.match(node.value)
            if m:  # "package.module:name", as a default parameter or an allow-list names it
                imports.append(m.group(1))
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            for t in node.targets:
                if isinstance(t, ast.Name) and FONT_CONSTANT.search(t.id):
                    fonts.append(node.value.value)
    defines = frozenset(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
    return Parsed(tuple(imports), frozenset(used), tuple(fonts), defines)


_PARSED: dict[tuple[str, str], Parsed] = {}


def _parse(path: Path, root: Path) -> Parsed:
    """``_analyse`` of a file, remembered by its content digest (copies share it)."""
    this = module_name(path, root)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    key = (file_digest(path), package)
    if key not in _PARSED:
        memo = _parse_memo()
        def make() -> list[list[str]]:
            p = _analyse(path.read_bytes(), package, str(path))
            return [list(p.imports), sorted(p.used), list(p.fonts), sorted(p.defines)]

        imports, used, fonts, defines = memo.get(f"{PROBE_FORMAT}|{key[0]}|{package}", make)
        _PARSED[key] = Parsed(tuple(imports), frozenset(used), tuple(fonts), frozenset(defines))
    return _PARSED[key]


@lru_cache(maxsize=1)
def _parse_memo() -> _DiskMemo:
    return _DiskMemo("parsed-sources.json")


_CLOSURES: dict[tuple[tuple[Path, ...], Path], tuple[list[Path], set[str], list[int]]] = {}


def _mtimes(files: Iterable[Path]) -> list[int]:
    out = []
    for f in files:
        try:
            out.append(f.stat().st_mtime_ns)
        except OSError:
            out.append(-1)
    return out


def import_closure(start: Iterable[Path], root: Path = ROOT) -> tuple[list[Path], set[str]]:
    """Project files reached from ``start`` through imports, and third-party top-level
    module names imported on the way. Files are sorted and absolute.

    Remembered per process; a remembered closure is reused while none of its files'
    modification times changed."""
    root = _abs(root)
    key = (tuple(_abs(p) for p in start), root)
    hit = _CLOSURES.get(key)
    if hit is not None and _mtimes(hit[0]) == hit[2]:
        return list(hit[0]), set(hit[1])
    files, external = _closure(list(key[0]), root)
    _CLOSURES[key] = (files, external, _mtimes(files))
    return list(files), set(external)


def _closure(todo: list[Path], root: Path) -> tuple[list[Path], set[str]]:
    for p in list(todo):  # the packages enclosing the start files run first
        for parent in _with_parents(module_name(p, root))[:-1]:
            f = module_file(parent, root)
            if f is not None:
                todo.append(_abs(f))
    seen: set[Path] = set()
    external: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        imports = _parse(path, root).imports
        for name in imports:
            found = False
            for part in _with_parents(name):
                f = module_file(part, root)
                if f is not None:
                    found = True
                    if _abs(f) not in seen:
                        todo.append(_abs(f))
            if not found and name and module_file(name.split(".")[0], root) is None:
                external.add(name.split(".")[0])
    return sorted(seen), external


def param_targets(params: Any, root: Path = ROOT) -> list[Path]:
    """Project modules named by string parameters like ``"diffusion.forward:q_sample"``."""
    found: list[Path] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            m = TARGET_PATTERN.match(v)
            if m:
                f = module_file(m.group(1), root)
                if f is not None:
                    found.append(f)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(params)
    return found


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    """``top-level module -> distributions``; slow to build (it reads every installed
    distribution's file list), so kept on disk keyed by the import path's folders."""
    import sys

    memo = _probe_memo()
    sites = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    key = f"{PROBE_FORMAT}|dists|{_stamp(sites)}"
    value = memo.get(key, lambda: dict(metadata.packages_distributions()))
    memo.save()
    return dict(value)


@cache
def distribution_versions(modules: frozenset[str]) -> dict[str, str]:
    """``dist -> version`` of the installed distributions providing ``modules``."""
    out: dict[str, str] = {}
    dists = _distributions()
    for mod in sorted(modules):
        for dist in dists.get(mod, []):
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                out[dist] = "unknown"
    return out


def code_fingerprint(scene_path: Path, params: Any, root: Path = ROOT) -> dict[str, Any]:
    """Digests of the scene's import closure, the libraries it imports, the data it
    reads and the fonts it names."""
    start = [scene_path, *param_targets(params, root)]
    files, external = import_closure(start, root)
    sources = {str(p.relative_to(_abs(root))): file_digest(p) for p in files}
    used: set[str] = set()
    fonts: set[str] = set()
    for p in files:
        parsed = _parse(p, root)
        fonts.update(parsed.fonts)
        if p.name != "__init__.py":
            used |= parsed.used
    _parse_memo().save()
    data = {src: data_fingerprint(src) for name, src in sorted(DATA_SOURCES.items())
            if name in used and _reader_outside_definer(files, name, root)}
    return {
        "sources": sources,
        "libraries": distribution_versions(frozenset(external)),
        "data": data,
        "fonts": {f: font_fingerprint(f) for f in sorted(fonts)},
    }


def _reader_outside_definer(files: list[Path], name: str, root: Path) -> bool:
    """True when ``name`` is used by a module other than the one defining it (and other
    than package ``__init__`` files re-exporting it)."""
    for p in files:
        if p.name == "__init__.py":
            continue
        parsed = _parse(p, root)
        if name not in parsed.defines and name in parsed.used:
            return True
    return False


# ------------------------------------------------------------------ data
def data_fingerprint(source: str) -> dict[str, Any]:
    if source == "mnist":
        return mnist_fingerprint()
    raise KeyError(source)


def mnist_fingerprint() -> dict[str, Any]:
    """Which MNIST files a scene would read (checksums), or the synthetic generator.

    Follows ``diffusion.mnist``'s choice of origin: any IDX file (plain or ``.gz``) under
    ``<root>/MNIST/raw``, ``<root>/raw`` or ``<root>`` of ``mnist_root()``.
    """
    from diffusion.paths import mnist_root  # no torch

    root = mnist_root()
    files: dict[str, str] = {}
    if root is not None and root.is_dir():
        for folder in (root / "MNIST" / "raw", root / "raw", root):
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if re.search(r"-idx\d-ubyte(\.gz)?$", f.name) and f.is_file():
                        files[str(f.relative_to(root))] = file_digest(f)
    if files:
        return {"origin": "files", "files": files}
    return {"origin": "synthetic", "generator": file_digest(ROOT / "diffusion" / "mnist.py")}


# ------------------------------------------------------------------ toolchain
def _out(*cmd: str) -> str:
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return (proc.stdout or proc.stderr).strip()


def _stamp(paths: Iterable[str | None]) -> str:
    parts = []
    for p in paths:
        if not p:
            parts.append("none")
            continue
        try:
            st = os.stat(p)
            parts.append(f"{os.path.realpath(p)}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{p}:missing")
    return digest("|".join(parts))


FONT_DIRS = ("/etc/fonts", "/usr/share/fonts", "/usr/local/share/fonts", "/var/cache/fontconfig",
             "~/.fonts", "~/.local/share/fonts", "~/.cache/fontconfig")


@lru_cache(maxsize=1)
def _probe_memo() -> _DiskMemo:
    return _DiskMemo("toolchain.json")


def _probe_binaries() -> dict[str, str]:
    ffmpeg = shutil.which("ffmpeg")
    tex = shutil.which("latex")
    dvisvgm = shutil.which("dvisvgm")
    memo = _probe_memo()
    key = f"{PROBE_FORMAT}|bin|{_stamp([ffmpeg, tex, dvisvgm])}"

    def make() -> dict[str, str]:
        x264 = "unavailable"
        if ffmpeg:
            libs = _out("ldd", os.path.realpath(ffmpeg))
            m = re.search(r"(libx264\S*)\s*=>\s*(\S+)", libs)
            if m:
                x264 = f"{m.group(1)}:{file_digest(Path(m.group(2)))}"
        return {
            "ffmpeg": _out("ffmpeg", "-version") if ffmpeg else "missing",
            "x264": x264,
            "tex": _out("latex", "--version") if tex else "missing",
            "dvisvgm": _out("dvisvgm", "--version") if dvisvgm else "missing",
        }

    value = memo.get(key, make)
    memo.save()
    return dict(value)


def font_fingerprint(family: str) -> str:
    """The file fontconfig picks for ``family``, as ``name:sha256``."""
    memo = _probe_memo()
    dirs = [os.path.expanduser(d) for d in FONT_DIRS]
    key = f"{PROBE_FORMAT}|font|{family}|{_stamp([shutil.which('fc-match'), *dirs])}"

    def make() -> str:
        path = _out("fc-match", "-f", "%{file}", family)
        if not path or not Path(path).is_file():
            return f"unresolved:{path}"
        return f"{Path(path).name}:{file_digest(Path(path))}"

    value = memo.get(key, make)
    memo.save()
    return str(value)


@lru_cache(maxsize=1)
def toolchain() -> dict[str, str]:
    """Versions of everything between a scene's code and its encoded pixels."""
    import cairo
    import manimpango

    def ver(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "manim": ver("manim"),
        "manimpango": ver("manimpango"),
        "pycairo": ver("pycairo"),
        "cairo": cairo.cairo_version_string(),
        "pango": manimpango.pango_version(),
        **_probe_binaries(),
    }


def reset() -> None:
    """Forget per-process answers (tests that change an input call this)."""
    for f in (toolchain, _probe_memo, _file_memo, placeholder_memo, distribution_versions,
              _distributions, module_file, _parse_memo):
        f.cache_clear()
    _CLOSURES.clear()
    _PARSED.clear()


def author_fingerprint(scene_path: Path, root: Path) -> dict[str, Any]:
    """A lecture's own scene: :func:`code_fingerprint` of its file with the closure
    rooted at ``root`` (its folder: the modules beside it that it imports), plus the
    sources of the project's modules it imports (``scenes.base``, ...)."""
    out = code_fingerprint(scene_path, {}, root)
    files, _ = import_closure([scene_path], root)
    project: set[Path] = set()
    for p in files:
        for name in _parse(p, root).imports:
            top = name.split(".")[0]
            # ``scenes.base`` from a file beside ``scenes.py`` is the project's: a module
            # file is no package (and the render child has imported the project's first)
            local = module_file(name, root) is not None or (
                module_file(top, root) is not None and "." not in name)
            if not local and module_file(top, ROOT) is not None:
                f = module_file(name, ROOT)
                if f is not None:
                    project.add(_abs(f))
    if project:
        closure, _ = import_closure(sorted(project), ROOT)
        out["project"] = {str(p.relative_to(_abs(ROOT))): file_digest(p) for p in closure}
    out["assets"] = named_files(files, root)
    return out


def named_files(files: Iterable[Path], root: Path) -> dict[str, str]:
    """Digests of the files the author's code names by a string literal relative to its
    folder (``"words.txt"``, ``"img/cat.png"``): the assets a scene reads."""
    found: dict[str, str] = {}
    for p in files:
        for node in ast.walk(ast.parse(p.read_bytes(), filename=str(p))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if not 0 < len(text) < 256 or "\n" in text or text.endswith(".py"):
                continue
            try:
                f = root / text
                if f.is_file():
                    found[text] = file_digest(f)
            except (OSError, ValueError):
                continue
    return dict(sorted(found.items()))
