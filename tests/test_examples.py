"""The shipped example lectures under ``examples/``: they plan, and they render from
their own folder (tiny quality, one segment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, load_lecture
from pipeline.planning.plan import plan_lecture

ROOT = Path(__file__).resolve().parent.parent
DOT_GRID = ROOT / "examples" / "dot-grid"


def test_dot_grid_example_plans(tmp_path: Path) -> None:
    spec = load_lecture(DOT_GRID / "lecture.toml")
    assert "In each of 4 steps" in spec.segment("dissolve").narration  # {{param name=steps}}
    opts = RenderOptions(quality=QUALITIES["tiny"], out_root=tmp_path / "out",
                         speech_cache=tmp_path / "speech")
    plans = {p.spec.id: p for p in plan_lecture(spec, opts, source=str(DOT_GRID))}
    assert list(plans) == ["dissolve", "walk-back", "recap"]
    dissolve = plans["dissolve"].job
    assert dissolve.author is not None and dissolve.author.hold_to is not None  # plain
    assert dissolve.params == {"steps": 4, "keep": 0.55}  # the Params model's default in
    recap = plans["recap"]
    assert recap.timing.beat_names == ("grid", "noise", "back")
    assert recap.job.author is not None and recap.job.author.hold_to is None
    fps = QUALITIES["tiny"].fps
    # the bookmark starts "back" mid-sentence, after the second sentence began
    second = recap.timing.speech_frame + recap.narration.sentences[1].start * fps
    assert recap.timing.beat_frames[2] > second + fps
    for p in plans.values():  # short scenes: a tiny render stays quick
        assert p.timing.frames < 25 * fps


def test_dot_grid_example_renders_from_its_folder(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "render.py"), "render", "lecture.toml", "--quality",
         "tiny", "--only", "recap", "--out", str(tmp_path / "out")],
        cwd=DOT_GRID, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "dot-grid" / "only" / "lecture.mp4").stat().st_size > 0


def test_a_file_named_scenes_py_keys_on_the_project_scenes_it_imports() -> None:
    """``from scenes.base import TimedScene`` in ``scenes.py``: the project's package (a
    module file is no package), so editing ``scenes/base.py`` renders it again."""
    from pipeline.rendering.fingerprint import author_fingerprint

    file = DOT_GRID / "scenes.py"
    project = author_fingerprint(file, DOT_GRID).get("project", {})
    assert {"scenes/base.py", "scenes/timing.py"} <= set(project)
