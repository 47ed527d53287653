"""Scenes of the dot-grid example lecture: plain Manim scenes, as a notebook would have
them, and one beat-timed scene.

``Dissolve`` and ``WalkBack`` are ordinary ``Scene`` subclasses that draw from numpy's
global generator without seeding it; the pipeline seeds it per segment, so every render
is the same. ``Dissolve`` declares its parameters as a pydantic model (``Params``): the
lecture's ``params`` are checked against it before anything renders and reach the
scene as ``self.params``. ``Recap`` derives from ``scenes.base.TimedScene`` and declares
its ``BEATS``, so its steps follow the narration's sentences and bookmarks.

Render one segment on its own: ``lecture render lecture.toml --only dissolve --quality tiny``.
(``manim render scenes.py ...`` does not work here: manim imports this file as the
module ``scenes``, which hides the project's ``scenes`` package this file imports.)
"""

from __future__ import annotations

import numpy as np
from manim import (
    BLUE,
    DOWN,
    GREY_B,
    LEFT,
    RED,
    RIGHT,
    UP,
    Arrow,
    Circle,
    CurvedArrow,
    Dot,
    FadeIn,
    FadeOut,
    GrowArrow,
    Scene,
    Text,
    VGroup,
)
from pydantic import BaseModel, ConfigDict, Field

from scenes.base import TimedScene
from scenes.timing import Beat

SIDE = 7  # dots per row and column
SPACING = 0.45  # between neighbouring dots, in scene units
SPREAD = 1.2  # the noise's standard deviation, in scene units


def grid_points(scale: float = 1.0) -> np.ndarray:
    """The clean data: a square grid of ``SIDE`` x ``SIDE`` points around the origin."""
    axis = (np.arange(SIDE) - (SIDE - 1) / 2) * SPACING * scale
    xs, ys = np.meshgrid(axis, axis)
    return np.column_stack([xs.ravel(), ys.ravel(), np.zeros(SIDE * SIDE)])


def noise_like(points: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Gaussian noise in the plane, one draw per point (numpy's global generator)."""
    eps = np.random.standard_normal(points.shape) * SPREAD * scale
    eps[:, 2] = 0.0
    return eps


def dots_at(points: np.ndarray, color: str, radius: float = 0.05) -> VGroup:
    return VGroup(*(Dot(p, radius=radius, color=color) for p in points))


def caption(text: str) -> Text:
    return Text(text, font_size=30).to_edge(UP)


class DissolveParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(4, ge=1, le=8)  # rounds of noising shown
    keep: float = Field(0.55, gt=0.0, lt=1.0)  # share of the signal's variance a round keeps


class Dissolve(Scene):
    """The grid, then ``steps`` rounds of "shrink a little, add a little noise"."""

    Params = DissolveParams

    def construct(self) -> None:
        # the pipeline sets self.params; under `manim render` the defaults apply
        p = DissolveParams(**getattr(self, "params", {}))
        points = grid_points()
        dots = dots_at(points, BLUE)
        title = caption("Data: a grid of dots")
        self.play(FadeIn(dots), FadeIn(title), run_time=1.0)
        for step in range(1, p.steps + 1):
            points = np.sqrt(p.keep) * points + np.sqrt(1 - p.keep) * noise_like(points)
            label = caption(f"Step {step} of {p.steps}: shrink, then add noise")
            moves = [d.animate.move_to(q) for d, q in zip(dots, points)]
            self.play(*moves, FadeOut(title), FadeIn(label), run_time=2.5)  # one step
            title = label
        ring = Circle(radius=2 * SPREAD, color=GREY_B, stroke_width=2)
        end = caption("Noise: a Gaussian cloud")
        self.play(FadeIn(ring), FadeOut(title), FadeIn(end), run_time=1.0)
        self.wait(2.0)


class WalkBack(Scene):
    """A Gaussian cloud walked back to the grid: each step removes part of the way
    still to go, and adds a little less noise than the step before."""

    def construct(self) -> None:
        target = grid_points()
        points = noise_like(target)
        dots = dots_at(points, RED)
        title = caption("Start from noise")
        self.play(FadeIn(dots), FadeIn(title), run_time=1.0)
        steps = 4
        for step in range(1, steps + 1):
            left = (steps - step) / steps  # the share of noise still allowed
            points = points + 0.6 * (target - points) + 0.25 * left * noise_like(points)
            if step == steps:
                points = target
            label = caption(f"Denoise {step} of {steps}")
            moves = [d.animate.move_to(q).set_color(BLUE if step == steps else RED)
                     for d, q in zip(dots, points)]
            self.play(*moves, FadeOut(title), FadeIn(label), run_time=2.4)  # one step
            title = label
        self.play(FadeOut(title), FadeIn(caption("Back to the grid")), run_time=0.8)
        self.wait(2.0)


class Recap(TimedScene):
    """Both directions in one picture, one beat each: the grid, the noise, the way back."""

    BEATS = (Beat("grid", 2.0, 1.0), Beat("noise", 2.5, 1.0), Beat("back", 2.5, 1.0))

    def construct(self) -> None:
        clean = dots_at(grid_points(0.5), BLUE, radius=0.035).shift(3 * LEFT)
        cloud_points = grid_points(0.5) + noise_like(grid_points(0.5), 0.5)
        cloud = dots_at(cloud_points, RED, radius=0.035).shift(3 * RIGHT)
        with self.beat("grid") as b:
            self.play(FadeIn(clean), FadeIn(caption("data").next_to(clean, DOWN)),
                      run_time=b.frac(0.5))
        with self.beat("noise") as b:
            forward = Arrow(1.6 * LEFT, 1.6 * RIGHT, color=GREY_B)
            self.play(GrowArrow(forward), run_time=b.frac(0.4))
            self.play(FadeIn(cloud), FadeIn(caption("noise").next_to(cloud, DOWN)),
                      run_time=b.frac(0.4))
        with self.beat("back") as b:
            back = CurvedArrow(2 * RIGHT + 1.6 * UP, 2 * LEFT + 1.6 * UP, color=BLUE)
            words = Text("learned, step by step", font_size=26).next_to(back, UP)
            self.play(FadeIn(back), FadeIn(words), run_time=b.frac(0.5))
