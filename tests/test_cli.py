"""The ``lecture`` command line: the command tree, its help, one-line errors with their
exit codes, the default command, the deprecated mode flags, ``lecture check``, the
reference in ``docs/commands.md``, and one real render through ``python render.py``.

Most cases call ``pipeline.cli.main`` in process (it returns the exit status); a few
run a real process where the process matters (``python -m pipeline``, the render).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from pipeline.cli import EXIT_INPUT, EXIT_OK, cli, main
from pipeline.cli.options import expand_lists

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "commands.md"
SHORT_SEGMENT = "01_00_intro"  # a TitleCard in forward-diffusion

TOML = """id = "tiny-cli"
title = "Tiny"
seed = 5
quality = "tiny"
voice = "silence"

[[segments]]
id = "a"
chapter = "First"
scene = "TitleCard"
params = { title = "First" }
narration = "One. Two."
"""


def commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree with its path (``("cache", "prune")``), groups too."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*path, name))


def flags(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params if isinstance(p, click.Option) for o in p.opts
            if o.startswith("--")}


def mentions(text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def undocumented(doc: str) -> list[str]:
    """Commands and flags of the tree that ``doc`` does not mention."""
    missing = []
    for path, cmd in commands():
        if f"lecture {' '.join(path)}" not in doc:
            missing.append(f"lecture {' '.join(path)}")
        missing += [f"{' '.join(path)} {f}" for f in sorted(flags(cmd)) if not mentions(doc, f)]
    return missing


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), prog_name="lecture")
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Usage:" not in err
    return " ".join(lines[0].split())


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


# ------------------------------------------------------------------ tree and help
def test_the_tree() -> None:
    assert {" ".join(p) for p, _ in commands()} == {
        "new", "render", "check", "slides", "studio", "list", "cache", "cache info",
        "cache prune", "publish", "publish youtube"}


def test_group_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["-h"]):
        code, out, _ = run(capsys, *argv)
        assert code == EXIT_OK
        for name in ("new", "render", "check", "slides", "list", "cache"):
            assert re.search(rf"^\s+{name}\s", out, re.M), out
    proc = subprocess.run([sys.executable, "-m", "pipeline", "--help"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "check" in proc.stdout and "cache" in proc.stdout


def test_each_help_shows_only_its_own_flags(capsys: pytest.CaptureFixture[str]) -> None:
    every = set().union(*(flags(cmd) for _, cmd in commands()))
    for path, cmd in commands():
        code, out, _ = run(capsys, *path, "--help")
        assert code == EXIT_OK
        own = flags(cmd)
        assert all(mentions(out, f) for f in own), (path, out)
        foreign = [f for f in every - own if mentions(out, f)]
        assert not foreign, (path, foreign)


def test_render_help_without_command_is_renders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--lecture", "forward-diffusion", "--help")
    assert code == EXIT_OK and "--narration-dir" in out and "--lectures" in out


def test_list_values() -> None:
    flags_ = {"--only", "--lectures"}
    assert expand_lists(["x", "--only", "a", "b", "--out", "o"], flags_) == [
        "x", "--only", "a", "--only", "b", "--out", "o"]
    assert expand_lists(["--only", "a", "--only", "b"], flags_) == [
        "--only", "a", "--only", "b"]
    assert expand_lists(["--only"], flags_) == ["--only"]
    assert expand_lists(["--only", "--out", "o"], flags_) == ["--only", "--out", "o"]
    assert expand_lists(["--only", "a", "--", "b"], flags_) == ["--only", "a", "--", "b"]


# ------------------------------------------------------------------ one-line errors
@pytest.mark.parametrize(("argv", "expect"), [
    (["--colour", "red"], "--colour"),
    (["render", "--colour"], "--colour"),
    (["check", "--out", "x"], "--out"),  # render's flag, not check's
    (["--quality", "8k"], "--quality: '8k' is not one of"),
    (["check", "--quality", "8k"], "--quality"),
    (["--jobs", "two"], "--jobs"),
    (["--only"], "--only"),
    (["chek"], "did you mean 'check'?"),
    (["cache", "purge"], "purge"),
    (["forward-diffusion", "--lecture", "diffusion-overview"], "--lecture"),
    (["--slides", "--cache-prune"], "--slides and --cache-prune"),
    (["--list", "--slides"], "cannot be combined"),
])
def test_bad_command_lines_are_one_line(capsys: pytest.CaptureFixture[str],
                                        argv: list[str], expect: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == EXIT_INPUT, err
    line = one_line(err)
    assert line.startswith("error: ") and expect in line, line
    assert out == ""


def test_missing_lecture_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "no such lecture.toml"
    out = ["--out", str(tmp_path)]
    for argv in (["--lecture", str(missing), *out], [str(missing), *out],
                 ["check", str(missing)]):
        code, _, err = run(capsys, *argv)
        assert code == EXIT_INPUT
        assert str(missing) in one_line(err)


def test_toml_errors_name_file_and_field(capsys: pytest.CaptureFixture[str], toml: Path,
                                         tmp_path: Path) -> None:
    toml.write_text(TOML.replace("seed = 5", "seed = = 5"), encoding="utf-8")
    code, _, err = run(capsys, "--lecture", str(toml), "--out", str(tmp_path / "out"))
    assert code == EXIT_INPUT and "invalid TOML" in one_line(err) and str(toml) in err
    toml.write_text(TOML.replace("seed = 5", 'seed = "five"'), encoding="utf-8")
    code, _, err = run(capsys, "check", str(toml))
    line = one_line(err)
    assert code == EXIT_INPUT and str(toml) in line and "seed" in line
    code, _, err = run(capsys, "check", str(toml), "--verbose")
    assert code == EXIT_INPUT and "Traceback" in err


# ------------------------------------------------------------------ check
def test_check_a_shipped_lecture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "diffusion-overview", "--quality", "tiny",
                         "--voice", "silence")
    assert code == EXIT_OK, err
    for seg in ("title", "forward", "reverse", "schedule", "concepts", "closing"):
        assert re.search(rf"\b{seg}\b.*\bsilence\b", out), out
    assert "6 segments" in out and "nothing rendered" in out


def test_check_renders_nothing_and_reports_strict(capsys: pytest.CaptureFixture[str],
                                                  toml: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", "--lecture", str(toml))
    assert code == EXIT_OK, err
    assert re.search(r"\b01\W+a\W+silence\b", out), out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    code, _, err = run(capsys, "check", str(toml), "--strict")
    assert code == EXIT_INPUT and "strict" in one_line(err)


def test_api_check_lecture(toml: Path) -> None:
    from pipeline.api import check_lecture

    checked = check_lecture(toml)
    assert [p.spec.id for p in checked.plans] == ["a"]
    assert checked.plans[0].narration.source == "silence" and len(checked.assembly_key) == 32


# ------------------------------------------------------------------ deprecated flags
def test_deprecated_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--list")
    assert code == EXIT_OK
    assert one_line(err) == "warning: --list is deprecated; use 'lecture list'"
    assert "forward-diffusion:" in out and "01_00_intro" in out
    code, out2, err = run(capsys, "list")
    assert code == EXIT_OK and out2 == out and err == ""


def test_deprecated_cache_prune(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    renders = tmp_path / ".cache" / "renders"
    renders.mkdir(parents=True)
    (renders / "k.mp4").write_bytes(b"x" * 100)  # a video without a record: evicted
    code, out, err = run(capsys, "--cache-prune", "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert code == EXIT_OK and len(lines) == 2, err
    assert lines[0] == "warning: --cache-prune is deprecated; use 'lecture cache prune'"
    assert "evicted 1 entries" in lines[1]
    assert not list(renders.iterdir())


def test_deprecated_slides(capsys: pytest.CaptureFixture[str], toml: Path,
                           tmp_path: Path) -> None:
    code, _, err = run(capsys, "--lecture", str(toml), "--out", str(tmp_path), "--slides")
    lines = err.strip().splitlines()
    assert code == EXIT_INPUT and len(lines) == 2, err
    assert lines[0] == "warning: --slides is deprecated; use 'lecture slides'"
    assert lines[1].startswith("error: ") and "manifest.json missing" in lines[1]
    code, _, err = run(capsys, "slides", str(toml), "--out", str(tmp_path))
    assert code == EXIT_INPUT and "manifest.json missing" in one_line(err)


# ------------------------------------------------------------------ cache info
def test_cache_info(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "cache", "info", "--out", str(tmp_path / "none"),
                         "--cache-max-size", "1G")
    assert code == EXIT_OK, err
    assert f"location: {tmp_path / 'none' / '.cache'}" in out
    assert "entries: 0 renders" in out and "cap 1.0G" in out
    assert not (tmp_path / "none").exists()  # info reads only
    code, _, err = run(capsys, "cache", "info", "--cache", "s3://bucket/x")
    assert code == EXIT_INPUT and "--cache" in one_line(err)
    code, out, _ = run(capsys, "cache")
    assert code == EXIT_OK and "info" in out and "prune" in out


# ------------------------------------------------------------------ docs
def test_docs_name_every_command_and_flag() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    assert undocumented(doc) == []
    # and the check bites: a flag or a command taken out of the text is reported
    assert "render --allow-unaligned" in undocumented(doc.replace("--allow-unaligned", "-"))
    assert "lecture cache prune" in undocumented(doc.replace("lecture cache prune", "-"))
    for code in ("0", "1", "2", "3", "130"):
        assert f"| {code} |" in doc
    assert "LECTURE_STATUS_FILE" in doc and "LECTURE_CACHE_DIR" in doc


# ------------------------------------------------------------------ a real render
def test_render_py_still_renders(tmp_path: Path) -> None:
    """``python render.py --lecture X --only ID --quality tiny --out DIR``, unchanged."""
    status = tmp_path / "status"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "render.py"), "--lecture", "forward-diffusion",
         "--only", SHORT_SEGMENT, "--quality", "tiny", "--out", str(tmp_path / "out")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "LECTURE_STATUS_FILE": str(status)},
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "forward-diffusion" / "only" / "lecture.mp4").is_file()
    stages = status.read_text(encoding="utf-8").splitlines()
    assert stages[0] == "planning" and "published" in stages


# ------------------------------------------------------------------ exit statuses
@pytest.mark.parametrize(("exc", "code", "line"), [
    (KeyboardInterrupt(), 130, "interrupted: earlier outputs are untouched"),
    (RuntimeError("segment a: scene TitleCard failed"), 1,
     "failed: segment a: scene TitleCard failed"),
    ("busy", 3, "busy: "),
])
def test_failures_become_exit_statuses(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, exc: object,
                                       code: int, line: str) -> None:
    from pipeline.cli import run as cli_run
    from pipeline.lock import LockBusy

    def fail(*_: object) -> None:
        raise LockBusy(Path("/o/.lec.lock"), "42") if exc == "busy" else exc  # type: ignore[misc]

    monkeypatch.setattr(cli_run, "render_and_report", fail)
    got, _, err = run(capsys, "--lecture", "forward-diffusion")
    assert got == code and one_line(err).startswith(line), err


def test_default_command_and_its_request(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No arguments, an option first, a lecture first, or ``render``: all render, with the
    same typed request (``--only a b`` takes both ids)."""
    from pipeline.cli import run as cli_run

    seen: list[cli_run.RenderRequest] = []
    monkeypatch.setattr(cli_run, "render_and_report", lambda req, _console: seen.append(req))
    for argv in ([], ["--quality", "tiny"], ["diffusion-overview", "--only", "a", "b"],
                 ["render", "--lecture", "x.toml", "--no-wait", "--jobs", "2"],
                 ["--lectures", "p", "q", "--voice", "silence"]):
        assert run(capsys, *argv)[0] == EXIT_OK
    assert [r.lectures for r in seen] == [("forward-diffusion",), ("forward-diffusion",),
                                          ("diffusion-overview",), ("x.toml",), ("p", "q")]
    assert seen[1].quality == "tiny" and seen[2].only == ("a", "b")
    assert seen[3].wait is False and seen[3].jobs == 2 and seen[4].voice == "silence"


# ------------------------------------------------------------------ lecture new
def test_new_writes_a_lecture_that_checks(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    folder = tmp_path / "my-talk"
    code, out, err = run(capsys, "new", str(folder))
    assert code == EXIT_OK, err
    assert "lecture render" in out
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    assert {"lecture.toml", "scenes.py", "README.md", "takes", "takes/.gitkeep"} <= names
    readme = (folder / "README.md").read_text()
    assert all(w in readme for w in ("lecture render", "lecture check", "--narration-dir"))
    code, out, err = run(capsys, "check", str(folder / "lecture.toml"), "--quality", "tiny")
    assert code == EXIT_OK, err
    assert "intro" in out and "shapes" in out
    code, _, err = run(capsys, "new", str(folder))  # not empty now
    assert code == EXIT_INPUT
    assert "exists and is a folder that is not empty" in one_line(err)
    (tmp_path / "empty").mkdir()
    assert run(capsys, "new", str(tmp_path / "empty"))[0] == EXIT_OK


def test_new_renders_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "talk"
    assert run(capsys, "new", str(folder))[0] == EXIT_OK
    code, _, err = run(capsys, "render", str(folder / "lecture.toml"), "--quality", "tiny",
                       "--out", str(tmp_path / "out"))
    assert code == EXIT_OK, err
    assert (tmp_path / "out" / "talk" / "lecture.mp4").stat().st_size > 0
