"""The scene catalog: one source of beats and parameters, importable without manim.

Planning reads it, so bad parameters fail before any render starts (exit 2, one line
naming the file, the segment and the field).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.planning.manifest import InputError, load_lecture
from scenes import catalog
from scenes.catalog import spec as scene_spec
from scenes.registry import SCENES, load_scene_class

ROOT = Path(__file__).resolve().parent.parent

LECTURE = '''
id = "cat"
title = "Catalog"
[[segments]]
id = "intro"
chapter = "Intro"
scene = "TitleCard"
narration = "Hello."
[[segments]]
id = "grid"
chapter = "Grid"
scene = "ForwardDotGrid"
params = PARAMS
narration = "Dots."
'''


def write(tmp_path: Path, params: str) -> Path:
    p = tmp_path / "cat.toml"
    p.write_text(LECTURE.replace("PARAMS", params), encoding="utf-8")
    return p


def test_catalog_matches_the_registry_and_the_scene_classes() -> None:
    assert set(catalog.CATALOG) == set(SCENES)
    for name, spec in catalog.CATALOG.items():
        cls = load_scene_class(name)
        assert cls.SPEC is spec and cls.BEATS == spec.beats
        assert cls.PARAMS == spec.defaults() == spec.resolve({})
        assert json.loads(json.dumps(cls.PARAMS)) == cls.PARAMS


def test_code_targets_match_the_scene() -> None:
    from scenes.code import TARGETS

    assert set(TARGETS) == set(catalog.CODE_TARGETS)


def test_catalog_and_planning_import_without_manim_or_torch(tmp_path: Path) -> None:
    """Load, validate and plan a lecture (espeak narration) in a fresh interpreter."""
    toml = write(tmp_path, "{ T = 60 }")
    code = f"""
import sys
from pathlib import Path
from scenes import catalog
from pipeline.planning.manifest import load_lecture, QUALITIES
from pipeline.options import RenderOptions
from pipeline.planning.plan import plan_lecture
spec = load_lecture({str(toml)!r})
opts = RenderOptions(quality=QUALITIES["tiny"], out_root=Path({str(tmp_path)!r}),
                     speech_cache=Path({str(tmp_path / "speech")!r}))
plans = plan_lecture(spec, opts)
assert [p.timing.frames > 0 for p in plans] == [True, True]
heavy = sorted(m for m in ("manim", "torch", "torchvision", "moviepy") if m in sys.modules)
print("heavy:", heavy)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ("{ T = 60, colour = 1 }", "params.colour", "unknown parameter for ForwardDotGrid"),
        ("{ T = 5000 }", "params.T", "less than or equal to 1000"),
        ('{ T = "60" }', "params.T", "valid integer, got '60'"),
        ("{ T = 10 }", "params.T", "greater than or equal to 21"),
        ("{ T = 60, n_samples = 5 }", "params.n_samples",
         "unknown parameter for ForwardDotGrid"),
    ],
)
def test_bad_params_name_file_segment_and_field(tmp_path: Path, params, field, message) -> None:
    path = write(tmp_path, params)
    with pytest.raises(InputError) as info:
        load_lecture(path)
    text = str(info.value)
    assert text.startswith(f"{path}: segments[1] (grid).{field}: "), text
    assert message in text and "\n" not in text


def test_nested_and_cross_field_errors() -> None:
    spec = catalog.spec("KeyConcepts")
    with pytest.raises(catalog.ParamError) as info:
        spec.resolve({"items": ["fine", {"text": "x", "math": 3}]})
    assert info.value.field == "items.1.math"
    with pytest.raises(catalog.ParamError) as info:
        catalog.spec("XTStats").resolve({"n_digits": 4})
    assert info.value.field == "shown" and "n_digits = 4" in info.value.message
    with pytest.raises(catalog.ParamError, match="unknown target 'os:system'"):
        catalog.spec("CodeWalkthrough").resolve({"target": "os:system"})


def test_cli_rejects_bad_params_before_rendering(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, "{ T = 5000 }")
    out = tmp_path / "out"
    code = main(["--lecture", str(path), "--quality", "tiny", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "segments[1] (grid).params.T" in err
    assert not out.exists() or not any(out.rglob("*.mp4"))


WARM_LECTURE = '''
id = "warm"
title = "Warm"
voice = "espeak"
[[segments]]
id = "digit"
chapter = "Digit"
scene = "CleanDigit"
narration = "One digit, {{image_shape}} pixels."
[[segments]]
id = "grid"
chapter = "Grid"
scene = "ForwardDotGrid"
narration = "A grid of {{grid_points}} dots, {{last_step}} steps."
'''


def test_a_warm_plan_computes_no_math_and_imports_no_torch(tmp_path: Path) -> None:
    """The first plan computes the narration's placeholders with torch (the math that
    runs) in a child process, so the planning process itself never holds torch; the
    next, in a fresh interpreter, reads the remembered digits and the MNIST data's
    fingerprint and starts no child at all. Neither imports torch, manim or moviepy."""
    toml = tmp_path / "warm.toml"
    toml.write_text(WARM_LECTURE, encoding="utf-8")
    code = f"""
import sys
from pathlib import Path
from pipeline.planning.manifest import load_lecture, QUALITIES
from pipeline.options import RenderOptions
from pipeline.planning.plan import plan_lecture
spec = load_lecture({str(toml)!r})
opts = RenderOptions(quality=QUALITIES["tiny"], out_root=Path({str(tmp_path)!r}),
                     speech_cache=Path({str(tmp_path / "speech")!r}))
plans = plan_lecture(spec, opts)
print("text:", " | ".join(s.narration for s in spec.segments))
print("keys:", " ".join(p.job.key for p in plans))
print("heavy:", sorted(m for m in ("manim", "torch", "moviepy") if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, cwd=tmp_path, timeout=300) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (dict(line.split(": ", 1) for line in r.stdout.splitlines()) for r in runs)
    assert "{{" not in first["text"] and "28×28" in first["text"]
    assert first["heavy"] == second["heavy"] == "[]"
    assert second["text"] == first["text"] and second["keys"] == first["keys"]
    # the digits are the real math's: what expand_placeholders computes here, with torch
    from pipeline.planning.placeholders import expand_placeholders

    spec = load_lecture(toml)
    raw = tomllib.loads(WARM_LECTURE)["segments"]
    for seg, written in zip(spec.segments, raw, strict=True):
        assert seg.narration == expand_placeholders(
            written["narration"], scene_spec(seg.scene).resolve(seg.params))
