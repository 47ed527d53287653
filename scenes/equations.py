"""The forward-process equations in real LaTeX, each term lit as the narration names it.

Worked numbers come from ``diffusion.one_step_moments`` and
``diffusion.closed_form_example``; results are ``DecimalNumber`` readouts (kept in
``self.readouts``) showing as many decimals as the value needs, at most three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Brace,
    Create,
    DecimalNumber,
    FadeIn,
    FadeOut,
    Indicate,
    MathTex,
    Mobject,
    SurroundingRectangle,
    Text,
    VGroup,
    Write,
    config,
)

from diffusion import closed_form_example, one_step_moments
from scenes import catalog, theme
from scenes.base import TimedScene
from scenes.images import heading, trimmed

EQ_SIZE = 46  # main equations
WORK_SIZE = 38  # worked-example lines
MAX_DECIMALS = 3


def needed_decimals(value: float, most: int = MAX_DECIMALS) -> int:
    """Fewest decimals (≤ ``most``) that show ``value`` as it rounds to ``most`` decimals.

    0.796 → 3, 0.1 → 1, 0.7778 → 3, 2.0 → 0.
    """
    target = round(value, most)
    for d in range(most + 1):
        if round(value, d) == target:
            return d
    return most


def result_number(value: float, color: Any = theme.ACCENT) -> DecimalNumber:
    return DecimalNumber(
        value, num_decimal_places=needed_decimals(value), font_size=WORK_SIZE, color=color
    )


def tex_number(value: float) -> str:
    """An input value for a formula: trimmed, with a plain minus for LaTeX."""
    return trimmed(value, MAX_DECIMALS, minus="-")


def computed_line(parts: Sequence[str], baseline_part: int, result: DecimalNumber) -> VGroup:
    """``MathTex(*parts)`` followed by the readout ``result`` on the same baseline.

    ``parts[baseline_part]`` must sit on the baseline with nothing below it (digits, or
    words without descenders such as "mean"); its bottom is taken as the baseline.
    """
    tex = MathTex(*parts, font_size=WORK_SIZE, color=theme.FG)
    result.next_to(tex, RIGHT, buff=0.2)
    result.align_to(tex[baseline_part], DOWN)
    return VGroup(tex, result)


def term_box(term: Mobject, color: Any) -> SurroundingRectangle:
    return SurroundingRectangle(term, color=color, buff=0.08, stroke_width=theme.STROKE)


def brace_note(term: Mobject, text: str, color: Any, direction: Any = DOWN) -> VGroup:
    """A brace under (or over) ``term`` with a short plain-words note."""
    brace = Brace(term, direction, buff=0.12, color=color)
    note = Text(text, font=theme.FONT, font_size=theme.SIZE_SMALL, color=color)
    note.next_to(brace, direction, buff=0.12)
    return VGroup(brace, note)


def keep_inside(mob: Mobject, margin: float = theme.MARGIN) -> Mobject:
    """Shift ``mob`` horizontally so it stays inside the frame margin."""
    half = config.frame_width / 2 - margin
    if mob.get_left()[0] < -half:
        mob.shift(RIGHT * (-half - mob.get_left()[0]))
    if mob.get_right()[0] > half:
        mob.shift(LEFT * (mob.get_right()[0] - half))
    return mob


class EquationScene(TimedScene):
    """The two equation parts, each played in beats whose names the caller gives.

    :class:`OneStepEquation` and :class:`ClosedFormEquation` play one part each;
    :class:`ForwardMath` plays both in turn, as the course's mathematics section does.
    """

    def prepare(self) -> None:
        self.readouts: dict[str, DecimalNumber] = {}

    def readout(self, key: str, mob: DecimalNumber) -> DecimalNumber:
        self.readouts[key] = mob
        return mob

    def one_step_part(self, x_prev: float, beta: float, beats: Sequence[str]) -> None:
        """q(x_t | x_{t-1}), its mean and variance, and the worked numbers, in 4 beats."""
        equation_beat, mean_beat, variance_beat, example_beat = beats
        mean, std = one_step_moments(x_prev, beta)

        title = heading("One noising step")
        eq = MathTex(
            r"q(x_t \mid x_{t-1})",
            "=",
            r"\mathcal{N}\big(",
            r"\sqrt{1-\beta_t}\,x_{t-1}",
            r",\;",
            r"\beta_t\,\mathbf{I}",
            r"\big)",
            font_size=EQ_SIZE,
            color=theme.FG,
        ).move_to(UP * 1.55)
        mean_box = term_box(eq[3], theme.DATA)
        mean_note = brace_note(eq[3], "mean: the previous value, shrunk slightly", theme.DATA)
        var_box = term_box(eq[5], theme.NOISE)
        var_note = brace_note(eq[5], "variance: a little fresh noise", theme.NOISE)
        keep_inside(var_note)

        given = MathTex(
            rf"x_{{t-1}} = {tex_number(x_prev)},\quad \beta_t = {tex_number(beta)}",
            font_size=WORK_SIZE,
            color=theme.MUTED,
        )
        mean_line = computed_line(
            [
                r"\text{mean}",
                r"= \sqrt{1-" + tex_number(beta) + r"}\cdot " + tex_number(x_prev) + "=",
            ],
            0,
            self.readout("mean", result_number(mean, theme.DATA)),
        )
        std_line = computed_line(
            [r"\text{std}", r"= \sqrt{" + tex_number(beta) + "} ="],
            0,
            self.readout("std", result_number(std, theme.NOISE)),
        )
        work = VGroup(given, mean_line, std_line).arrange(DOWN, buff=0.35, aligned_edge=LEFT)
        work.next_to(eq, DOWN, buff=1.5)

        # Beat: the equation
        with self.beat(equation_beat) as b:
            self.play(FadeIn(title), run_time=b.frac(0.15))
            self.play(Write(eq), run_time=b.frac(0.6))

        # Beat: the mean term
        with self.beat(mean_beat) as b:
            self.play(Create(mean_box), FadeIn(mean_note), run_time=b.frac(0.4))
            self.play(Indicate(eq[3], color=theme.DATA), run_time=b.frac(0.35))

        # Beat: the variance term
        with self.beat(variance_beat) as b:
            self.play(FadeOut(mean_note), Create(var_box), FadeIn(var_note), run_time=b.frac(0.4))
            self.play(Indicate(eq[5], color=theme.NOISE), run_time=b.frac(0.35))

        # Beat: worked example
        with self.beat(example_beat) as b:
            self.play(FadeOut(var_note), run_time=b.frac(0.1))
            self.play(Write(given), run_time=b.frac(0.2))
            self.play(Write(mean_line), run_time=b.frac(0.25))
            self.play(Write(std_line), run_time=b.frac(0.25))

    def closed_form_part(self, ab: float, x0: float, eps: float, beats: Sequence[str]) -> None:
        """α_t, ᾱ_t, the closed form, its two terms and the worked numbers, in 6 beats."""
        alpha_beat, alpha_bar_beat, closed_form_beat, signal_term_beat = beats[:4]
        noise_term_beat, example_beat = beats[4:]
        eq = _closed_form_terms()
        work = self._closed_form_sum(ab, x0, eps, below=eq.stack)
        closed = eq.closed

        # Beat: alpha_t = 1 - beta_t
        with self.beat(alpha_beat) as b:
            if self.mobjects:  # an earlier part is on screen: clear it first
                self.play(FadeOut(*self.mobjects), run_time=b.frac(0.12))
            self.play(FadeIn(eq.title), run_time=b.frac(0.15))
            self.play(Write(eq.alpha), run_time=b.frac(0.5))

        # Beat: alpha-bar, the running product
        with self.beat(alpha_bar_beat) as b:
            self.play(Write(eq.alpha_bar), run_time=b.frac(0.4))
            self.play(Create(eq.prod_box), FadeIn(eq.prod_note), run_time=b.frac(0.35))

        # Beat: the closed form
        with self.beat(closed_form_beat) as b:
            self.play(FadeOut(eq.prod_box), FadeOut(eq.prod_note), run_time=b.frac(0.1))
            self.play(Write(closed), run_time=b.frac(0.6))

        # Beat: the signal term
        with self.beat(signal_term_beat) as b:
            self.play(Create(eq.signal_box), FadeIn(eq.signal_note), run_time=b.frac(0.45))
            self.play(Indicate(closed[2], color=theme.DATA), run_time=b.frac(0.35))

        # Beat: the noise term
        with self.beat(noise_term_beat) as b:
            self.play(
                FadeOut(eq.signal_note), Create(eq.noise_box), FadeIn(eq.noise_note),
                run_time=b.frac(0.45),
            )
            self.play(Indicate(closed[4], color=theme.NOISE), run_time=b.frac(0.35))

        # Beat: worked example
        with self.beat(example_beat) as b:
            self.play(FadeOut(eq.noise_note), run_time=b.frac(0.08))
            self.play(Write(work.given), run_time=b.frac(0.2))
            self.play(Write(work.first), run_time=b.frac(0.3))
            self.play(FadeIn(VGroup(work.plus, work.noise_num, work.equals, work.total_num)),
                      run_time=b.frac(0.15))
            self.play(Create(work.total_box), run_time=b.frac(0.12))

    def _closed_form_sum(self, ab: float, x0: float, eps: float, below: Mobject) -> _WorkedSum:
        """The worked numbers under ``below``: the givens, then signal + noise = x_t, whose
        three results are the readouts ``signal``, ``noise`` and ``x_t``."""
        # The closed form is linear in (x0, eps), so the two terms are the same function
        # with the other input set to zero.
        signal = closed_form_example(ab, x0, 0.0)
        noise = closed_form_example(ab, 0.0, eps)
        total = closed_form_example(ab, x0, eps)
        given = MathTex(
            rf"\bar\alpha_t = {tex_number(ab)},\quad x_0 = {tex_number(x0)},\quad "
            rf"\varepsilon = {tex_number(eps)}",
            font_size=WORK_SIZE,
            color=theme.MUTED,
        )
        sum_parts = [
            rf"x_t = \sqrt{{{tex_number(ab)}}}\cdot {tex_number(x0)}"
            rf" + \sqrt{{1-{tex_number(ab)}}}\cdot",
            tex_number(eps),
            "=",
        ]
        first = computed_line(
            sum_parts, 1, self.readout("signal", result_number(signal, theme.DATA))
        )
        plus = MathTex("+", font_size=WORK_SIZE, color=theme.FG).next_to(first, RIGHT, buff=0.2)
        noise_num = self.readout("noise", result_number(noise, theme.NOISE))
        noise_num.next_to(plus, RIGHT, buff=0.2).align_to(first[1], DOWN)
        equals = MathTex("=", font_size=WORK_SIZE, color=theme.FG).next_to(
            noise_num, RIGHT, buff=0.2
        )
        equals.align_to(first[0][2], DOWN)
        total_num = self.readout("x_t", result_number(total, theme.ACCENT))
        total_num.next_to(equals, RIGHT, buff=0.2).align_to(first[1], DOWN)
        sum_line = VGroup(first, plus, noise_num, equals, total_num)
        work = VGroup(given, sum_line).arrange(DOWN, buff=0.35, aligned_edge=LEFT)
        work.next_to(below, DOWN, buff=1.25)
        keep_inside(work)
        total_box = term_box(total_num, theme.ACCENT)
        return _WorkedSum(given, first, plus, noise_num, equals, total_num, total_box)


@dataclass(frozen=True)
class _ClosedFormTerms:
    """The closed form's heading and equations, and the boxes and notes lighting its terms."""

    title: Text
    alpha: MathTex
    alpha_bar: MathTex
    closed: MathTex
    stack: VGroup  # the definitions over the closed form
    prod_box: SurroundingRectangle
    prod_note: VGroup
    signal_box: SurroundingRectangle
    signal_note: VGroup
    noise_box: SurroundingRectangle
    noise_note: VGroup


def _closed_form_terms() -> _ClosedFormTerms:
    title = heading("Jump to any step in one go")
    alpha = MathTex(r"\alpha_t", "=", r"1-\beta_t", font_size=EQ_SIZE, color=theme.FG)
    alpha_bar = MathTex(
        r"\bar\alpha_t", "=", r"\prod_{s\le t}\alpha_s", font_size=EQ_SIZE, color=theme.FG
    )
    closed = MathTex(
        "x_t",
        "=",
        r"\sqrt{\bar\alpha_t}\,x_0",
        "+",
        r"\sqrt{1-\bar\alpha_t}\,\varepsilon",
        r"\qquad \varepsilon\sim\mathcal{N}(0,\mathbf{I})",
        font_size=EQ_SIZE,
        color=theme.FG,
    )
    defs = VGroup(alpha, alpha_bar).arrange(RIGHT, buff=1.4)
    stack = VGroup(defs, closed).arrange(DOWN, buff=0.55)
    stack.next_to(title, DOWN, buff=0.5)
    prod_box = term_box(alpha_bar[2], theme.ACCENT)
    prod_note = brace_note(alpha_bar[2], "product of all α so far", theme.ACCENT)
    signal_box = term_box(closed[2], theme.DATA)
    signal_note = brace_note(closed[2], "signal: fades as ᾱ → 0", theme.DATA)
    noise_box = term_box(closed[4], theme.NOISE)
    noise_note = brace_note(closed[4], "noise: grows to std 1", theme.NOISE)
    keep_inside(noise_note)
    return _ClosedFormTerms(title, alpha, alpha_bar, closed, stack, prod_box, prod_note,
                            signal_box, signal_note, noise_box, noise_note)


@dataclass(frozen=True)
class _WorkedSum:
    """The closed form's worked example: the givens, then signal + noise = x_t, boxed."""

    given: MathTex
    first: VGroup  # the signal term's computation and its readout
    plus: MathTex
    noise_num: DecimalNumber
    equals: MathTex
    total_num: DecimalNumber
    total_box: SurroundingRectangle


class OneStepEquation(EquationScene):
    """q(x_t | x_{t-1}): one noising step, its mean and variance, and a worked example."""

    SPEC = catalog.spec("OneStepEquation")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        self.prepare()
        self.one_step_part(
            float(self.params["x_prev"]), float(self.params["beta"]), self.beat_names()
        )


class ClosedFormEquation(EquationScene):
    """α_t, ᾱ_t and the closed form x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε, with a worked example."""

    SPEC = catalog.spec("ClosedFormEquation")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        self.prepare()
        self.closed_form_part(
            *(float(self.params[k]) for k in ("alpha_bar", "x0", "eps")), self.beat_names()
        )


class ForwardMath(EquationScene):
    """The whole mathematics section: one step with its numbers, then α, ᾱ and the closed form.

    Readouts of the two parts share ``self.readouts``: ``mean``, ``std`` (one step) and
    ``signal``, ``noise``, ``x_t`` (closed form).
    """

    SPEC = catalog.spec("ForwardMath")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        self.prepare()
        names = self.beat_names()
        self.one_step_part(float(self.params["x_prev"]), float(self.params["beta"]), names[:4])
        self.closed_form_part(
            *(float(self.params[k]) for k in ("alpha_bar", "x0", "eps")), names[4:]
        )
