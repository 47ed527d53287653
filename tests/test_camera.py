"""The render child's camera draws exactly the pixels manim's own Cairo camera draws.

``pipeline.camera.BatchedCamera`` only changes how much Python runs per shape, so every
test here draws the same mobjects through both cameras and compares them bit for bit:
text, LaTeX, syntax-highlighted code, strokes, partial opacity, a gradient, sheen,
background strokes, dashes, shapes without points, a shape with a NaN point and one
whose point count is not a whole number of cubics.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from manim import (
    BLUE,
    DOWN,
    GREEN,
    GREY,
    LEFT,
    ORANGE,
    PURPLE,
    RED,
    RIGHT,
    UP,
    UR,
    WHITE,
    YELLOW,
    Circle,
    Code,
    DashedLine,
    Dot,
    Group,
    Line,
    MathTex,
    Rectangle,
    Square,
    Text,
    Triangle,
    VGroup,
    VMobject,
    tempconfig,
)
from manim.camera.camera import Camera

from scenes.camera import BatchedCamera


@pytest.fixture(autouse=True)
def small_frame(tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with tempconfig({"pixel_width": 480, "pixel_height": 270, "media_dir": str(tmp_path)}):
        yield


def varied() -> list:
    title = Text("Forward process: q(x_t | x_0)", font_size=36).to_edge(UP)
    formula = MathTex(r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon",
                      color=YELLOW).shift(UP)
    ring = Circle(radius=1.2, color=BLUE, fill_opacity=0.5, stroke_width=6).shift(LEFT * 3)
    gradient = Square(2).set_fill(opacity=1).set_color_by_gradient(RED, GREEN)
    sheen = Square(1.5, fill_opacity=0.7, fill_color=PURPLE).set_sheen(0.4, UR)
    sheen.shift(RIGHT * 3 + DOWN * 2)
    line = Line(LEFT * 5 + DOWN * 3, RIGHT * 5 + DOWN * 2.5, stroke_width=4)
    dashed = DashedLine(LEFT * 5 + DOWN * 3.3, RIGHT * 5 + DOWN * 3.3)
    upright = Line(LEFT * 4.5 + DOWN, LEFT * 4.5 + UP * 2, stroke_width=12)  # open, x == x
    empty = VMobject(fill_opacity=1, fill_color=RED)  # no points: no path of its own
    broken = Square().set_fill(GREEN, 1).shift(RIGHT * 4 + UP * 2)
    broken.points[2, 0] = np.nan  # manim draws nothing for it
    partial = VMobject(fill_opacity=1, fill_color=ORANGE, stroke_width=2)
    partial.set_points(np.vstack([Triangle().points, [[0.1, 0.2, 0], [0.3, 0.1, 0]]]))
    dots = VGroup(*(Dot([x * 0.3, -1 + 0.1 * x, 0], radius=0.08) for x in range(-10, 10)))
    card = Rectangle(width=3, height=1, stroke_width=0).set_fill(GREY, 1).shift(UP * 1.5)
    card.set_background_stroke(width=8, color=WHITE)
    code = Code(code_string="def f(x):\n    return x ** 2  # square", language="python")
    return [card, title, formula, ring, gradient, sheen, line, dashed, upright, empty, broken,
            partial, dots, code.scale(0.6).shift(DOWN)]


def draw(camera: Camera, mobjects: list) -> np.ndarray:
    camera.reset()
    camera.capture_mobjects(mobjects)
    return camera.pixel_array.copy()


def test_same_pixels_as_manims_camera() -> None:
    mobjects = varied()
    ours = draw(BatchedCamera(), mobjects)
    theirs = draw(Camera(), mobjects)
    assert (ours[..., :3].max(axis=-1) > 0).mean() > 0.15  # a real picture, not black
    assert np.array_equal(ours, theirs)


def test_same_pixels_after_moving_and_recolouring() -> None:
    """The batch is rebuilt every frame: shapes that move, change colour, lose or gain
    points between frames are drawn where and how manim draws them."""
    mobjects = varied()
    ours, theirs = BatchedCamera(), Camera()
    for step in range(3):
        mobjects[3].shift(RIGHT * 0.4 * step).set_fill(opacity=0.2 * step)
        mobjects[12].set_color(ORANGE if step % 2 else WHITE)
        mobjects[2][0][step].set_points(np.zeros((0, 3)))  # a glyph vanishes
        assert np.array_equal(draw(ours, mobjects), draw(theirs, mobjects)), step


def test_same_display_list() -> None:
    """The family walk: shared members (kept at their last place), nested groups,
    z-index order and a mobject reachable from two parents."""
    m = varied()
    shared = m[3]
    back = Square().set_z_index(-1)
    front = Dot().set_z_index(2)
    world = [VGroup(m[1], VGroup(shared, m[2]), shared, back), m[4], shared,
             Group(m[5], m[13]), VGroup(front, m[12])]
    for use_z in (True, False):
        ours, theirs = BatchedCamera(), Camera()
        ours.use_z_index = theirs.use_z_index = use_z
        assert ours.get_mobjects_to_display(world) == theirs.get_mobjects_to_display(world)
        assert ours.get_mobjects_to_display(world, excluded_mobjects=[m[2]]) == \
            theirs.get_mobjects_to_display(world, excluded_mobjects=[m[2]])


def test_closure_test_is_manims() -> None:
    """Whether a subpath is closed decides a join or two caps on its stroke; the fast
    comparison must agree with manim's ``consider_points_equals_2d`` everywhere,
    including just inside and just outside its tolerance."""
    from scenes.camera import _close_2d

    vm = VMobject()
    rng = np.random.default_rng(0)
    base = rng.normal(size=(400, 2)) * 3
    nudges = np.array([0.0, 5e-7, 9.99e-7, 1.01e-6, 2e-6, 1e-3])
    for p in base:
        for dx in nudges:
            for dy in nudges[::-1]:
                q = p + np.array([dx, dy]) * rng.choice([-1, 1], size=2)
                xy = [float(p[0]), float(p[1]), float(q[0]), float(q[1])]
                assert _close_2d(xy, 0, 1, vm.tolerance_for_point_equality) == \
                    vm.consider_points_equals_2d(p, q), (p, q)
