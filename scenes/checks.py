"""Statistics on screen: the closed form checked against the step-by-step chain, and x_T.

Every number comes from ``diffusion.closed_form_check`` / ``diffusion.tensor_stats``
computed in ``construct`` with the scene's seed; readouts are ``DecimalNumber`` s kept
in ``self.readouts`` under readable keys (``"t=100 step mean"``, ``"std"``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Create,
    DecimalNumber,
    FadeIn,
    Group,
    GrowFromEdge,
    MathTex,
    Mobject,
    NumberLine,
    Rectangle,
    VGroup,
    VMobject,
    Write,
)

from diffusion import (
    ClosedFormCheck as CheckResult,
)
from diffusion import (
    closed_form_check,
    make_generator,
    q_sample,
    standard_normal_verdict,
)
from scenes import catalog, theme
from scenes.base import TimedScene
from scenes.images import (
    Tile,
    gray_uint8,
    heading,
    number,
    place_note,
    small_text,
    source_note,
    table,
    trimmed,
)
from scenes.mnist import CPU, load_batch, load_digits, pixel_probe, schedule_named

STEP_COLOR = theme.DATA
CLOSED_COLOR = theme.ACCENT
BAR_OPACITY = 0.45
ALPHA_KS = 0.05  # below this p-value the two samples are called different


# ------------------------------------------------------------------ pure helpers
def density_histogram(
    values: npt.ArrayLike, lo: float, hi: float, bins: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Bin edges and densities (area 1 over the samples inside [lo, hi])."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins, range=(lo, hi))
    width = (hi - lo) / bins
    total = max(int(counts.sum()), 1)
    return edges, counts / (total * width)


def normal_pdf(x: npt.ArrayLike, mean: float, std: float) -> npt.NDArray[np.float64]:
    z = (np.asarray(x, dtype=np.float64) - mean) / std
    return np.exp(-0.5 * z * z) / (std * math.sqrt(2.0 * math.pi))


def nice_step(span: float, target_ticks: int = 4) -> float:
    """A 1-2-5 tick step giving about ``target_ticks`` ticks over ``span``."""
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw:
            return mult * power
    return 10 * power


def axis_range(mean: float, std: float, width: float = 4.0) -> tuple[float, float, float]:
    """x range ``mean ± width·std`` widened to whole ticks: (lo, hi, step)."""
    step = nice_step(2 * width * std)
    lo = math.floor((mean - width * std) / step) * step
    hi = math.ceil((mean + width * std) / step) * step
    return lo, hi, step


def ok_color(ok: bool) -> Any:
    return theme.GOOD if ok else theme.NOISE


def verdict_tex(ok: bool, target: str) -> MathTex:
    """``≈ target`` in green when the check passed, ``≠ target`` in red when it failed."""
    sign = r"\approx" if ok else r"\neq"
    return MathTex(rf"{sign} {target}", font_size=30, color=ok_color(ok))


def verdict_text(pvalue: float, alpha: float = ALPHA_KS) -> tuple[str, Any]:
    if pvalue >= alpha:
        return f"≥ {alpha}: no difference detected", theme.GOOD
    return f"< {alpha}: the samples differ", theme.NOISE


def check_pixel(pixel: Any, size: int = 28) -> tuple[int, int]:
    """``[row, col]`` inside a ``size`` x ``size`` image, as a tuple of ints."""
    try:
        row, col = (int(v) for v in pixel)
    except (TypeError, ValueError):
        raise ValueError(f"pixel must be [row, col], got {pixel!r}") from None
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"pixel must lie in [0, {size - 1}]², got {pixel!r}")
    return row, col


def load_batch_digit(seed: int) -> tuple[torch.Tensor, str]:
    """The one digit an MNIST scene with ``seed`` shows first: ``([1, 28, 28], source)``."""
    digits = load_digits(1, seed)
    return digits.images[0], digits.source


# ------------------------------------------------------------------ mobject builders
def histogram_bars(
    axes: NumberLine,
    edges: npt.NDArray[np.float64],
    heights: npt.NDArray[np.float64],
    color: Any,
    opacity: float = BAR_OPACITY,
) -> VGroup:
    """Semi-transparent bars standing on the x axis of ``axes``."""
    bars = VGroup()
    for left, right, h in zip(edges[:-1], edges[1:], heights, strict=True):
        if h <= 0:
            continue
        p0 = axes.c2p(left, 0)
        p1 = axes.c2p(right, h)
        bar = Rectangle(
            width=p1[0] - p0[0],
            height=p1[1] - p0[1],
            fill_color=color,
            fill_opacity=opacity,
            stroke_color=color,
            stroke_width=1,
            stroke_opacity=0.8,
        )
        bar.move_to((p0 + p1) / 2)
        bars.add(bar)
    return bars


class DensityPlot(VGroup):
    """An x number line with a y scale for densities: ``c2p(x, y)`` and ``plot(f)``.

    (Manim's ``Axes`` always drops the tick at x = 0 and draws a y axis at x = 0,
    inside a density plot; a bare number line reads better here.)
    """

    def __init__(
        self, x_range: tuple[float, float, float], y_max: float, width: float, height: float
    ) -> None:
        super().__init__()
        step = x_range[2]
        decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
        self.x_axis = NumberLine(
            x_range=list(x_range),
            length=width,
            color=theme.MUTED,
            stroke_width=theme.STROKE_THIN,
            include_numbers=True,
            font_size=26,
            decimal_number_config={"num_decimal_places": decimals, "color": theme.MUTED},
        )
        self.y_max = y_max
        self.plot_height = height
        self.add(self.x_axis)

    def c2p(self, x: float, y: float) -> np.ndarray:
        unit_up = UP * (self.plot_height / self.y_max)
        return self.x_axis.n2p(x) + unit_up * y

    def plot(self, fn: Any, x_range: tuple[float, float], **style: Any) -> VMobject:
        xs = np.linspace(x_range[0], x_range[1], 160)
        curve = VMobject(**style)
        curve.set_points_smoothly([self.c2p(float(x), float(fn(x))) for x in xs])
        return curve


def stat_table(
    rows: Sequence[tuple[str, Any, Sequence[DecimalNumber]]], headers: Sequence[str]
) -> VGroup:
    """A small table: coloured row names, right-aligned numbers under the headers."""
    cells: list[list[Mobject | None]] = [
        [None, *(small_text(h) for h in headers)],
    ]
    for name, color, numbers in rows:
        cells.append([small_text(name, color), *numbers])
    return table(cells, aligns=("left", *("right",) * len(headers)), col_buff=0.45, row_buff=0.16)


# ------------------------------------------------------------------ scenes
class ClosedFormCheck(TimedScene):
    """One pixel noised thousands of times both ways: overlaid histograms, moments, KS test."""

    SPEC = catalog.spec("ClosedFormCheck")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        schedule = schedule_named(self.params["schedule"])
        ts = [int(t) for t in self.params["ts"]]
        if not 1 <= len(ts) <= 2:
            raise ValueError(f"ts must hold one or two steps, got {ts}")
        n, bins = int(self.params["n"]), int(self.params["bins"])
        pixel = self.params["pixel"]
        if pixel is None:
            x0, where = float(self.params["x0"]), "one pixel"
        else:  # a real pixel of the scene's digit (the same digit TwoRoutes shows)
            row, col = check_pixel(pixel)
            digit, source = load_batch_digit(self.seed)
            x0, where = float(digit[0, row, col]), f"pixel ({row}, {col}) of a digit"
            note = source_note(source)
            place_note(note)
            if note is not None:
                self.add(note)
        self.x0 = x0
        self.results: dict[int, CheckResult] = {
            t: closed_form_check(schedule, x0, t, n, seed=self.seed + i) for i, t in enumerate(ts)
        }
        self.readouts: dict[str, DecimalNumber] = {}

        title = heading("Does the jump match the chain?")
        subtitle = VGroup(
            MathTex(rf"x_0 = {trimmed(x0, 3, minus='-')}", font_size=34, color=theme.FG),
            small_text(f"· {where}, {n} samples per route", theme.MUTED),
        ).arrange(RIGHT, buff=0.2)
        subtitle.next_to(title, DOWN, buff=0.22)
        width = 5.6 if len(ts) == 2 else 7.5
        panels = [self.panel(self.results[t], bins, width) for t in ts]
        row = Group(*(p["group"] for p in panels)).arrange(RIGHT, buff=0.9, aligned_edge=UP)
        row.next_to(subtitle, DOWN, buff=0.3).set_x(0)

        # Beat: the question, the pixel and the empty axes
        with self.beat("setup") as b:
            self.play(FadeIn(title), FadeIn(subtitle), run_time=b.frac(0.3))
            self.play(
                *(FadeIn(p["head"]) for p in panels),
                *(Create(p["axes"]) for p in panels),
                run_time=b.frac(0.45),
            )

        # Beat: step-by-step samples
        with self.beat("step_samples") as b:
            self.play(*(GrowFromEdge(p["step_bars"], DOWN) for p in panels), run_time=b.frac(0.5))
            self.play(*(FadeIn(p["rows"][0]) for p in panels), run_time=b.frac(0.2))

        # Beat: closed-form samples over them
        with self.beat("closed_samples") as b:
            self.play(*(GrowFromEdge(p["closed_bars"], DOWN) for p in panels), run_time=b.frac(0.5))
            self.play(*(FadeIn(p["rows"][1]) for p in panels), run_time=b.frac(0.2))

        # Beat: the theoretical density and moments
        with self.beat("moments") as b:
            self.play(*(Create(p["curve"]) for p in panels), run_time=b.frac(0.45))
            self.play(*(FadeIn(p["rows"][2]) for p in panels), run_time=b.frac(0.25))

        # Beat: the KS verdict
        with self.beat("verdict") as b:
            self.play(*(Write(p["verdict"]) for p in panels), run_time=b.frac(0.5))

    def panel(self, res: CheckResult, bins: int, width: float) -> dict[str, Any]:
        """Axes with both histograms and the theory curve, a moments table and a verdict."""
        t = res.t
        lo, hi, step = axis_range(res.theory_mean, res.theory_std)
        step_edges, step_h = density_histogram(res.step_samples, lo, hi, bins)
        closed_edges, closed_h = density_histogram(res.closed_samples, lo, hi, bins)
        peak = float(normal_pdf(res.theory_mean, res.theory_mean, res.theory_std))
        y_max = 1.15 * max(float(step_h.max()), float(closed_h.max()), peak)
        axes = DensityPlot((lo, hi, step), y_max, width, 2.6)
        step_bars = histogram_bars(axes, step_edges, step_h, STEP_COLOR)
        closed_bars = histogram_bars(axes, closed_edges, closed_h, CLOSED_COLOR)
        curve = axes.plot(
            lambda x: float(normal_pdf(x, res.theory_mean, res.theory_std)),
            (lo, hi),
            stroke_color=theme.FG,
            stroke_width=theme.STROKE_THIN + 1,
        )
        head = MathTex(rf"t = {t}", font_size=36, color=theme.FG)
        key = f"t={t}"
        numbers = {
            route: [
                self.readout(f"{key} {route} mean", number(mean, 3, color)),
                self.readout(f"{key} {route} std", number(std, 3, color)),
            ]
            for route, mean, std, color in (
                ("step", res.step_mean, res.step_std, STEP_COLOR),
                ("closed", res.closed_mean, res.closed_std, CLOSED_COLOR),
                ("theory", res.theory_mean, res.theory_std, theme.FG),
            )
        }
        tab = stat_table(
            [
                ("step by step", STEP_COLOR, numbers["step"]),
                ("closed form", CLOSED_COLOR, numbers["closed"]),
                ("theory", theme.FG, numbers["theory"]),
            ],
            headers=("mean", "std"),
        )
        # tab holds: 2 headers, then 3 cells per row
        rows = [VGroup(*tab[:2], *tab[2:5]), VGroup(*tab[5:8]), VGroup(*tab[8:11])]
        p_value = self.readout(f"{key} ks p", number(res.ks_pvalue, 2, theme.FG))
        words, color = verdict_text(res.ks_pvalue)
        p_line = VGroup(small_text("KS test: p =", theme.FG), p_value).arrange(RIGHT, buff=0.15)
        p_value.align_to(p_line[0][0], DOWN)  # the baseline of "K"
        verdict = VGroup(p_line, small_text(words, color)).arrange(DOWN, buff=0.12)
        plot = VGroup(axes, step_bars, closed_bars, curve)
        group = Group(head, plot, tab, verdict).arrange(DOWN, buff=0.22)
        return {
            "group": group,
            "head": head,
            "axes": axes,
            "step_bars": step_bars,
            "closed_bars": closed_bars,
            "curve": curve,
            "rows": rows,
            "verdict": verdict,
        }

    def readout(self, key: str, mob: DecimalNumber) -> DecimalNumber:
        self.readouts[key] = mob
        return mob


class TwoRoutes(TimedScene):
    """TODO 2 set up: two routes to x_t, one real pixel of a digit, and how to compare them.

    The pixel's value and the theoretical moments of q(x_t | x_0) at each step in ``ts``
    are readouts (``"x0"``, ``"t=100 mean"``, ``"t=100 std"``) computed from the digit
    and the schedule; :class:`ClosedFormCheck` with the same ``pixel`` runs the check.
    """

    SPEC = catalog.spec("TwoRoutes")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        schedule = schedule_named(self.params["schedule"])
        row, col = check_pixel(self.params["pixel"])
        ts = [int(t) for t in self.params["ts"]]
        for t in ts:
            schedule.check_t(t)
        if not 1 <= len(ts) <= 2:
            raise ValueError(f"ts must hold one or two steps, got {ts}")
        n = int(self.params["n"])
        digit, source = load_batch_digit(self.seed)
        self.x0 = float(digit[0, row, col])
        self.readouts: dict[str, DecimalNumber] = {}
        note = source_note(source)
        place_note(note)
        if note is not None:
            self.add(note)

        title = heading("TODO 2: check the closed form by sampling")
        question = small_text(
            "Do the chain and the jump give the same distribution of x_t?",
            theme.FG,
            theme.SIZE_BODY,
        ).next_to(title, DOWN, buff=0.3)

        chain = VGroup(
            small_text("step by step", STEP_COLOR, theme.SIZE_BODY),
            MathTex(r"x_0 \to x_1 \to x_2 \to \cdots \to x_t", font_size=40, color=theme.FG),
            small_text("q_step, t + 1 calls", theme.MUTED),
        ).arrange(RIGHT, buff=0.4)
        jump = VGroup(
            small_text("closed form", CLOSED_COLOR, theme.SIZE_BODY),
            MathTex(r"x_0 \xrightarrow{\quad\quad\quad\quad} x_t", font_size=40, color=theme.FG),
            small_text("q_sample, 1 call", theme.MUTED),
        ).arrange(RIGHT, buff=0.4)
        routes = VGroup(chain, jump).arrange(DOWN, buff=0.35, aligned_edge=LEFT)
        routes.next_to(question, DOWN, buff=0.45).set_x(0)

        tile = Tile(gray_uint8(digit), 2.8)
        probe = pixel_probe(tile, row, col)
        value = self.readout("x0", number(self.x0, 3, theme.ACCENT, theme.SIZE_BODY))
        value_row = VGroup(
            small_text(f"pixel ({row}, {col}):", theme.ACCENT, theme.SIZE_BODY),
            MathTex("x_0 =", font_size=theme.SIZE_BODY * 1.45, color=theme.ACCENT),
            value,
        ).arrange(RIGHT, buff=0.15)
        value.align_to(value_row[1], DOWN)
        left = Group(Group(tile, probe), value_row).arrange(DOWN, buff=0.25)

        steps = [
            small_text(f"1. sample this pixel {n} times by each route", theme.FG),
            small_text("2. compare their means and standard deviations", theme.FG),
            small_text("3. overlay their histograms", theme.FG),
        ]
        theory_rows = []
        for t in ts:
            abar = schedule.alpha_bar(t)
            mean = self.readout(f"t={t} mean", number(math.sqrt(abar) * self.x0, 3, theme.GOOD))
            std = self.readout(f"t={t} std", number(math.sqrt(1.0 - abar), 3, theme.GOOD))
            theory_rows.append(
                VGroup(
                    small_text(f"theory at t = {t}: mean", theme.GOOD),
                    mean,
                    small_text("std", theme.GOOD),
                    std,
                ).arrange(RIGHT, buff=0.15)
            )
        theory_head = MathTex(
            r"\text{both should follow } \mathcal{N}\big(\sqrt{\bar\alpha_t}\,x_0,\;"
            r"1-\bar\alpha_t\big)",
            font_size=32,
            color=theme.GOOD,
        )
        plan = VGroup(*steps, theory_head, *theory_rows).arrange(DOWN, buff=0.18, aligned_edge=LEFT)
        body = Group(left, plan).arrange(RIGHT, buff=0.8, aligned_edge=UP)
        body.next_to(routes, DOWN, buff=0.45).set_x(0)

        # Beat: the task
        with self.beat("task") as b:
            self.play(FadeIn(title), run_time=b.frac(0.2))
            self.play(Write(question), run_time=b.frac(0.5))

        # Beat: the two routes to x_t
        with self.beat("routes") as b:
            self.play(FadeIn(chain, shift=RIGHT * 0.2), run_time=b.frac(0.4))
            self.play(FadeIn(jump, shift=RIGHT * 0.2), run_time=b.frac(0.4))

        # Beat: one real pixel of a digit
        with self.beat("pixel") as b:
            self.play(FadeIn(tile), run_time=b.frac(0.3))
            self.play(Create(probe), FadeIn(value_row), run_time=b.frac(0.4))

        # Beat: how to compare them, and what theory predicts
        with self.beat("plan") as b:
            self.play(FadeIn(VGroup(*steps), lag_ratio=0.3), run_time=b.frac(0.4))
            self.play(FadeIn(theory_head), FadeIn(VGroup(*theory_rows)), run_time=b.frac(0.35))

    def readout(self, key: str, mob: DecimalNumber) -> DecimalNumber:
        self.readouts[key] = mob
        return mob


class XTStats(TimedScene):
    """A batch of digits pushed to t = T−1: live statistics and a histogram against N(0, 1)."""

    SPEC = catalog.spec("XTStats")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        schedule = schedule_named(self.params["schedule"])
        t = schedule.T - 1 if self.params["t"] is None else int(self.params["t"])
        n, shown = int(self.params["n_digits"]), int(self.params["shown"])
        if not 1 <= shown <= min(n, 16):
            raise ValueError(f"shown must be in [1, min(n_digits, 16)], got {shown}")
        batch, source = load_batch(n, self.seed)
        x_t = q_sample(batch, t, schedule, generator=make_generator(self.seed, CPU))
        self.x_t = x_t
        self.verdict = standard_normal_verdict(x_t)
        self.stats = self.verdict.stats
        self.readouts: dict[str, DecimalNumber] = {}
        note = source_note(source)
        place_note(note)
        if note is not None:
            self.add(note)

        v = self.verdict
        title = heading(f"After t = {t} steps: is it N(0, 1)?")
        tiles = Group(*(Tile(gray_uint8(x_t[i]), 0.78) for i in range(shown)))
        tiles.arrange_in_grid(cols=4, buff=0.12)
        caption = small_text(f"{shown} of {n} digits at t = {t}")
        left = Group(tiles, caption).arrange(DOWN, buff=0.2)
        left.to_edge(LEFT, buff=theme.MARGIN + 0.2)

        s = self.stats
        cells = [
            [small_text(h, theme.MUTED) for h in ("mean", "std", "min", "max")],
            [
                self.readout("mean", number(s.mean, 3, theme.ACCENT)),
                self.readout("std", number(s.std, 3, theme.ACCENT)),
                self.readout("min", number(s.min, 2, theme.FG)),
                self.readout("max", number(s.max, 2, theme.FG)),
            ],
            [verdict_tex(v.mean_ok, "0"), verdict_tex(v.std_ok, "1"), None, None],
        ]
        stats = table(cells, aligns=("center",) * 4, col_buff=0.7, row_buff=0.15)
        ks = VGroup(
            small_text("largest CDF gap to N(0, 1):", theme.MUTED),
            self.readout("ks", number(v.ks_distance, 3, ok_color(v.shape_ok))),
            small_text(
                f"{'≤' if v.shape_ok else '>'} {v.ks_tol}  ·  ≈ means within {v.mean_tol}",
                theme.MUTED,
            ),
        ).arrange(RIGHT, buff=0.15)
        values = x_t.detach().to(torch.float64).flatten().numpy()
        lo, hi = -4.0, 4.0
        edges, dens = density_histogram(values, lo, hi, int(self.params["bins"]))
        axes = DensityPlot((lo, hi, 1.0), 1.15 * max(float(dens.max()), 0.4), 7.2, 2.9)
        bars = histogram_bars(axes, edges, dens, theme.DATA)
        curve = axes.plot(
            lambda x: float(normal_pdf(x, 0.0, 1.0)),
            (lo, hi),
            stroke_color=theme.ACCENT,
            stroke_width=theme.STROKE,
        )
        legend = VGroup(
            small_text(f"all {values.size} pixel values", theme.DATA),
            MathTex(r"\mathcal{N}(0,1)\ \text{density}", font_size=30, color=theme.ACCENT),
        ).arrange(RIGHT, buff=0.5)
        right = Group(stats, VGroup(axes, bars, curve), legend, ks).arrange(DOWN, buff=0.3)
        right.next_to(title, DOWN, buff=0.35).to_edge(RIGHT, buff=theme.MARGIN + 0.2)
        left.set_y(right.get_y())
        x_name = "x_T" if t == schedule.T - 1 else f"x_{{{t}}}"
        gauss = r"\mathcal{N}(0, \mathbf{I})"
        if v.standard_normal:
            words = rf"{x_name} \approx {gauss}\text{{: no trace of the digits is left}}"
        else:
            words = rf"{x_name}\text{{ is not yet }}{gauss}\text{{: the digits leave a trace}}"
        conclusion = MathTex(words, font_size=36, color=ok_color(v.standard_normal))
        conclusion.to_edge(DOWN, buff=theme.MARGIN + 0.3)

        # Beat: the noisy batch
        with self.beat("noisy_batch") as b:
            self.play(FadeIn(title), run_time=b.frac(0.2))
            self.play(FadeIn(tiles, lag_ratio=0.05), FadeIn(caption), run_time=b.frac(0.55))

        # Beat: statistics over every pixel of the batch
        with self.beat("statistics") as b:
            self.play(FadeIn(stats[:4]), run_time=b.frac(0.2))
            self.play(FadeIn(stats[4:8]), run_time=b.frac(0.3))
            self.play(FadeIn(stats[8:]), run_time=b.frac(0.2))

        # Beat: histogram against the standard normal
        with self.beat("histogram") as b:
            self.play(Create(axes), run_time=b.frac(0.2))
            self.play(GrowFromEdge(bars, DOWN), FadeIn(legend[0]), run_time=b.frac(0.35))
            self.play(Create(curve), FadeIn(legend[1]), run_time=b.frac(0.3))
            self.play(FadeIn(ks), run_time=b.frac(0.1))

        # Beat: the conclusion
        with self.beat("conclusion") as b:
            self.play(Write(conclusion), run_time=b.frac(0.5))

    def readout(self, key: str, mob: DecimalNumber) -> DecimalNumber:
        self.readouts[key] = mob
        return mob


__all__ = [
    "ClosedFormCheck",
    "TwoRoutes",
    "XTStats",
    "density_histogram",
    "normal_pdf",
    "axis_range",
]
