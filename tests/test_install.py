"""An installed package works from any folder and writes only its output and its cache.

The checkout is built and installed *non-editable* into a fresh virtual environment
(``pip install --no-deps --no-build-isolation``, from a copy of the checkout, so the
build writes nothing into it). The heavy dependencies (torch, manim) are not installed
again: a ``.pth`` file, written after the install, gives the new environment the test
interpreter's ``site-packages``; the new environment's own copy of the project comes
first on ``sys.path``, which the first test asserts.

Then, from an empty folder, with ``HOME``, ``XDG_CACHE_HOME`` and ``TMPDIR`` pointed at
empty folders: ``lecture list``, lookups, and (``test_renders_*``) a shipped
lecture's segment and a lecture of one's own whose clip path is relative to its TOML.
Every folder is snapshotted around each run: the current folder may gain only
``output/``, the cache home only ``diffusion-lectures/`` (plus the empty cache folder
LaTeX's dvisvgm makes for itself), and ``HOME``, ``TMPDIR``, the installed package and
the checkout nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = "diffusion-lectures"
# Third-party tools' own folders in $XDG_CACHE_HOME that a render may create
# (dvisvgm, run by manim for LaTeX, makes its glyph cache folder there).
TOOL_CACHES = {"dvisvgm"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")


@dataclass
class Installed:
    venv: Path
    site: Path  # the new environment's site-packages
    home: Path
    cache_home: Path  # XDG_CACHE_HOME
    tmp: Path  # TMPDIR
    base: Path

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "LECTURE_CACHE_DIR", "MNIST_ROOT", "VIRTUAL_ENV",
                            "PYTHONHOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")}
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.cache_home),
                   TMPDIR=str(self.tmp), PATH=f"{self.venv / 'bin'}{os.pathsep}{env['PATH']}")
        return env

    def run(self, argv: list[str | Path], cwd: Path,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(a) for a in argv], cwd=cwd, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def python(self, code: str, cwd: Path) -> str:
        proc = self.run([self.bin("python"), "-c", code], cwd)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def empty_folder(self, name: str) -> Path:
        folder = self.base / "runs" / name
        folder.mkdir(parents=True)
        return folder


def _checkout_files() -> list[str]:
    """The checkout's files as they are now: tracked and untracked, not ignored."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                             capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("needs git to copy the checkout")
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def _git_status() -> list[str]:
    """``git status`` of the checkout, ignored files included, output/ excluded (other
    tests render there)."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return sorted(line for line in out.stdout.splitlines()
                  if not line[3:].startswith(("output/", "tests/.artifacts/"))
                  and "__pycache__" not in line and ".pytest_cache" not in line)


def _pip(python: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("install")
    status = _git_status()
    src = base / "src"
    for rel in _checkout_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_CACHE_DIR"] = str(base / "pip-cache")  # not the user's
    # the build backend, in the new environment (setuptools builds wheels itself from 70.1)
    tools = _pip(python, "install", "setuptools>=70.1", env=env)
    if tools.returncode != 0:
        pytest.skip(f"cannot install the build tools: {tools.stderr.strip()[-300:]}")
    build = _pip(python, "install", "--no-deps", "--no-build-isolation", str(src), env=env)
    assert build.returncode == 0, build.stderr
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env=env).stdout.strip())
    # the dependencies, from the interpreter running the tests (after the install, so pip
    # never sees that environment's editable copy of the project)
    deps = Path(sysconfig.get_paths()["purelib"])
    (site / "zz-test-dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    folders = {name: base / name for name in ("home", "cache-home", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    inst = Installed(venv=venv, site=site, home=folders["home"],
                     cache_home=folders["cache-home"], tmp=folders["tmp"], base=base)
    yield inst
    assert _git_status() == status, "the checkout changed"


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    if not root.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            found[str(p.relative_to(root))] = (st.st_size if p.is_file() else -1, st.st_mtime_ns)
    return found


class Watch:
    """Snapshots of every folder a run could write to; ``changes()`` after the run."""

    def __init__(self, inst: Installed, cwd: Path, *extra: Path) -> None:
        self.roots = {"cwd": cwd, "home": inst.home, "cache home": inst.cache_home,
                      "tmp": inst.tmp, "site-packages": inst.site}
        self.roots.update({str(p): p for p in extra})
        self.before = {k: _snapshot(v) for k, v in self.roots.items()}

    def changes(self) -> dict[str, list[str]]:
        out = {}
        for k, root in self.roots.items():
            after = _snapshot(root)
            changed = sorted(p for p in set(after) | set(self.before[k])
                             if after.get(p) != self.before[k].get(p))
            out[k] = changed
        return out

    def assert_only_output_and_cache(self) -> None:
        changes = self.changes()
        strays = {
            "cwd": [p for p in changes.pop("cwd") if p != "output" and
                    not p.startswith("output" + os.sep)],
            "cache home": [p for p in changes.pop("cache home")
                           if p.split(os.sep)[0] not in {APP, *TOOL_CACHES}],
            **changes,
        }
        assert not any(strays.values()), {k: v[:10] for k, v in strays.items() if v}


def test_the_installed_copy_is_imported(installed: Installed) -> None:
    cwd = installed.empty_folder("imports")
    code = ("import importlib.metadata as m, pipeline, scenes, audio, diffusion;"
            "print(m.version('diffusion-lectures'));"
            "[print(x.__file__) for x in (pipeline, scenes, audio, diffusion)]")
    version, *files = installed.python(code, cwd).splitlines()
    assert version == "0.2.0"
    for f in files:
        assert Path(f).is_relative_to(installed.site), f
    pkg = installed.site / "pipeline"
    assert sorted(p.name for p in (pkg / "lectures").glob("*.toml")) == sorted(
        p.name for p in (ROOT / "config").glob("*.toml"))
    assert (pkg / "slides" / "deck" / "deck.css").is_file()
    assert installed.bin("lecture").is_file() and installed.bin("lecture-render").is_file()


def test_list_from_an_empty_folder(installed: Installed) -> None:
    cwd = installed.empty_folder("list")
    watch = Watch(installed, cwd)
    proc = installed.run([installed.bin("lecture"), "list"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert "forward-diffusion" in proc.stdout + proc.stderr
    assert "diffusion-overview" in proc.stdout + proc.stderr
    watch.assert_only_output_and_cache()
    assert not (cwd / "output").exists()


def test_lookup_order_and_unknown_lecture(installed: Installed) -> None:
    cwd = installed.empty_folder("lookup")
    shipped = installed.site / "pipeline" / "lectures"
    code = ("from pipeline.planning.manifest import lecture_path, available_lectures;"
            "print(lecture_path('forward-diffusion')); print(*available_lectures())")
    found, ids = installed.python(code, cwd).splitlines()
    assert Path(found) == shipped / "forward-diffusion.toml"
    (cwd / "config").mkdir()
    (cwd / "config" / "forward-diffusion.toml").write_text(
        (shipped / "forward-diffusion.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (cwd / "config" / "mine.toml").write_text(
        (shipped / "diffusion-overview.toml").read_text(encoding="utf-8"), encoding="utf-8")
    found, ids = installed.python(code, cwd).splitlines()
    assert Path(found) == cwd / "config" / "forward-diffusion.toml"  # ./config shadows
    assert ids.split() == ["forward-diffusion", "mine", "diffusion-overview"]

    watch = Watch(installed, cwd)
    proc = installed.run([installed.bin("lecture"), "render", "no-such-lecture",
                          "--quality", "tiny"], cwd)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "unknown lecture 'no-such-lecture'" in lines[0]
    assert str(cwd / "config") in lines[0] and str(shipped) in lines[0]  # where it looked
    watch.assert_only_output_and_cache()


def test_mnist_falls_back_to_labelled_synthetic_digits(installed: Installed) -> None:
    cwd = installed.empty_folder("mnist")
    out = installed.python(
        "from diffusion.mnist import load_mnist, mnist_root; d = load_mnist(limit=10);"
        "print(mnist_root()); print(d.source); print(d.detail)", cwd).splitlines()
    assert out[:2] == ["None", "synthetic"]
    assert "MNIST_ROOT unset" in out[2]


def test_renders_a_shipped_lecture_from_an_empty_folder(installed: Installed) -> None:
    cwd = installed.empty_folder("shipped")
    watch = Watch(installed, cwd)
    proc = installed.run([installed.bin("lecture"), "render", "forward-diffusion",
                          "--quality", "tiny", "--only", "01_00_intro"], cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((cwd / "output").rglob("*.mp4"))
    watch.assert_only_output_and_cache()
    speech = installed.cache_home / APP / "speech"
    assert any(speech.iterdir()), "synthetic speech is cached in the user cache folder"


def test_renders_a_lecture_of_ones_own_with_a_clip_beside_its_toml(installed) -> None:
    from helpers.audio import speechlike, write_audio

    cwd = installed.empty_folder("own")
    lec = cwd / "lectures"
    (lec / "takes").mkdir(parents=True)
    write_audio(lec / "takes" / "hello.wav", speechlike(2, seed=1).samples)
    (lec / "my.toml").write_text(
        'id = "my-lecture"\ntitle = "My lecture"\n\n[[segments]]\nid = "hello"\n'
        'chapter = "Hello"\nscene = "TitleCard"\nparams = { title = "Hello" }\n'
        'narration = "Hello there. This is a short test."\n'
        'clip = "takes/hello.wav"  # relative to this file, not to the current folder\n',
        encoding="utf-8")
    watch = Watch(installed, cwd)
    proc = installed.run([installed.bin("lecture"), "render", "./lectures/my.toml",
                          "--quality", "tiny"], cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((cwd / "output" / "my-lecture").rglob("*.mp4"))
    assert "clip" in proc.stdout + proc.stderr
    changes = watch.changes()
    assert not [p for p in changes["cwd"] if p.startswith("lectures")]
    watch.assert_only_output_and_cache()
