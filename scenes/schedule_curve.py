"""How much signal is left at step t: the alpha-bar curve of the linear and cosine schedules.

Every curve point, readout and crossing comes from ``diffusion.schedule.NoiseSchedule``.
With ``show_cosine`` false the last beat summarises the linear curve instead of
drawing the cosine one, so the beat list (the timing contract) is the same either way.
"""

from __future__ import annotations

import numpy as np
from manim import (
    DL,
    DOWN,
    LEFT,
    RIGHT,
    UL,
    UP,
    UR,
    Axes,
    Create,
    DashedLine,
    DecimalNumber,
    Dot,
    FadeIn,
    Integer,
    Line,
    ManimColor,
    MathTex,
    Text,
    ValueTracker,
    VGroup,
    VMobject,
    Write,
    linear,
    smooth,
)

from diffusion.schedule import NoiseSchedule
from scenes import catalog, theme
from scenes.base import TimedScene
from scenes.layout import wrap_words
from scenes.readouts import follow

AXES_CENTER = np.array([-2.0, -0.55, 0.0])
COLUMN_X = 4.75  # centre of the readout column
COLUMN_WRAP = 24  # characters per line in the right column
HALF = 0.5  # the level whose crossing is marked
NBSP = "\u00a0"  # keeps "t = 259" on one line when wrapping


# --- pure helpers ---------------------------------------------------------------
def curve_samples(alpha_bars: np.ndarray, every: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """``(t, alpha_bar_t)`` every ``every`` steps, always including the last step."""
    T = len(alpha_bars)
    ts = np.unique(np.append(np.arange(0, T, every), T - 1))
    return ts.astype(float), np.asarray(alpha_bars, dtype=float)[ts]


def tick_step(T: int) -> int:
    """A round x-axis tick spacing giving 4-6 ticks over ``0..T``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if T / step <= 5:
            return step
    return 10 ** int(np.ceil(np.log10(T)))


def clamp_t(value: float, T: int) -> int:
    """A tracker value as a valid integer step ``0..T-1``."""
    return int(np.clip(round(value), 0, T - 1))


def short_sci(x: float) -> str:
    """``4.0e-05`` style for tiny values, fixed three decimals otherwise."""
    return f"{x:.1e}" if abs(x) < 1e-3 and x != 0 else f"{x:.3f}"


# --- builders ---------------------------------------------------------------------
def label(text: str, size: int = theme.SIZE_SMALL, colour: ManimColor = theme.FG) -> Text:
    return Text(text, font=theme.FONT, font_size=size, color=colour)


def make_axes(T: int) -> Axes:
    axes = Axes(
        x_range=[0, T, tick_step(T)],
        y_range=[0, 1, 0.25],
        x_length=8.6,
        y_length=5.0,
        tips=False,
        axis_config={"color": theme.MUTED, "stroke_width": theme.STROKE_THIN},
        x_axis_config={
            "numbers_to_include": list(range(0, T + 1, tick_step(T))),
            "decimal_number_config": {"num_decimal_places": 0, "group_with_commas": False},
        },
        y_axis_config={
            "numbers_to_include": [0, 0.5, 1],
            "decimal_number_config": {"num_decimal_places": 1},
        },
    )
    axes.move_to(AXES_CENTER)
    for number in axes.x_axis.numbers + axes.y_axis.numbers:
        number.set_color(theme.MUTED)
    return axes


def schedule_curve(axes: Axes, schedule: NoiseSchedule, colour: ManimColor) -> VMobject:
    ts, ys = curve_samples(schedule.numpy("alpha_bars"))
    curve = VMobject(color=colour, stroke_width=theme.STROKE)
    curve.set_points_as_corners([axes.c2p(t, y) for t, y in zip(ts, ys, strict=True)])
    return curve


def crossing_marker(
    axes: Axes, t: int, colour: ManimColor, corner: np.ndarray
) -> tuple[VGroup, Integer]:
    """A dot where the curve crosses one half, a drop line to the axis and a ``t = n`` tag.

    ``corner`` (``UR`` or ``DL``) says on which side of the crossing the tag sits.
    """
    point = axes.c2p(t, HALF)
    drop = DashedLine(axes.c2p(t, 0), point, color=colour, stroke_width=theme.STROKE_THIN)
    dot = Dot(point, radius=0.08, color=colour)
    num = Integer(t, font_size=theme.SIZE_BODY + 6, color=colour)
    tag = VGroup(MathTex("t =", font_size=theme.SIZE_BODY + 6, color=colour), num)
    tag.arrange(RIGHT, buff=0.12)
    tag.next_to(point, corner, buff=0.15)
    return VGroup(drop, dot, tag), num


def legend(entries: list[tuple[str, ManimColor]]) -> VGroup:
    rows = VGroup(
        *(
            VGroup(
                Line(LEFT * 0.3, RIGHT * 0.3, color=colour, stroke_width=theme.STROKE),
                label(name, theme.SIZE_SMALL, colour),
            ).arrange(RIGHT, buff=0.15)
            for name, colour in entries
        )
    )
    return rows.arrange(DOWN, aligned_edge=LEFT, buff=0.15)


def column_text(text: str, colour: ManimColor = theme.FG) -> Text:
    return label(wrap_words(text, COLUMN_WRAP), theme.SIZE_SMALL, colour)


# --- scene ----------------------------------------------------------------------------
class ScheduleCurve(TimedScene):
    """alpha_bar_t of the linear schedule, a live tracker, then the cosine schedule."""

    SPEC = catalog.spec("ScheduleCurve")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        T = int(self.params["T"])
        lin = NoiseSchedule.linear(T)
        cos = NoiseSchedule.cosine(T)
        axes = make_axes(T)

        # Beat: the axes
        with self.beat("axes") as b:
            title = label("How much signal is left after t steps?", theme.SIZE_HEADING)
            title.to_edge(UP, buff=theme.MARGIN)
            x_name = MathTex("t", font_size=theme.SIZE_HEADING, color=theme.FG)
            x_name.next_to(axes.x_axis.get_right(), DOWN + RIGHT, buff=0.15)
            y_name = MathTex(r"\bar\alpha_t", font_size=theme.SIZE_HEADING, color=theme.FG)
            y_name.next_to(axes.y_axis.get_top(), UP, buff=0.2)
            self.play(Write(title), Create(axes), run_time=b.frac(0.5))
            self.play(FadeIn(x_name), FadeIn(y_name), run_time=b.frac(0.2))

        # Beat: the linear curve and the one-half line
        with self.beat("linear") as b:
            curve = schedule_curve(axes, lin, theme.LINEAR)
            half = DashedLine(
                axes.c2p(0, HALF),
                axes.c2p(T, HALF),
                color=theme.MUTED,
                stroke_width=theme.STROKE_THIN,
            )
            half_tag = label("half the signal", theme.SIZE_SMALL, theme.MUTED)
            half_tag.next_to(axes.c2p(T, HALF), UL, buff=0.1)
            self.play(Create(curve), run_time=b.frac(0.55), rate_func=smooth)
            self.play(Create(half), FadeIn(half_tag), run_time=b.frac(0.2))

        # Beat: a tracker runs down the curve with live readouts
        with self.beat("tracker") as b:
            t_value = ValueTracker(0)

            def now() -> int:
                return clamp_t(t_value.get_value(), T)

            dot = Dot(radius=0.1, color=theme.ACCENT)
            dot.add_updater(lambda m: m.move_to(axes.c2p(now(), lin.alpha_bar(now()))))
            drop = Line(color=theme.ACCENT, stroke_width=theme.STROKE_THIN)
            drop.add_updater(
                lambda m: m.put_start_and_end_on(
                    axes.c2p(now(), 0), axes.c2p(now(), max(lin.alpha_bar(now()), 1e-3))
                )
            )
            t_num = Integer(0, font_size=theme.SIZE_HEADING, color=theme.ACCENT)
            t_row = VGroup(MathTex("t =", font_size=theme.SIZE_HEADING, color=theme.FG), t_num)
            t_row.arrange(RIGHT, buff=0.2).move_to([COLUMN_X, 2.2, 0])
            follow(t_num, now)
            a_num = DecimalNumber(
                lin.alpha_bar(0),
                num_decimal_places=3,
                font_size=theme.SIZE_HEADING,
                color=theme.ACCENT,
            )
            a_row = VGroup(
                MathTex(r"\bar\alpha_t =", font_size=theme.SIZE_HEADING, color=theme.FG), a_num
            )
            a_row.arrange(RIGHT, buff=0.2).move_to([COLUMN_X, 1.4, 0])
            follow(a_num, lambda: lin.alpha_bar(now()))
            self.readouts = {"t": t_num, "alpha_bar": a_num}
            lin_half = lin.first_below(HALF)

            dot.update()
            drop.update()
            self.play(FadeIn(dot), FadeIn(drop), FadeIn(t_row), FadeIn(a_row), run_time=b.frac(0.1))
            self.play(t_value.animate.set_value(T - 1), run_time=b.frac(0.5), rate_func=linear)
            self.play(t_value.animate.set_value(lin_half), run_time=b.frac(0.25), rate_func=smooth)

        # Beat: where half the signal is gone (cosine vs linear, or a linear summary)
        with self.beat("halfway") as b:
            lin_mark, lin_num = crossing_marker(axes, lin_half, theme.LINEAR, DL)
            self.readouts["linear_half"] = lin_num
            if self.params["show_cosine"]:
                cos_half = cos.first_below(HALF)
                cos_curve = schedule_curve(axes, cos, theme.COSINE)
                cos_mark, cos_num = crossing_marker(axes, cos_half, theme.COSINE, UR)
                self.readouts["cosine_half"] = cos_num
                key = legend([("linear", theme.LINEAR), ("cosine", theme.COSINE)])
                key.next_to(axes.c2p(T, 1), DL, buff=0.1)
                note = column_text(
                    f"The cosine schedule keeps half the signal until t{NBSP}={NBSP}{cos_half}, "
                    f"the linear one only until t{NBSP}={NBSP}{lin_half}.",
                ).move_to([COLUMN_X, -0.6, 0])
                self.play(Create(cos_curve), FadeIn(key), run_time=b.frac(0.4))
                self.play(FadeIn(lin_mark), FadeIn(cos_mark), FadeIn(note), run_time=b.frac(0.3))
            else:
                last = lin.alpha_bar(T - 1)
                note = column_text(
                    f"Half the signal is gone after {lin_half} of {T} steps; "
                    f"at t{NBSP}={NBSP}{T - 1} only {short_sci(last)} of it is left.",
                ).move_to([COLUMN_X, -0.6, 0])
                self.play(FadeIn(lin_mark), run_time=b.frac(0.3))
                self.play(FadeIn(note), run_time=b.frac(0.3))
