"""The 11 x 11 dot grid carried into noise and back (families 1 and 2).

Every position comes from ``diffusion``: the forward scene plays one seeded chain of
``q_step`` s (``forward_trajectory``), the reverse scene real DDPM sampling with the
optimal denoiser for the grid (``reverse_trajectory``). Every step is recorded and
the dots follow the sampled path: each frame shows a recorded state (or a point
between two consecutive ones). When a beat has fewer frames than steps, the states
drawn are chosen by ``diffusion.keyframes`` so that the drawn path stays within a
dot radius of the sampled one as far as the frames allow; ``self.path_error`` is the
distance reached (scene units). Dots are coloured by their noise share
``sqrt(1 - alpha_bar_t)``: blue (``theme.DATA``) when clean, red (``theme.NOISE``)
when pure noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Circle,
    Create,
    DashedVMobject,
    DecimalNumber,
    Dot,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    Integer,
    LaggedStart,
    Line,
    ManimColor,
    MathTex,
    Rectangle,
    ReplacementTransform,
    RoundedRectangle,
    Square,
    Text,
    Transform,
    UpdateFromAlphaFunc,
    ValueTracker,
    VGroup,
    Write,
    always_redraw,
    interpolate_color,
    linear,
    smooth,
    there_and_back,
)

from diffusion.forward import make_generator
from diffusion.grid import dot_grid, grid_spacing
from diffusion.schedule import NoiseSchedule
from diffusion.trajectories import (
    Trajectory,
    forward_trajectory,
    grid_coverage,
    keyframes,
    path_deviation,
    reverse_trajectory,
)
from scenes import catalog, theme
from scenes.base import BeatClock, TimedScene
from scenes.layout import split_frames, wrap_words
from scenes.readouts import follow

# --- geometry (scene units) --------------------------------------------------
PANEL_CENTER = np.array([-3.3, -0.45, 0.0])
PANEL_HALF = 3.0  # half side of the square plot panel
DATA_LIMIT = 4.0  # data units from the origin to the panel edge (4 sigma of N(0, I))
COLUMN_X = 3.75  # centre of the readout column on the right

_REVERSE_DEFAULTS = catalog.spec("ReverseDotGrid").defaults()
DEFAULT_T: int = _REVERSE_DEFAULTS["T"]
DEFAULT_SAMPLES: int = _REVERSE_DEFAULTS["n_samples"]  # three per grid point: the grid fills in
ON_DATA_SHARE = 0.9  # "new samples from the data" needs this share on a grid point


# --- pure helpers ---------------------------------------------------------------
def to_scene(
    points: np.ndarray,
    center: np.ndarray = PANEL_CENTER,
    half: float = PANEL_HALF,
    limit: float = DATA_LIMIT,
) -> np.ndarray:
    """Data points ``[N, 2]`` as scene points ``[N, 3]`` inside the plot panel.

    Points beyond ``limit`` data units (rarer than 1 in 15,000 for N(0, I)) are
    clamped to the panel edge so that nothing leaves the panel.
    """
    p = np.clip(np.asarray(points, dtype=float)[:, :2], -limit, limit) * (half / limit)
    out = np.zeros((p.shape[0], 3))
    out[:, :2] = p
    return out + np.asarray(center, dtype=float)


def noise_share(schedule: NoiseSchedule, t: int | None) -> float:
    """``sqrt(1 - alpha_bar_t)``: the noise share of x_t (0 for clean data, ``t=None``)."""
    if t is None:
        return 0.0
    return float(np.sqrt(1.0 - schedule.alpha_bar(t)))


def dot_colour(share: float) -> ManimColor:
    """Blue (clean) to red (pure noise) by noise share in [0, 1]."""
    return interpolate_color(theme.DATA, theme.NOISE, float(np.clip(share, 0.0, 1.0)))


def scene_path(states: Sequence[np.ndarray]) -> np.ndarray:
    """Recorded states (data units, each ``[N, 2]``) as scene points ``[S, N, 2]``."""
    return np.stack([to_scene(p)[:, :2] for p in states])


def step_budget(clock: BeatClock, used: float) -> int:
    """Whole frames of a beat left after a play of ``used`` seconds, less one frame of slack."""
    return int(clock.duration * clock.fps) - clock.frames(used) - 1


# --- mobject builders ---------------------------------------------------------
def label(text: str, size: int = theme.SIZE_SMALL, colour: ManimColor = theme.FG) -> Text:
    return Text(text, font=theme.FONT, font_size=size, color=colour)


def plot_panel() -> VGroup:
    """A faint square panel with the data axes through its centre."""
    box = Square(side_length=2 * PANEL_HALF, color=theme.MUTED, stroke_width=theme.STROKE_THIN)
    box.set_stroke(opacity=0.5).move_to(PANEL_CENTER)
    h = Line(box.get_left(), box.get_right(), color=theme.MUTED, stroke_width=1).set_opacity(0.3)
    v = Line(box.get_bottom(), box.get_top(), color=theme.MUTED, stroke_width=1).set_opacity(0.3)
    return VGroup(box, h, v)


def make_dots(positions: np.ndarray, colour: ManimColor) -> VGroup:
    return VGroup(*(Dot(p, radius=theme.DOT_RADIUS, color=colour) for p in to_scene(positions)))


def move_to_points(dots: VGroup, end: np.ndarray, colour: ManimColor) -> UpdateFromAlphaFunc:
    """Move every dot in a straight line to ``end`` (scene points) while recolouring."""
    start = np.array([d.get_center() for d in dots])
    c0 = dots[0].get_color()

    def update(group: VGroup, alpha: float) -> None:
        pts = start + (end - start) * alpha
        for d, p in zip(group, pts, strict=True):
            d.move_to(p)
        group.set_color(interpolate_color(c0, colour, alpha))

    return UpdateFromAlphaFunc(dots, update, rate_func=smooth)


def sigma_rings() -> VGroup:
    """Dashed circles at 1 and 2 standard deviations of N(0, I), with labels."""
    rings = VGroup()
    for k in (1, 2):
        circle = Circle(radius=k * PANEL_HALF / DATA_LIMIT, color=theme.FG, stroke_width=2)
        ring = DashedVMobject(circle.move_to(PANEL_CENTER), num_dashes=24 * k)
        tag = MathTex(rf"{k}\sigma", font_size=theme.SIZE_BODY, color=theme.FG)
        tag.move_to(PANEL_CENTER + (k * PANEL_HALF / DATA_LIMIT + 0.3) * np.array([0.72, 0.72, 0]))
        rings.add(VGroup(ring, tag))
    return rings


def time_track(T: int, width: float = 4.0) -> tuple[VGroup, Line]:
    """A thin line from t = 0 to t = T - 1 with end labels; returns (group, line)."""
    line = Line(LEFT * width / 2, RIGHT * width / 2, color=theme.MUTED, stroke_width=3)
    lo = label("0", theme.SIZE_SMALL, theme.MUTED).next_to(line, LEFT, buff=0.25)
    hi = label(str(T - 1), theme.SIZE_SMALL, theme.MUTED).next_to(line, RIGHT, buff=0.25)
    return VGroup(line, lo, hi), line


def signal_bar(alpha_bar: float, width: float = 4.0, height: float = 0.3) -> VGroup:
    """A bar split into signal (alpha_bar, blue) and noise (1 - alpha_bar, red)."""
    a = float(np.clip(alpha_bar, 0.0, 1.0))
    sig = Rectangle(width=max(a * width, 1e-3), height=height, stroke_width=0)
    sig.set_fill(theme.DATA, opacity=1.0)
    noi = Rectangle(width=max((1 - a) * width, 1e-3), height=height, stroke_width=0)
    noi.set_fill(theme.NOISE, opacity=1.0)
    sig.move_to(LEFT * width / 2, aligned_edge=LEFT)
    noi.move_to(RIGHT * width / 2, aligned_edge=RIGHT)
    return VGroup(sig, noi)


def network_box() -> VGroup:
    """A rounded box holding a small fully connected network drawing."""
    box = RoundedRectangle(
        width=3.4, height=2.0, corner_radius=0.2, color=theme.FG, stroke_width=theme.STROKE_THIN
    )
    box.set_fill(theme.PANEL, opacity=1.0)
    layers = [3, 5, 5, 3]
    xs = np.linspace(-1.2, 1.2, len(layers))
    nodes = [
        [np.array([x, y, 0.0]) for y in np.linspace(-0.18 * (n - 1), 0.18 * (n - 1), n)]
        for x, n in zip(xs, layers, strict=True)
    ]
    edges = VGroup(
        *(
            Line(a, b, stroke_width=1, color=theme.MUTED).set_opacity(0.6)
            for left, right in zip(nodes, nodes[1:], strict=False)
            for a in left
            for b in right
        )
    )
    circles = VGroup(
        *(
            Circle(radius=0.09, color=theme.FG, stroke_width=2)
            .set_fill(theme.BG, opacity=1.0)
            .move_to(p)
            for layer in nodes
            for p in layer
        )
    )
    return VGroup(box, edges, circles)


def reveal_dots(dots: VGroup) -> LaggedStart:
    return LaggedStart(*(GrowFromCenter(d) for d in dots), lag_ratio=0.01)


def grid_run(
    params: dict[str, Any], seed: int, sampler: Callable[..., Trajectory], **kwargs: Any
) -> tuple[NoiseSchedule, torch.Tensor, Trajectory]:
    """The display schedule, the grid and one seeded run of ``sampler``, every step recorded."""
    T = int(params["T"])
    if not 2 <= T <= 5000:
        raise ValueError(f"T must be an integer in [2, 5000], got {params['T']!r}")
    schedule = NoiseSchedule.linear_scaled(T)
    points = dot_grid()
    generator = make_generator(seed, device="cpu")
    traj = sampler(points, schedule, range(T), generator=generator, **kwargs)
    return schedule, points, traj


def play_path(
    scene: TimedScene,
    clock: BeatClock,
    dots: VGroup,
    path: np.ndarray,
    labels: Sequence[int],
    schedule: NoiseSchedule,
    t_value: ValueTracker,
    frames: int,
    extra: Callable[[], Sequence[Any]] = lambda: (),
) -> tuple[list[int], float]:
    """Play ``dots`` along ``path`` (``[S, N, 2]`` scene units) in ``frames`` frames.

    ``labels[i]`` is the step t of state i (for the counter and the colour). Frames are
    shared among the drawn segments in proportion to the steps each spans, so time runs
    evenly; within a segment the dots move in a straight line. Returns the drawn state
    indices and the largest distance of the sampled path from the drawn one.
    """
    keep = keyframes(path, theme.DOT_RADIUS, frames)
    shares = split_frames(frames, [float(b - a) for a, b in zip(keep, keep[1:])])
    z = np.zeros((path.shape[1], 1))
    for b, f in zip(keep[1:], shares, strict=True):
        t = labels[b]
        scene.play(
            move_to_points(dots, np.hstack([path[b], z]), dot_colour(noise_share(schedule, t))),
            t_value.animate.set_value(t),
            *extra(),
            run_time=clock.secs(f / scene.fps),
            rate_func=linear,
        )
    return keep, path_deviation(path, keep)


# --- scenes ----------------------------------------------------------------------
class ForwardDotGrid(TimedScene):
    """The clean grid is noised step by step until it is pure Gaussian noise."""

    SPEC = catalog.spec("ForwardDotGrid")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        schedule, points, traj = grid_run(self.params, self.seed, forward_trajectory)
        assert traj.clean is not None
        path = scene_path([traj.clean, *traj.positions])
        labels = [0, *traj.steps]  # the clean grid shows t = 0 until step 0 has run

        # Beat: the clean grid
        with self.beat("grid") as b:
            title = label("Forward process: data becomes noise", theme.SIZE_HEADING)
            title.to_edge(UP, buff=theme.MARGIN)
            panel = plot_panel()
            dots = make_dots(traj.clean, dot_colour(0.0))
            caption = label(f"clean data: {len(dots)} points", theme.SIZE_BODY, theme.MUTED)
            caption.move_to([COLUMN_X, -2.9, 0])
            self.play(Write(title), Create(panel), run_time=b.frac(0.3))
            self.play(reveal_dots(dots), FadeIn(caption), run_time=b.frac(0.4))

        # Beat: noising, one display step at a time
        with self.beat("noising") as b:
            t_value = ValueTracker(traj.steps[0])
            readout = self.readout_column(schedule, t_value)
            doing = label("adding noise, step by step", theme.SIZE_BODY, theme.MUTED)
            self.play(
                FadeIn(readout["group"]),
                Transform(caption, doing.move_to(caption)),
                run_time=b.frac(0.08),
            )
            budget = step_budget(b, 0.08 * b.duration)
            self.drawn, self.path_error = play_path(
                self, b, dots, path, labels, schedule, t_value, budget
            )
            self.path, self.dots = path, dots

        # Beat: pure Gaussian noise
        with self.beat("noise") as b:
            end = label("pure Gaussian noise", theme.SIZE_BODY, theme.NOISE).move_to(caption)
            rings = sigma_rings()
            self.play(Transform(caption, end), Create(rings), run_time=b.frac(0.4))

    def readout_column(self, schedule: NoiseSchedule, t_value: ValueTracker) -> dict[str, Any]:
        """t counter, its track, the alpha-bar readout, signal bar and closed form."""

        def current_t() -> int:
            return int(round(t_value.get_value()))

        t_label = MathTex("t =", font_size=theme.SIZE_HEADING, color=theme.FG)
        t_num = Integer(current_t(), font_size=theme.SIZE_HEADING, color=theme.ACCENT)
        t_row = VGroup(t_label, t_num).arrange(RIGHT, buff=0.2)
        t_row.move_to([COLUMN_X, 2.35, 0])
        follow(t_num, current_t)

        track, line = time_track(schedule.T)
        track.move_to([COLUMN_X, 1.6, 0])
        marker = Dot(radius=0.09, color=theme.ACCENT)
        marker.add_updater(
            lambda m: m.move_to(line.point_from_proportion(current_t() / (schedule.T - 1)))
        )

        a_label = MathTex(r"\bar\alpha_t =", font_size=theme.SIZE_HEADING, color=theme.FG)
        a_num = DecimalNumber(
            schedule.alpha_bar(current_t()),
            num_decimal_places=3,
            font_size=theme.SIZE_HEADING,
            color=theme.ACCENT,
        )
        a_row = VGroup(a_label, a_num).arrange(RIGHT, buff=0.2)
        a_row.move_to([COLUMN_X, 0.75, 0])
        follow(a_num, lambda: schedule.alpha_bar(current_t()))

        bar_center = np.array([COLUMN_X, 0.0, 0])
        bar = always_redraw(lambda: signal_bar(schedule.alpha_bar(current_t())).move_to(bar_center))
        sig_tag = label("signal", theme.SIZE_SMALL, theme.DATA)
        sig_tag.next_to(bar_center + LEFT * 2.0 + DOWN * 0.15, DOWN, buff=0.12, aligned_edge=LEFT)
        noi_tag = label("noise", theme.SIZE_SMALL, theme.NOISE)
        noi_tag.next_to(bar_center + RIGHT * 2.0 + DOWN * 0.15, DOWN, buff=0.12, aligned_edge=RIGHT)

        formula = MathTex(
            r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon",
            font_size=theme.SIZE_BODY + 4,
            color=theme.FG,
        ).move_to([COLUMN_X, -1.45, 0])

        self.readouts = {"t": t_num, "alpha_bar": a_num}
        group = VGroup(t_row, track, marker, a_row, bar, sig_tag, noi_tag, formula)
        return {"group": group, "t": t_num, "alpha_bar": a_num}


class ReverseDotGrid(TimedScene):
    """Pure noise is denoised step by step, by the optimal denoiser, back onto the grid."""

    SPEC = catalog.spec("ReverseDotGrid")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        n = self.params["n_samples"]  # range-checked by the catalog's model
        schedule, points, traj = grid_run(self.params, self.seed, reverse_trajectory, n=n)
        assert traj.final is not None
        path = scene_path([*traj.positions, traj.final])
        labels = [*traj.steps, 0]  # after the step at t = 0 the counter stays at 0
        box_center = np.array([COLUMN_X, 0.9, 0])

        # Beat: start from noise
        with self.beat("noise") as b:
            title = label("Reverse process: noise becomes data", theme.SIZE_HEADING)
            title.to_edge(UP, buff=theme.MARGIN)
            panel = plot_panel()
            dots = make_dots(traj.positions[0], dot_colour(noise_share(schedule, traj.steps[0])))
            caption = label(
                f"start: {len(dots)} samples of N(0, I)", theme.SIZE_BODY, theme.MUTED
            ).move_to([COLUMN_X, -2.9, 0])
            self.play(Write(title), Create(panel), run_time=b.frac(0.3))
            self.play(reveal_dots(dots), FadeIn(caption), run_time=b.frac(0.4))

        # Beat: the network that predicts the noise
        with self.beat("network") as b:
            net = network_box().move_to(box_center)
            name = label("neural network", theme.SIZE_BODY).next_to(net, UP, buff=0.2)
            eps = MathTex(
                r"\epsilon_\theta(x_t,\,t)", font_size=theme.SIZE_BODY + 4, color=theme.ACCENT
            ).next_to(net, DOWN, buff=0.2)
            honest = label(
                wrap_words("here: the exact optimal denoiser for this grid", 30),
                theme.SIZE_SMALL,
                theme.MUTED,
            ).next_to(eps, DOWN, buff=0.2)
            edge_x = PANEL_CENTER[0] + PANEL_HALF + 0.15
            into = Arrow(
                [edge_x, box_center[1] + 0.45, 0],
                net.get_left() + UP * 0.45,
                buff=0.05,
                color=theme.FG,
                stroke_width=theme.STROKE,
            )
            back = Arrow(
                net.get_left() + DOWN * 0.45,
                [edge_x, box_center[1] - 0.45, 0],
                buff=0.05,
                color=theme.FG,
                stroke_width=theme.STROKE,
            )
            x_in = MathTex("x_t", font_size=theme.SIZE_HEADING, color=theme.FG).next_to(
                into, UP, buff=0.08
            )
            x_out = MathTex("x_{t-1}", font_size=theme.SIZE_HEADING, color=theme.FG).next_to(
                back, DOWN, buff=0.08
            )
            self.play(FadeIn(net), FadeIn(name), run_time=b.frac(0.3))
            self.play(
                Create(into),
                Create(back),
                FadeIn(x_in),
                FadeIn(x_out),
                FadeIn(eps),
                FadeIn(honest),
                run_time=b.frac(0.35),
            )

        # Beat: denoising, one display step at a time
        with self.beat("denoising") as b:
            t_value = ValueTracker(traj.steps[0])
            t_label = MathTex("t =", font_size=theme.SIZE_HEADING, color=theme.FG)
            t_num = Integer(traj.steps[0], font_size=theme.SIZE_HEADING, color=theme.ACCENT)
            t_row = VGroup(t_label, t_num).arrange(RIGHT, buff=0.2).move_to([COLUMN_X, -2.1, 0])
            follow(t_num, lambda: int(round(t_value.get_value())))
            self.readouts = {"t": t_num}
            doing = label("denoising, step by step", theme.SIZE_BODY, theme.MUTED)
            self.play(
                FadeIn(t_row), Transform(caption, doing.move_to(caption)), run_time=b.frac(0.06)
            )
            budget = step_budget(b, 0.06 * b.duration)
            box = net[0]

            def glow() -> list[UpdateFromAlphaFunc]:
                return [
                    UpdateFromAlphaFunc(
                        box,
                        lambda m, a: m.set_stroke(
                            interpolate_color(theme.FG, theme.ACCENT, there_and_back(a)), width=4
                        ).set_fill(
                            interpolate_color(theme.PANEL, theme.ACCENT, 0.45 * there_and_back(a)),
                            opacity=1.0,
                        ),
                    )
                ]

            self.drawn, self.path_error = play_path(
                self, b, dots, path, labels, schedule, t_value, budget, glow
            )
            self.path = path

        # Beat: new samples from the data distribution, and how much of it they cover
        with self.beat("data") as b:
            cover = grid_coverage(traj.final, points.numpy(), grid_spacing() / 4, ON_DATA_SHARE)
            self.coverage = cover
            rings = VGroup(
                *(
                    Circle(radius=2.2 * theme.DOT_RADIUS, stroke_width=1.5)
                    .set_stroke(theme.FG, opacity=0.7)
                    .set_fill(opacity=0.0)
                    .move_to(p)
                    for p in to_scene(points.numpy())
                )
            )
            if cover.on_data:
                end = label("new samples from the data distribution", theme.SIZE_SMALL, theme.GOOD)
            else:
                end = label("the samples have not reached the data", theme.SIZE_SMALL, theme.NOISE)
            end.move_to([COLUMN_X, -2.1, 0])
            stat = label(
                wrap_words(
                    f"{cover.n_close} of {cover.n_samples} samples lie within {cover.tol:.1f} "
                    f"of a grid point; {cover.n_reached} of {cover.n_points} grid points reached",
                    30,
                ),
                theme.SIZE_SMALL,
                theme.MUTED,
            ).next_to(end, DOWN, buff=0.2)
            self.play(ReplacementTransform(caption, end), FadeOut(t_row), run_time=b.frac(0.25))
            self.play(Create(rings), FadeIn(stat), run_time=b.frac(0.35))
