"""Equation scenes: real LaTeX, one beat per highlighted term, worked numbers from diffusion."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from manim import MathTex, SurroundingRectangle

from diffusion import closed_form_example, one_step_moments
from scenes.equations import needed_decimals
from scenes.registry import load_scene_class
from scenes.timing import min_total

from helpers.scenes import (
    expected_frames,
    layout_problems,
    probe_frames,
    read_readouts,
    render_scene,
)

SCENES = ["OneStepEquation", "ClosedFormEquation"]
FPS = 10


@pytest.fixture
def runs(min_plan_runs: Any) -> Any:
    return min_plan_runs


def assert_shows_rounded(readout: Any, value: float) -> None:
    """The readout shows ``value`` rounded to 3 decimals, trailing zeros dropped."""
    assert readout.visible
    assert readout.shown == f"{value:.{readout.decimals}f}"
    assert float(readout.shown) == pytest.approx(round(value, 3), abs=1e-12)
    assert readout.decimals == 0 or not readout.shown.endswith("0")


def test_needed_decimals() -> None:
    assert [needed_decimals(v) for v in (0.796, 0.1, 0.7778, 2.0, -0.4472, 0.0004)] == [
        3, 1, 3, 0, 3, 0,
    ]


@pytest.mark.parametrize("name", SCENES)
def test_minimum_plan_fits_and_layout_is_clean(name: str, runs: Any) -> None:
    scene, snaps = runs(name)
    cls = load_scene_class(name)
    assert 3 <= len(cls.BEATS) <= 6 and 15 <= cls.default_duration() <= 30
    assert scene.frames_written() == round(min_total(cls.BEATS) * FPS)
    assert layout_problems(snaps) == []


def test_real_render_has_the_planned_frame_count(tmp_path: Path) -> None:
    plan = {"total": 6.37}
    video = render_scene("OneStepEquation", plan=plan, fps=FPS, tmp_path=tmp_path)
    assert probe_frames(video) == expected_frames(plan, "OneStepEquation", FPS) == 64


@pytest.mark.parametrize("params", [{}, {"x_prev": -0.5, "beta": 0.2}])
def test_one_step_worked_example(runs: Any, params: dict[str, float]) -> None:
    scene, _ = runs("OneStepEquation", **params)
    x_prev, beta = params.get("x_prev", 0.8), params.get("beta", 0.01)
    mean, std = one_step_moments(x_prev, beta)
    readouts = read_readouts(scene)
    assert_shows_rounded(readouts["mean"], mean)
    assert_shows_rounded(readouts["std"], std)
    if not params:  # the lecture's numbers
        assert (readouts["mean"].shown, readouts["std"].shown) == ("0.796", "0.1")
    else:
        assert readouts["mean"].shown == f"{-0.5 * math.sqrt(0.8):.3f}"


@pytest.mark.parametrize("params", [{}, {"alpha_bar": 0.9, "x0": -0.6, "eps": 1.3}])
def test_closed_form_worked_example(runs: Any, params: dict[str, float]) -> None:
    scene, _ = runs("ClosedFormEquation", **params)
    ab, x0, eps = (params.get(k, d) for k, d in (("alpha_bar", 0.5), ("x0", 0.8), ("eps", 0.3)))
    readouts = read_readouts(scene)
    assert_shows_rounded(readouts["signal"], math.sqrt(ab) * x0)
    assert_shows_rounded(readouts["noise"], math.sqrt(1 - ab) * eps)
    assert_shows_rounded(readouts["x_t"], closed_form_example(ab, x0, eps))
    if not params:
        assert readouts["x_t"].shown == "0.778"


def test_each_term_beat_boxes_its_term(runs: Any) -> None:
    """After a term's beat a box surrounds exactly that part of the equation."""
    scene, snaps = runs("OneStepEquation")
    eq = next(m for m in scene.mobjects if isinstance(m, MathTex) and m.tex_string.startswith("q("))
    boxes = [m for m in scene.mobjects if isinstance(m, SurroundingRectangle)]
    terms = {r"\sqrt{1-\beta_t}\,x_{t-1}", r"\beta_t\,\mathbf{I}"}
    boxed = set()
    for box in boxes:
        for part in eq:
            same_place = abs(box.get_center() - part.get_center()).max() < 0.02
            hugs = 0 < box.width - part.width < 0.2
            if part.tex_string in terms and same_place and hugs:
                boxed.add(part.tex_string)
    assert boxed == terms
    # the key frames of the term beats differ from the bare equation's
    frames = {s.name: s.frame for s in snaps}
    assert (frames["mean_term"] != frames["equation"]).any()
    assert (frames["variance_term"] != frames["mean_term"]).any()
