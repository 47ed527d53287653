"""Render cache keys are complete by construction: change one input at a time and see
exactly the segments that depend on it get new keys.

The sources are hashed from a copy of the project (``render_key(root=...)``), so a test
can edit a module without touching the worktree. One segment per scene family.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.planning.manifest import QUALITIES
from pipeline.rendering import cache, fingerprint

ROOT = Path(__file__).resolve().parent.parent
TINY = QUALITIES["tiny"]
SEGMENTS = {  # segment -> scene, one per family
    "title": "TitleCard", "grid": "ForwardDotGrid", "digit": "CleanDigit",
    "check": "ClosedFormCheck", "code": "CodeWalkthrough", "equation": "OneStepEquation",
    "curve": "ScheduleCurve",
}
ALL = set(SEGMENTS)
MNIST_READERS = {"digit", "check"}  # scenes/checks.py imports scenes/mnist.py


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    for pkg in ("scenes", "diffusion"):
        shutil.copytree(ROOT / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    empty = tmp_path / "no data"
    empty.mkdir()
    monkeypatch.setenv("MNIST_ROOT", str(empty))
    fingerprint.reset()
    yield root
    fingerprint.reset()


def keys(root: Path, quality=TINY) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {seg: cache.render_key(scene=scene, params={}, plan={"main": 2.0}, quality=quality,
                                  seed=0, root=root)
            for seg, scene in SEGMENTS.items()}


def changed(a: dict[str, str], b: dict[str, str]) -> set[str]:
    return {k for k in a if a[k] != b[k]}


def edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def test_import_closure_is_found_from_the_imports() -> None:
    files, external = fingerprint.import_closure([ROOT / "scenes" / "checks.py"])
    rel = {str(p.relative_to(ROOT)) for p in files}
    assert {"scenes/checks.py", "scenes/mnist.py", "scenes/base.py", "scenes/__init__.py",
            "diffusion/__init__.py", "diffusion/mnist.py"} <= rel
    assert "scenes/cards.py" not in rel and "scenes/code.py" not in rel
    assert {"manim", "torch", "numpy"} <= external


@pytest.mark.parametrize(("module", "affected"), [
    ("scenes/mnist.py", MNIST_READERS),  # imported by the MNIST and the check family
    ("scenes/checks.py", {"check"}),
    ("scenes/code.py", {"code"}),
    ("scenes/equations.py", {"equation"}),
    ("scenes/cards.py", {"title"}),
    ("scenes/theme.py", ALL),  # shared by every scene
    ("diffusion/schedule.py", ALL),  # the math core, imported through the package
])
def test_a_changed_module_changes_exactly_its_importers(project: Path, module: str,
                                                        affected: set[str]) -> None:
    before = keys(project)
    edit(project / module)
    assert changed(before, keys(project)) == affected


def test_mnist_origin_and_files_change_only_the_readers(project: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    synthetic = keys(project)
    data = tmp_path / "data" / "MNIST" / "raw"
    data.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (data / name).write_bytes(name.encode() * 10)
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path / "data"))
    real = keys(project)
    assert changed(synthetic, real) == MNIST_READERS  # synthetic -> real files
    (data / "t10k-labels-idx1-ubyte").write_bytes(b"other labels")
    assert changed(real, keys(project)) == MNIST_READERS  # new checksums
    edit(project / "diffusion" / "mnist.py")  # the generator: every importer of diffusion
    assert changed(real, keys(project)) == ALL


def test_encoder_settings_and_quality_entry_change_every_key(project: Path) -> None:
    before = keys(project)
    assert changed(before, keys(project, replace(TINY, qp=TINY.qp + 1))) == ALL
    assert changed(before, keys(project, QUALITIES["preview"])) == ALL
    assert keys(project) == before  # and nothing else moves them


@pytest.mark.parametrize("tool", ["dvisvgm", "latex", "ffmpeg"])
def test_a_new_tool_version_changes_every_key(project: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, tool: str) -> None:
    before = keys(project)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = shutil.which(tool)
    assert real is not None
    wrapper = bin_dir / tool
    # the real program, reporting one more line: a different build of the same tool
    wrapper.write_text(f'#!/bin/sh\n"{real}" "$@"\necho "rebuilt 2"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    fingerprint.reset()
    assert changed(before, keys(project)) == ALL


def test_toolchain_names_every_tool() -> None:
    tools = fingerprint.toolchain()
    for name in ("manim", "manimpango", "cairo", "pango", "tex", "dvisvgm", "ffmpeg", "x264"):
        assert tools[name] not in ("", "unknown", "missing", "unavailable"), name
    fp = fingerprint.code_fingerprint(ROOT / "scenes" / "cards.py", {})
    assert fp["fonts"]
    assert all(":" in v and not v.startswith("unresolved") for v in fp["fonts"].values())


def test_params_naming_a_module_bring_it_into_the_key(project: Path) -> None:
    def key() -> str:
        return cache.render_key(scene="CodeWalkthrough",
                                params={"target": "diffusion.worked:closed_form_example"},
                                plan={"main": 2.0}, quality=TINY, seed=0, root=project)

    files, _ = fingerprint.import_closure([project / "scenes" / "code.py"], project)
    assert project.resolve() / "diffusion" / "worked.py" in files  # via diffusion/__init__
    before = key()
    edit(project / "diffusion" / "worked.py")
    assert key() != before
