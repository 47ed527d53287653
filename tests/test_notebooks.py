"""Notebooks: ``notebooks/example.ipynb`` runs and every scene renders inline with
``%%manim``, through a real Jupyter kernel (nbclient), headless, at tiny quality.

The example notebook (an inline scene, a narrated segment through ``pipeline.api`` and a
scene class written in a cell, narrated by ``pipeline.api.narrate_scene``)
is executed as committed, with its parameters cell followed by an injected cell that
sets the tiny quality (as papermill does). Rendering one scene of each family (module
of ``scenes/``), or every registered scene, inline is ``slow``: a few minutes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline import media
from scenes.registry import SCENES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "notebooks" / "example.ipynb"
TINY_MANIM = "--resolution 192,108 --fps 5 --progress_bar none --disable_caching"
#: one scene per family (module of scenes/), cheap ones first
FAMILY = {
    "cards": "TitleCard",
    "schedule_curve": "ScheduleCurve",
    "equations": "OneStepEquation",
    "code": "CodeWalkthrough",
    "mnist": "CleanDigit",
    "checks": "TwoRoutes",
    "dot_grid": "ForwardDotGrid",
}


def magic_cell(name: str) -> nbformat.NotebookNode:
    module, cls = SCENES[name].split(":")
    return nbformat.v4.new_code_cell(
        f"%%manim -v WARNING {TINY_MANIM} {cls}\nfrom {module} import {cls}",
        metadata={"scene": name},
    )


def run(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def inline_videos(cell: nbformat.NotebookNode, cwd: Path) -> list[Path]:
    """The files the ``%%manim`` display of ``cell`` points at (relative to ``cwd``)."""
    out = []
    for o in cell.get("outputs", []):
        html = o.get("data", {}).get("text/html", "") if o.output_type == "display_data" else ""
        out += [cwd / src for src in re.findall(r'<video src="([^"]+)"', html)]
    return out


def test_families_cover_the_registry() -> None:
    modules = {SCENES[n].split(":")[0].split(".")[-1] for n in SCENES}
    assert modules == set(FAMILY)
    assert all(SCENES[n].split(":")[0].endswith(m) for m, n in FAMILY.items())


def test_example_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(EXAMPLE, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_example_notebook_runs_in_a_kernel(tmp_path: Path) -> None:
    nb = nbformat.read(EXAMPLE, as_version=4)
    params = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    out = tmp_path / "out"
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(
        f'MANIM_FLAGS = "{TINY_MANIM}"\nQUALITY = "tiny"\nVOICE = "espeak"\nOUT = {str(out)!r}'
    ))
    run(nb, tmp_path)

    # the inline scene: a real video
    inline = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("%%manim")]
    assert len(inline) == 1
    videos = inline_videos(inline[0], tmp_path)
    assert len(videos) == 1 and media.count_frames(videos[0]) > 0
    # the narrated segment: the path printed, the clip shown inline, speech in it
    seg_cell = next(c for c in nb.cells if "render_segment(" in c.source)
    printed = "".join(o.get("text", "") for o in seg_cell.outputs if o.output_type == "stream")
    clip = Path(printed.strip().splitlines()[-1])
    assert clip.is_file() and clip.parent.parent == out / "forward-diffusion" / "only"
    info = media.probe(clip)
    assert media.stream(info, "audio") is not None and media.stream(info, "video") is not None
    assert any("text/html" in o.get("data", {}) for o in seg_cell.outputs)
    manifest = json.loads((clip.parent.parent / "manifest.json").read_text())
    assert [s["id"] for s in manifest["segments"]] == ["01_13_todo1_intro"]
    assert manifest["segments"][0]["narration"]["source"] == "espeak"
    # the notebook's own scene class, narrated: a one-segment lecture with speech
    own = next(c for c in nb.cells if "narrate_scene(" in c.source)
    printed = "".join(o.get("text", "") for o in own.outputs if o.output_type == "stream")
    video = Path(printed.strip().splitlines()[-1])
    assert video == out / "scene-CircleToSquare" / "lecture.mp4" and video.is_file()
    info = media.probe(video)
    assert media.stream(info, "audio") is not None and media.stream(info, "video") is not None
    assert any("text/html" in o.get("data", {}) for o in own.outputs)
    manifest = json.loads((video.parent / "manifest.json").read_text())
    assert [s["id"] for s in manifest["segments"]] == ["CircleToSquare"]
    assert manifest["segments"][0]["narration"]["source"] == "espeak"


@pytest.mark.slow
@pytest.mark.parametrize("which", ["families", "all"])
def test_registered_scenes_render_inline(which: str, tmp_path: Path) -> None:
    """One kernel: one scene of each family, or every registered scene, by ``%%manim``."""
    names = list(FAMILY.values()) if which == "families" else list(SCENES)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell("import manim")] + [magic_cell(n) for n in names]
    run(nb, tmp_path)
    for cell in nb.cells[1:]:
        videos = inline_videos(cell, tmp_path)
        assert len(videos) == 1 and media.count_frames(videos[0]) > 0, cell.metadata["scene"]


def test_api_fails_like_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input: the API raises ``InputError`` with the line the CLI prints (exit 2)."""
    from pipeline import cli
    from pipeline.api import check_lecture, render_lecture, render_segment
    from pipeline.planning.manifest import InputError

    cases = [
        (lambda: render_lecture("nope"), ["--lecture", "nope"]),
        (lambda: render_lecture(quality="8k"), ["--quality", "8k"]),
        (lambda: render_lecture(jobs=0, out=tmp_path), ["--jobs", "0", "--out", str(tmp_path)]),
        (lambda: render_segment("forward-diffusion", "01_99_missing", out=tmp_path),
         ["render", "forward-diffusion", "--only", "01_99_missing", "--out", str(tmp_path)]),
        (lambda: check_lecture("forward-diffusion", only=["01_99_missing"]),
         ["check", "forward-diffusion", "--only", "01_99_missing"]),
    ]
    for call, argv in cases:
        with pytest.raises(InputError) as raised:
            call()
        capsys.readouterr()
        assert cli.main(argv) == cli.EXIT_INPUT
        err = " ".join(capsys.readouterr().err.split())
        assert " ".join(str(raised.value).split()) in err, (argv, err)


CELL = """\
import numpy as np
from manim import Circle, Create, Scene


def unrelated():
    pass


class FromCell(Scene):
    def construct(self):
        self.play(Create(Circle(radius=float(np.float64(1.2)))), run_time=0.4)


narrate_scene(FromCell, "Not run in the child.")
"""


def test_notebook_source_is_the_imports_and_the_class(tmp_path: Path) -> None:
    """A class from a cell (its code only in ``linecache``, as IPython keeps it): the
    module the child gets is the imports and the class, not the rest of the cell."""
    import linecache

    from pipeline.api import notebook_source

    name = "<ipython-input-cell-test>"
    linecache.cache[name] = (len(CELL), None, CELL.splitlines(keepends=True), name)
    namespace: dict[str, object] = {"narrate_scene": lambda *a: None}
    exec(compile(CELL, name, "exec"), namespace)
    code = notebook_source(namespace["FromCell"])  # type: ignore[arg-type]
    assert code.startswith("import numpy as np\nfrom manim import Circle, Create, Scene\n")
    assert "class FromCell(Scene):" in code and "narrate_scene" not in code
    assert "unrelated" not in code
    compile(code, "m.py", "exec")


def test_narrate_scene_renders_source_or_a_module_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``source=`` gives the module's code; a class in an importable file renders from it."""
    import importlib

    from pipeline.api import narrate_scene
    from pipeline.planning.manifest import InputError

    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "mod_scene.py").write_text(CELL.split("\n\n\nnarrate_scene")[0] + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = importlib.import_module("mod_scene").FromCell
    out = tmp_path / "out"
    done = narrate_scene(cls, "A small circle.", quality="tiny", voice="silence", out=out)
    assert done.video == out / "scene-FromCell" / "lecture.mp4" and done.video.is_file()
    assert set(done.segments) == {"FromCell"} and done.duration > 0.4
    text = (tmp_path / "mod_scene.py").read_text().replace("1.2", "0.8")
    again = narrate_scene(cls, "A small circle.", source=text, quality="tiny",
                          voice="silence", out=out)
    assert again.video.is_file()
    with pytest.raises(InputError, match="not a subclass of manim's Scene"):
        narrate_scene(int, "Hi.")
