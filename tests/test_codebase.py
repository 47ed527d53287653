"""Habits of a kept codebase: short functions, no import cycles, every module imports.

These read the project's sources with :mod:`ast` (nothing is imported) except
:func:`test_every_module_imports`, which imports every module in one fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "audio", "scenes", "diffusion")
MAX_LINES = 80  # def line to last line


def _files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``: the packages Python runs before ``a.b.c``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


# ---------------------------------------------------------------- long functions
def _functions(tree: ast.AST) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef,
                                                 ast.ClassDef | None]]:
    """Every function and method (nested ones too), with the class it is defined in."""
    def walk(node: ast.AST, cls: ast.ClassDef | None) -> Iterator[
            tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, cls
                yield from walk(child, None)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, child)
            else:
                yield from walk(child, cls)

    yield from walk(tree, None)


def long_functions() -> list[str]:
    """``path:line name (n lines)`` of every function over :data:`MAX_LINES`, except a
    scene's ``construct`` (a method of that name on a class in ``scenes/``)."""
    found = []
    for path in _files():
        rel = path.relative_to(ROOT)
        for fn, cls in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if rel.parts[0] == "scenes" and cls is not None and fn.name == "construct":
                continue
            assert fn.end_lineno is not None
            n = fn.end_lineno - fn.lineno + 1
            if n > MAX_LINES:
                where = f"{cls.name}.{fn.name}" if cls is not None else fn.name
                found.append(f"{rel}:{fn.lineno} {where} ({n} lines)")
    return found


def test_no_long_functions() -> None:
    assert long_functions() == [], (
        f"functions over {MAX_LINES} lines (split them into named helpers)"
    )


# ---------------------------------------------------------------- import cycles
def _imported(node: ast.Import | ast.ImportFrom, importer: str,
              is_package: bool) -> tuple[set[str], set[str]]:
    """What one import statement needs: the modules it runs, and the packages whose
    namespace it reads.

    ``import a.b`` and ``from a import b`` (``b`` a module) run ``a.b``; ``from a import
    name`` (``name`` not a module) reads ``a``. Relative imports are resolved against the
    importer's package. Names outside the project are left out later.
    """
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}, set()
    package = importer if is_package else importer.rpartition(".")[0]
    if node.level:
        anchor = package.split(".")
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    runs, reads = {base}, set()
    for alias in node.names:
        if alias.name != "*" and _is_module(f"{base}.{alias.name}"):
            runs.add(f"{base}.{alias.name}")
        else:
            reads.add(base)
    return runs, reads


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules importing it runs, from every import statement in
    it (top level, inside functions, under ``TYPE_CHECKING``).

    Importing ``a.b.c`` runs the packages ``a`` and ``a.b`` first, so they are edges
    too, except the importer's own packages: Python has started them before the
    importer, whatever it imports. A ``from a import name`` of a name ``a`` defines is
    an edge to ``a`` even from inside ``a``: it needs the package's namespace.
    """
    graph: dict[str, set[str]] = {}
    for path in _files():
        importer = _module(path)
        mine = {*_ancestors(importer), importer}
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            runs, reads = _imported(node, importer, path.name == "__init__.py")
            for target in runs:
                edges.update(name for name in [*_ancestors(target), target]
                             if name not in mine and _is_module(name))
            edges.update(name for name in reads if name != importer and _is_module(name))
        graph[importer] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as
    one cycle through them, ``a -> b -> ... -> a``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(comp, graph) for comp in components]


def _cycle_in(comp: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One cycle through the first module of a strongly connected component."""
    members = set(comp)
    start = comp[0]
    paths = {start: [start]}
    todo = [start]
    while todo:  # breadth first: the shortest way back to ``start``
        v = todo.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                todo.append(w)
    raise AssertionError("a strongly connected component without a cycle")


def test_import_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # a submodule named in ``from package import module``
    assert "pipeline.planning.placeholders" in graph["pipeline.planning.manifest"]
    # a function-local import
    assert "pipeline.rendering.fingerprint" in graph["pipeline.planning.placeholders"]
    # the packages importing a submodule runs
    assert "audio" in graph["pipeline.media"]


def test_import_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# ---------------------------------------------------------------- imports run
def test_every_module_imports() -> None:
    """Every module imports in a fresh interpreter (one for all: torch and manim load
    once), run from the project folder."""
    modules = [_module(p) for p in _files()]
    script = textwrap.dedent("""
        import importlib, json, sys, traceback
        failed = {}
        for name in json.loads(sys.argv[1]):
            try:
                importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - every failure is reported
                failed[name] = traceback.format_exception_only(exc)[-1].strip()
        print(json.dumps(failed))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(modules)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failed == {}, "modules that do not import:\n" + "\n".join(
        f"{name}: {why}" for name, why in failed.items())
