"""The render child's camera draws exactly the pixels manim's own Cairo camera draws.

``scenes.camera.BatchedCamera`` only changes how much Python runs per shape, so every
test here draws the same mobjects through both cameras and compares the pixel arrays for
exact equality:

* a mixed scene (text, LaTeX, syntax-highlighted code, partial opacity, a gradient,
  sheen, background strokes, dashes, shapes without points, a shape with a NaN point,
  one whose point count is not a whole number of cubics), also changing between frames;
* one frame per kind of 2D mobject in :data:`KINDS` (polygons, polygrams, regular
  polygons and polygrams, stars, rounded corners, a cutout, manim's ``test_ConvexHull``
  hull in both orientations, arcs, annuli, sectors, circles, ellipses, a Bezier curve,
  dashed lines and ``DashedVMobject``, arrows, Text, MarkupText, MathTex, Tex, images,
  nested groups), the shapes in four stroke/fill/opacity styles, and all of them in one
  frame at the size of manim's graphical tests;
* corners whose points are just inside or just outside manim's tolerance for "the same
  point" (a join or two caps).

Also: the same display list as manim's, the closure test against manim's
``consider_points_equals_2d``, and non-cubic VMobjects refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from manim import (
    BLUE,
    DEGREES,
    DL,
    DOWN,
    GREEN,
    GREY,
    LEFT,
    ORANGE,
    PI,
    PURPLE,
    RED,
    RIGHT,
    TEAL,
    UP,
    UR,
    WHITE,
    YELLOW,
    AnnularSector,
    Annulus,
    Arc,
    ArcBetweenPoints,
    Arrow,
    Circle,
    Code,
    ConvexHull,
    CubicBezier,
    CurvedArrow,
    Cutout,
    DashedLine,
    DashedVMobject,
    Dot,
    DoubleArrow,
    Ellipse,
    Group,
    ImageMobject,
    Line,
    MarkupText,
    MathTex,
    Polygon,
    Polygram,
    Rectangle,
    RegularPolygon,
    RegularPolygram,
    RoundedRectangle,
    Sector,
    Square,
    Star,
    SurroundingRectangle,
    Tex,
    Text,
    Triangle,
    Vector,
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


# ------------------------------------------------------------ one kind per frame
#: The five points of manim's graphical test ``test_ConvexHull``. manim's ``ConvexHull``
#: lists its vertices in an order that follows Python's string hashing, so it runs
#: clockwise in some processes and counterclockwise in others, and Cairo's antialiasing
#: differs between the two: that is not a camera difference. Both orientations are drawn
#: here, whichever one this process builds.
HULL_POINTS = [[-2.7, -0.6, 0], [0.2, -1.7, 0], [1.9, 1.2, 0], [-2.7, 0.9, 0], [1.6, 2.2, 0]]


def styled(make: Callable[[], VMobject]) -> list:
    """Four copies of a shape side by side: manim's default style, a thick translucent
    stroke over a translucent fill, a hairline with no fill, and an opaque gradient fill
    with sheen under a background stroke."""
    plain = make()
    thick = make().set_fill(ORANGE, 0.6).set_stroke(WHITE, 9, 0.5)
    hair = make().set_fill(opacity=0).set_stroke(YELLOW, 0.5, 1)
    shiny = make().set_fill(opacity=1).set_color_by_gradient(RED, BLUE)
    shiny.set_sheen(0.4, UR).set_stroke(TEAL, 3).set_background_stroke(color=WHITE, width=8)
    row = VGroup(plain, thick, hair, shiny).arrange(RIGHT, buff=0.3)
    row.scale_to_fit_width(min(row.width, 13)).move_to(UP * 0.2)
    return [row]


def hulls() -> list:
    hull = ConvexHull(*HULL_POINTS)
    flipped = hull.copy().reverse_points().set_stroke(RED, 6).shift(RIGHT * 0.3)
    return [hull, flipped, ConvexHull(*HULL_POINTS, fill_opacity=0.5, stroke_width=1)
            .scale(0.5).to_corner(DL)]


def image() -> list:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    pic = ImageMobject(rgb).set_resampling_algorithm(0).scale_to_fit_height(2).shift(LEFT * 3)
    faded = ImageMobject(rgb).scale_to_fit_height(3).shift(RIGHT * 2)
    faded.set_opacity(0.5)
    return [pic, Square(2.5, fill_opacity=0.4).shift(RIGHT * 1.5), faded]


def groups() -> list:
    inner = VGroup(Circle(0.5), Square(0.8).set_fill(GREEN, 0.7), Dot(color=RED))
    outer = VGroup(inner.copy().shift(LEFT * 3), VGroup(inner, Triangle().scale(0.6)),
                   Arrow(LEFT, RIGHT).shift(DOWN * 2))
    outer.set_stroke(width=5).set_opacity(0.8)
    label = Text("grouped", font_size=30).next_to(outer, UP)
    return [Group(outer, label, SurroundingRectangle(outer, color=YELLOW))]


KINDS: dict[str, Callable[[], list]] = {
    "polygon": lambda: styled(lambda: Polygon([-1, -1, 0], [1, -0.5, 0], [0.5, 1, 0],
                                              [-0.8, 0.7, 0])),
    "concave polygon": lambda: styled(lambda: Polygon([-1, -1, 0], [1, -1, 0], [0, 0, 0],
                                                      [1, 1, 0], [-1, 1, 0])),
    "polygram": lambda: styled(lambda: Polygram([[0, 1, 0], [-0.9, -0.5, 0], [0.9, -0.5, 0]],
                                                [[-0.9, 0.5, 0], [0, -1, 0], [0.9, 0.5, 0]])),
    "regular polygons": lambda: styled(lambda: RegularPolygon(7)),
    "regular polygram": lambda: styled(lambda: RegularPolygram(7, density=3)),
    "star": lambda: styled(lambda: Star(5, outer_radius=1)),
    "rounded polygon": lambda: styled(lambda: Star(6).round_corners(0.2)),
    "rounded rectangle": lambda: styled(lambda: RoundedRectangle(corner_radius=0.4,
                                                                 width=2, height=1.3)),
    "cutout": lambda: styled(lambda: Cutout(Square(2), Circle(0.5), Triangle().scale(0.3)
                                            .shift(UR * 0.6))),
    "convex hull": hulls,
    "arcs": lambda: styled(lambda: Arc(1, start_angle=PI / 6, angle=4)),
    "arc between points": lambda: styled(lambda: ArcBetweenPoints(LEFT, RIGHT + UP,
                                                                  angle=-PI / 2)),
    "annulus": lambda: styled(lambda: Annulus(0.5, 1)),
    "annular sector": lambda: styled(lambda: AnnularSector(0.4, 1, angle=250 * DEGREES)),
    "sector": lambda: styled(lambda: Sector(radius=1, angle=PI / 3)),
    "circle": lambda: styled(lambda: Circle(1)),
    "ellipse": lambda: styled(lambda: Ellipse(2, 1)),
    "cubic bezier": lambda: styled(lambda: CubicBezier(LEFT, UP * 2, DOWN * 2, RIGHT)),
    "dashed": lambda: [DashedLine(LEFT * 6, RIGHT * 6 + UP, dash_length=0.2),
                       DashedVMobject(Circle(1.5, color=GREEN), num_dashes=21),
                       DashedVMobject(Square(2).set_fill(BLUE, 0.5).shift(RIGHT * 3),
                                      num_dashes=9, dashed_ratio=0.3).set_stroke(width=7)],
    "arrows": lambda: [Arrow(LEFT * 4, RIGHT * 2 + UP), DoubleArrow(DOWN * 3, UP * 2,
                                                                    color=YELLOW),
                       Vector(DL * 2, stroke_width=10), CurvedArrow(RIGHT * 3, RIGHT * 5 + UP,
                                                                    color=RED)],
    "text": lambda: [Text("Noise, then signal", font_size=48).set_color_by_gradient(RED, BLUE),
                     MarkupText('<b>bold</b> and <span fgcolor="yellow">yellow</span>')
                     .shift(DOWN * 1.5),
                     Text("faint", font_size=72, fill_opacity=0.4).shift(UP * 2)
                     .set_stroke(WHITE, 1)],
    "latex": lambda: [MathTex(r"\sum_{t=1}^T \beta_t \int_0^1 f(x)\,dx", font_size=60),
                      Tex(r"Tex: $q(x_t \mid x_0)$", color=GREEN).shift(DOWN * 2)
                      .set_opacity(0.6)],
    "image": image,
    "groups": groups,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_pixels_per_kind(kind: str) -> None:
    mobjects = KINDS[kind]()
    ours = draw(BatchedCamera(), mobjects)
    theirs = draw(Camera(), mobjects)
    assert (ours[..., :3].max(axis=-1) > 0).mean() > 0.003  # something was drawn
    diff = np.abs(ours.astype(int) - theirs.astype(int)).max(axis=-1)
    assert not diff.any(), f"{(diff > 0).sum()} pixels differ, by up to {diff.max()}"


def test_same_pixels_all_kinds_together_at_manims_test_size() -> None:
    """All kinds in one frame (one batch of very different shapes, overlapping) at the
    size of manim's own graphical tests."""
    mobjects = [m for make in KINDS.values() for m in make()]
    with tempconfig({"pixel_width": 854, "pixel_height": 480}):
        ours = draw(BatchedCamera(), mobjects)
        theirs = draw(Camera(), mobjects)
    assert ours.shape == (480, 854, 4)
    assert np.array_equal(ours, theirs)


def near_misses() -> list:
    """Thick-stroked squares whose closing point, or the start of whose second curve, is
    moved off the point it should meet by a fraction of manim's tolerance for "the same
    point" (``atol + 1e-5 * |coordinate|``, atol being a shape's
    ``tolerance_for_point_equality``): inside it a corner is a join, outside it two caps.
    The first row tests the absolute term (the moved coordinate is 0), the second the
    relative one (|x| from 3 to 7); then a shape with its own atol and shapes with two
    points past their last cubic."""
    atol, rtol = VMobject().tolerance_for_point_equality, 1e-5

    def square(center: np.ndarray, color: str) -> VMobject:
        return Square(0.9, stroke_width=24, color=color).move_to(center)

    shapes = []
    for col, f in enumerate([0.0, 0.5, 2.0]):  # y of the top side is 0: the atol term
        closing = square(np.array([-6 + 1.5 * col, -0.45, 0]), WHITE)
        closing.points[-1, 1] += f * atol  # the last point, back at the first
        joint = square(np.array([1.5 * col, -0.45, 0]), YELLOW)
        joint.points[4, 1] += f * atol  # the start of the second curve
        shapes += [closing, joint]
    for col, f in enumerate([0.8, 1.2, 3.0]):  # far from x = 0: the relative term
        closing = square(np.array([3.5 + 1.5 * col, -2.5, 0]), WHITE)
        closing.points[-1, 0] += f * (atol + rtol * abs(closing.points[-1, 0]))
        joint = square(np.array([-6.5 + 1.5 * col, -2.5, 0]), YELLOW)
        joint.points[4, 0] -= f * (atol + rtol * abs(joint.points[4, 0]))
        shapes += [closing, joint]
    own = square(np.array([-3, 2.5, 0]), RED)  # inside its own tolerance only
    own.tolerance_for_point_equality = 1e-3
    own.points[-1, 0] += 5e-4
    own.points[8, 1] += 8e-4
    # A triangle (three cubics, back at its first point) and two more points: if they
    # continue from its end they join its subpath, which then ends away from its start
    # (open: two caps at the top corner); if not, they are a subpath too short to draw
    # and the triangle is closed.
    tri = Triangle().points
    on = VMobject(stroke_width=24, color=GREEN)
    on.set_points(np.vstack([tri, [tri[-1], [0.3, 0.1, 0]]]))
    off = VMobject(stroke_width=24, color=TEAL)
    off.set_points(np.vstack([tri, [[0.1, 0.2, 0], [0.3, 0.1, 0]]]))
    return [*shapes, own, on.shift(UP * 2.2), off.shift(UP * 2.2 + RIGHT * 3)]


def test_same_pixels_at_the_tolerances() -> None:
    mobjects = near_misses()
    ours = draw(BatchedCamera(), mobjects)
    theirs = draw(Camera(), mobjects)
    assert np.array_equal(ours, theirs)


def test_only_cubic_curves() -> None:
    """A VMobject that is not made of cubics is refused, not drawn differently."""
    odd = Square()
    odd.n_points_per_cubic_curve = 3
    with pytest.raises(ValueError, match="only cubic"):
        draw(BatchedCamera(), [Circle(), odd])
