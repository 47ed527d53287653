"""MNIST digits dissolving into noise, computed live by the torch forward process.

Every picture is a forward-process tensor mapped to grey levels by
:func:`scenes.images.gray_uint8`. Digits come from ``diffusion.load_mnist`` (real MNIST
when it is on disk, otherwise a synthetic stand-in that the scene labels on screen);
the digits and all noise draws follow the scene's seed.

Noise conventions (the tests recompute them the same way):

* ``ForwardIntuition``: one noise draw ``ε`` shared by every ``t`` — each picture is
  ``q_sample(x0, t, generator=make_generator(seed))`` with a fresh generator, so the
  digit dissolves smoothly into one fixed noise image.
* ``ClosedFormJump``, ``MnistBatch``, ``FinalGallery``: one batched ``q_sample`` call
  with a per-sample ``t`` tensor and ``generator=make_generator(seed)``.
* ``StepByStepChain`` (and the chain row of ``ClosedFormJump``):
  ``step_by_step(x0, t_max, generator=make_generator(seed + 1), record=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Brace,
    CurvedArrow,
    DecimalNumber,
    FadeIn,
    FadeOut,
    Group,
    GrowArrow,
    ImageMobject,
    Indicate,
    Integer,
    MathTex,
    Mobject,
    Rectangle,
    Text,
    UpdateFromAlphaFunc,
    VGroup,
    Write,
    smooth,
)

from diffusion import (
    NoiseSchedule,
    load_mnist,
    make_generator,
    pick_digits,
    q_sample,
    step_by_step,
)
from scenes import theme
from scenes.base import TimedScene
from scenes.images import (
    NUMBER_SCALE,
    Tile,
    gray_uint8,
    heading,
    image_mobject,
    loop_times,
    number,
    place_note,
    set_pixels,
    sig_tex,
    small_text,
    source_note,
    table,
)
from scenes.timing import Beat

CPU = "cpu"  # the scenes draw on the CPU so a seed means the same noise on every machine


# ------------------------------------------------------------------ data helpers
@dataclass(frozen=True)
class Digits:
    """A few clean digits for one scene: images ``[n, 1, 28, 28]`` in [-1, 1]."""

    images: torch.Tensor
    labels: list[int]
    source: str


def schedule_named(name: str) -> NoiseSchedule:
    """The lecture's default schedule of kind ``name`` (T = 1000)."""
    if name == "linear":
        return NoiseSchedule.linear()
    if name == "cosine":
        return NoiseSchedule.cosine()
    raise ValueError(f"schedule must be 'linear' or 'cosine', got {name!r}")


def load_digits(n: int, seed: int) -> Digits:
    """``n`` digits (distinct labels when possible) picked with ``seed``."""
    data = load_mnist(split="test")
    idx = pick_digits(data, n, seed=seed, distinct=n <= 10)
    idx_t = torch.as_tensor(list(idx), dtype=torch.long)
    images = data.images[idx_t].to(torch.float64)
    labels = [int(data.labels[int(i)]) for i in idx_t]
    return Digits(images=images, labels=labels, source=data.source)


def load_batch(n: int, seed: int) -> tuple[torch.Tensor, str]:
    """``n`` different digits (any labels) picked with ``seed``: ``([n, 1, 28, 28], source)``."""
    data = load_mnist(split="test")
    idx = pick_digits(data, n, seed=seed, distinct=False)
    return data.images[idx].to(torch.float64), data.source


def shared_noise_frame(
    x0: torch.Tensor, t: int, schedule: NoiseSchedule, seed: int
) -> torch.Tensor:
    """``x_t`` by the closed form with the noise image fixed by ``seed`` (same ε for all t)."""
    return q_sample(x0, t, schedule, generator=make_generator(seed, CPU))


def closed_form_row(
    x0: torch.Tensor, ts: Sequence[int], schedule: NoiseSchedule, seed: int
) -> torch.Tensor:
    """One batched jump of ``x0`` ([1, 28, 28]) to every t in ``ts``: ``[len(ts), 1, 28, 28]``."""
    batch = x0.unsqueeze(0).expand(len(ts), *x0.shape).contiguous()
    t = torch.as_tensor(list(ts), dtype=torch.long)
    return q_sample(batch, t, schedule, generator=make_generator(seed, CPU))


def chain_states(
    x0: torch.Tensor, ts: Sequence[int], schedule: NoiseSchedule, seed: int
) -> dict[int, torch.Tensor]:
    """The step-by-step chain from ``x0``, recorded at ``ts`` (q_step applied repeatedly)."""
    states = step_by_step(
        x0, max(ts), schedule, generator=make_generator(seed + 1, CPU), record=sorted(set(ts))
    )
    return dict(states)


def t_text(t: int, color: Any = theme.MUTED) -> Text:
    return small_text(f"t = {t}", color=color)


def alpha_bar_tex(value: float, color: Any = theme.MUTED) -> MathTex:
    """``ᾱ = value`` to 4 significant digits."""
    return MathTex(r"\bar\alpha = " + sig_tex(value, 4), font_size=32, color=color)


def alpha_bar_value(value: float, color: Any = theme.MUTED) -> MathTex:
    """Just the value of ᾱ_t, 4 significant digits (3 in scientific notation)."""
    return MathTex(sig_tex(value, 4), font_size=28, color=color)


def row_of_tiles(tiles: Sequence[Mobject], buff: float) -> Group:
    """Tiles side by side, aligned at their image tops."""
    row = Group(*tiles)
    row.arrange(RIGHT, buff=buff, aligned_edge=UP)
    return row


def check_ts(ts: Sequence[Any], T: int, name: str = "ts") -> list[int]:
    out = [int(t) for t in ts]
    if not out or any(not 0 <= t < T for t in out) or sorted(set(out)) != out:
        raise ValueError(f"{name} must be increasing distinct integers in [0, {T - 1}], got {ts}")
    return out


class MnistScene(TimedScene):
    """Shared set-up: background colour, schedule, digits and a record of shown images.

    ``self.shown`` maps a readable key (``"closed t=50"``) to the ImageMobject that
    displays it, so tests can compare what is on screen with a fresh computation.
    """

    def prepare(self, n_digits: int) -> Digits:
        self.schedule = schedule_named(self.params.get("schedule", "linear"))
        self.digits = load_digits(n_digits, self.seed)
        self.shown: dict[str, ImageMobject] = {}
        self.readouts: dict[str, DecimalNumber] = {}
        note = source_note(self.digits.source)
        place_note(note)
        if note is not None:
            self.add(note)
        return self.digits

    def show(self, key: str, tile: Tile) -> Tile:
        self.shown[key] = tile.image
        return tile

    def readout(self, key: str, mob: DecimalNumber) -> DecimalNumber:
        """Register a numeric readout (tests compare it with a fresh computation)."""
        self.readouts[key] = mob
        return mob


# ---------------------------------------------------------------------- scenes
class ForwardIntuition(MnistScene):
    """A digit dissolving into noise, left to right, and a teaser of the way back."""

    BEATS = (
        Beat("clean_digit", 3.0, 1.0),
        Beat("add_noise", 9.0, 1.5),
        Beat("pure_noise", 3.0, 1.0),
        Beat("reverse_teaser", 5.0, 1.5),
    )
    PARAMS = {"schedule": "linear", "ts": [0, 100, 250, 500, 999]}

    def construct(self) -> None:
        digits = self.prepare(1)
        ts = check_ts(self.params["ts"], self.schedule.T)
        x0 = digits.images[0]
        frames = {t: shared_noise_frame(x0, t, self.schedule, self.seed) for t in ts}
        tiles = [self.show(f"t={t}", Tile(gray_uint8(frames[t]), 2.0, [t_text(t)])) for t in ts]
        row = row_of_tiles(tiles, buff=0.55).move_to(UP * 0.35)
        title = heading("The forward process: data → noise")

        # Beat: the clean digit
        with self.beat("clean_digit") as b:
            self.play(FadeIn(title), FadeIn(tiles[0]), run_time=b.frac(0.6))

        # Beat: noise is added little by little; each picture dissolves into the next
        left, right = tiles[0].frame.get_left(), tiles[-1].frame.get_right()
        arrow = Arrow(left, right, buff=0, color=theme.MUTED, stroke_width=theme.STROKE)
        arrow.next_to(row, DOWN, buff=0.3)
        ends = VGroup(
            small_text("data", color=theme.DATA)
            .next_to(arrow, DOWN, buff=0.12)
            .align_to(arrow, LEFT),
            small_text("noise", color=theme.NOISE)
            .next_to(arrow, DOWN, buff=0.12)
            .align_to(arrow, RIGHT),
        )
        with self.beat("add_noise") as b:
            self.play(GrowArrow(arrow), FadeIn(ends), run_time=b.frac(0.12))
            hops = zip(tiles[:-1], ts[:-1], ts[1:], tiles[1:], strict=True)
            times = loop_times(b, 0.8, [1.0] * (len(ts) - 1))
            for (prev, t_a, t_b, tile), run_time in zip(hops, times, strict=True):
                mover = Tile(gray_uint8(frames[t_a]), 2.0).move_to(prev.frame)
                self.play(
                    dissolve(
                        mover, x0, t_a, t_b, self.schedule, self.seed, tile.frame.get_center()
                    ),
                    FadeIn(tile.captions, rate_func=late),
                    run_time=run_time,
                )
                self.remove(mover)
                self.add(tile.image, tile.frame)

        # Beat: after T steps only noise is left
        last = tiles[-1]
        note = math_then_text("x_T", ": pure Gaussian noise — the digit is gone", theme.FG)
        note.next_to(title, DOWN, buff=0.3)
        with self.beat("pure_noise") as b:
            self.play(
                Indicate(last.frame, color=theme.NOISE, scale_factor=1.05),
                FadeIn(note),
                run_time=b.frac(0.6),
            )

        # Beat: teaser — the reverse direction, learned later
        below = ends.get_bottom()[1] - 0.25
        back = CurvedArrow(
            np.array([arrow.get_right()[0] - 0.5, below, 0.0]),
            np.array([arrow.get_left()[0] + 0.5, below, 0.0]),
            angle=-0.35,
            color=theme.ACCENT,
            stroke_width=theme.STROKE,
        )
        back_label = small_text(
            "reverse: noise → data — a network learns this next", color=theme.ACCENT
        ).next_to(back, DOWN, buff=0.15)
        with self.beat("reverse_teaser") as b:
            self.play(FadeOut(note), run_time=b.frac(0.1))
            self.play(FadeIn(back), run_time=b.frac(0.3))
            self.play(Write(back_label), run_time=b.frac(0.35))


def late(alpha: float) -> float:
    """A rate function that waits for 60 % of the animation, then eases in."""
    return smooth(max(0.0, alpha - 0.6) / 0.4)


def math_then_text(tex: str, text: str, color: Any) -> VGroup:
    """A short formula followed by plain words, sitting on one baseline."""
    math = MathTex(tex, font_size=32, color=color)
    words = small_text(text, color=color)
    line = VGroup(math, words).arrange(RIGHT, buff=0.08)
    words.align_to(math, DOWN)
    return line


def dissolve(
    mover: Tile,
    x0: torch.Tensor,
    t_a: int,
    t_b: int,
    schedule: NoiseSchedule,
    seed: int,
    target: np.ndarray,
) -> UpdateFromAlphaFunc:
    """Move ``mover`` to ``target`` while its pixels run through x_t for t = t_a → t_b."""
    start = mover.get_center().copy()

    def update(mob: Mobject, alpha: float) -> None:
        t = round(t_a + (t_b - t_a) * alpha)
        set_pixels(mover.image, gray_uint8(shared_noise_frame(x0, t, schedule, seed)))
        mob.move_to(start + (target - start) * alpha)

    return UpdateFromAlphaFunc(mover, update, rate_func=smooth)


class CleanDigit(MnistScene):
    """The clean digit x0: its label, its pixel range [-1, 1] and its shape 1×28×28."""

    BEATS = (
        Beat("show_digit", 4.0, 1.0),
        Beat("label", 4.0, 1.0),
        Beat("pixel_range", 6.0, 1.5),
        Beat("shape", 5.0, 1.5),
    )
    PARAMS: ClassVar[dict[str, Any]] = {}

    def construct(self) -> None:
        digits = self.prepare(1)
        x0 = digits.images[0]
        tile = self.show("x0", Tile(gray_uint8(x0), 4.7))
        tile.move_to(LEFT * 3.3 + DOWN * 0.35)
        title = heading("One training image: x₀")

        label_row = VGroup(
            small_text("label", theme.FG, theme.SIZE_BODY),
            self.readout(
                "label", Integer(digits.labels[0], font_size=theme.SIZE_BODY * NUMBER_SCALE)
            ),
        ).arrange(RIGHT, buff=0.3)
        ramp = grey_ramp(width=4.2, height=0.35)
        ticks = VGroup(*(MathTex(txt, font_size=34, color=theme.MUTED) for txt in ("-1", "0", "1")))
        for tick, x in zip(ticks, (-2.1, 0.0, 2.1), strict=True):
            tick.next_to(ramp, DOWN, buff=0.12).set_x(ramp.get_x() + x)
        scale = Group(ramp, ticks)
        self.probe_pixels = {"bright": brightest_pixel(x0), "grey": greyest_pixel(x0)}
        rows = [
            [small_text("min", theme.FG), self.readout("min", number(float(x0.min()), 2))],
            [small_text("max", theme.FG), self.readout("max", number(float(x0.max()), 2))],
        ]
        for key, (r, c) in self.probe_pixels.items():
            value = number(float(x0[0, r, c]), 3, theme.ACCENT)
            rows.append([small_text(f"pixel ({r}, {c})", theme.ACCENT), self.readout(key, value)])
        cells = table(rows, aligns=("left", "right"), col_buff=0.6, row_buff=0.3)
        shape = tuple(int(n) for n in x0.shape)
        shape_text = small_text(
            "shape " + " × ".join(str(n) for n in shape) + "  (one grey channel)", theme.FG
        )
        self.shape_text = shape_text
        panel = Group(label_row, scale, cells, shape_text).arrange(
            DOWN, buff=0.4, aligned_edge=LEFT
        )
        panel.next_to(tile.frame, RIGHT, buff=1.0).align_to(tile.frame, UP).shift(DOWN * 0.1)
        probes = VGroup(*(pixel_probe(tile, r, c) for r, c in self.probe_pixels.values()))

        # Beat: the clean digit
        with self.beat("show_digit") as b:
            self.play(FadeIn(title), FadeIn(tile), run_time=b.frac(0.5))

        # Beat: its label
        with self.beat("label") as b:
            self.play(FadeIn(label_row), run_time=b.frac(0.4))

        # Beat: pixel values live in [-1, 1]; probe the brightest and a mid-grey pixel
        with self.beat("pixel_range") as b:
            self.play(FadeIn(scale), run_time=b.frac(0.25))
            self.play(FadeIn(cells[:4]), run_time=b.frac(0.2))
            self.play(FadeIn(probes), FadeIn(cells[4:]), run_time=b.frac(0.3))

        # Beat: the shape 1 × 28 × 28
        braces = size_braces(tile, shape[1], shape[2])
        with self.beat("shape") as b:
            self.play(FadeIn(braces), Write(shape_text), run_time=b.frac(0.5))


def brightest_pixel(x0: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the brightest pixel (first in reading order)."""
    flat = int(torch.argmax(x0[0]).item())
    width = x0.shape[-1]
    return flat // width, flat % width


def grey_ramp(width: float, height: float, steps: int = 64) -> Group:
    """A black → white ramp drawn as a crisp strip of ``steps`` grey cells."""
    levels = np.linspace(0, 255, steps).round().astype(np.uint8)[None, :].repeat(4, axis=0)
    strip = image_mobject(levels, height)
    strip.stretch_to_fit_width(width)
    frame = Rectangle(width=width, height=height, stroke_color=theme.MUTED, stroke_width=1)
    return Group(strip, frame.move_to(strip))


def greyest_pixel(x0: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the pixel closest to mid-grey 0 (first in reading order)."""
    flat = int(torch.argmin(x0[0].abs()).item())
    width = x0.shape[-1]
    return flat // width, flat % width


def pixel_probe(tile: Tile, row: int, col: int) -> Rectangle:
    """A square outline around pixel (row, col) of a tile."""
    n_rows, n_cols = tile.image.pixel_array.shape[:2]
    cell_w = tile.image.width / n_cols
    cell_h = tile.image.height / n_rows
    corner = tile.image.get_corner(UP + LEFT)
    centre = corner + RIGHT * cell_w * (col + 0.5) + DOWN * cell_h * (row + 0.5)
    return Rectangle(
        width=cell_w * 1.6,
        height=cell_h * 1.6,
        stroke_color=theme.ACCENT,
        stroke_width=theme.STROKE,
    ).move_to(centre)


def size_braces(tile: Tile, rows: int, cols: int) -> VGroup:
    below = Brace(tile.frame, DOWN, buff=0.1, color=theme.MUTED)
    side = Brace(tile.frame, LEFT, buff=0.1, color=theme.MUTED)
    return VGroup(
        below,
        below.get_tex(str(cols)).set_color(theme.MUTED),
        side,
        side.get_tex(str(rows)).set_color(theme.MUTED),
    )


class StepByStepChain(MnistScene):
    """q_step applied again and again: a live picture and snapshots at display steps."""

    BEATS = (
        Beat("clean_digit", 3.0, 1.0),
        Beat("run_chain", 11.0, 1.5),
        Beat("arrive_at_noise", 3.0, 1.0),
        Beat("sequential_cost", 4.0, 1.0),
    )
    PARAMS = {"schedule": "linear", "display_steps": [0, 50, 100, 250, 500, 750, 999]}

    def construct(self) -> None:
        digits = self.prepare(1)
        steps = check_ts(self.params["display_steps"], self.schedule.T, "display_steps")
        x0 = digits.images[0]
        every = chain_states(x0, list(range(steps[-1] + 1)), self.schedule, self.seed)

        title = heading("Step by step: one small q_step at a time")
        formula = MathTex(
            r"x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t",
            font_size=34,
            color=theme.FG,
        ).next_to(title, DOWN, buff=0.3)
        live = Tile(gray_uint8(x0), 3.4)
        live.move_to(LEFT * 4.6 + DOWN * 0.55)
        counter_label = MathTex("t =", font_size=40, color=theme.FG)
        counter = Integer(0, font_size=40, color=theme.ACCENT)
        clean_caption = small_text("clean x₀", color=theme.DATA, size=theme.SIZE_BODY)
        clean_caption.next_to(live.frame, DOWN, buff=0.25)
        counter_row = VGroup(counter_label, counter).arrange(RIGHT, buff=0.15)
        counter_row.next_to(live.frame, DOWN, buff=0.25)
        self.shown["live"] = live.image

        snaps = [
            self.show(f"step t={s}", Tile(gray_uint8(every[s]), 1.35, [t_text(s)])) for s in steps
        ]
        clean = self.show("clean", Tile(gray_uint8(x0), 1.35, [small_text("x₀", theme.DATA)]))
        grid = Group(clean, *snaps).arrange_in_grid(rows=2, buff=(0.4, 0.35))
        grid.move_to(RIGHT * 2.75 + DOWN * 0.6)

        # Beat: start from the clean digit
        with self.beat("clean_digit") as b:
            self.play(FadeIn(title), Write(formula), FadeIn(live), run_time=b.frac(0.45))
            self.play(FadeIn(clean_caption), FadeIn(clean), run_time=b.frac(0.3))

        # Beat: run the chain; the live picture shows every single step
        with self.beat("run_chain") as b:
            self.play(FadeOut(clean_caption), FadeIn(counter_row), run_time=b.frac(0.05))
            prev = -1
            times = loop_times(b, 0.85, [1.0] * len(steps))
            for s, snap, run_time in zip(steps, snaps, times, strict=True):
                self.play(
                    run_steps(live, counter, every, prev + 1, s),
                    FadeIn(snap, rate_func=late),
                    run_time=run_time,
                )
                prev = s

        # Beat: the last step is (almost) pure noise
        with self.beat("arrive_at_noise") as b:
            self.play(
                Indicate(snaps[-1].frame, color=theme.NOISE, scale_factor=1.08),
                Indicate(live.frame, color=theme.NOISE, scale_factor=1.03),
                run_time=b.frac(0.6),
            )

        # Beat: the price — t sequential calls to reach x_t
        cost = small_text(
            f"{steps[-1] + 1} sequential q_step calls to reach t = {steps[-1]}: cost grows with t",
            color=theme.ACCENT,
            size=theme.SIZE_SMALL,
        ).to_edge(DOWN, buff=theme.MARGIN + 0.1)
        with self.beat("sequential_cost") as b:
            self.play(Write(cost), run_time=b.frac(0.5))


def run_steps(
    live: Tile, counter: Integer, states: dict[int, torch.Tensor], first: int, last: int
) -> UpdateFromAlphaFunc:
    """Play the chain from step ``first`` to ``last`` on the live picture and counter."""

    def update(mob: Mobject, alpha: float) -> None:
        step = max(first, round(first + (last - first) * alpha)) if last > first else last
        set_pixels(live.image, gray_uint8(states[step]))
        counter.set_value(step)

    return UpdateFromAlphaFunc(live, update, rate_func=lambda a: a)


class ClosedFormJump(MnistScene):
    """The closed-form jump at several t (labelled with ᾱ_t) beside the step-by-step chain."""

    BEATS = (
        Beat("one_formula", 3.5, 1.0),
        Beat("jumps", 9.0, 1.5),
        Beat("compare_chain", 6.0, 1.5),
        Beat("same_distribution", 4.5, 1.0),
    )
    PARAMS = {"schedule": "linear", "ts": [0, 50, 100, 250, 500, 750, 999]}

    def construct(self) -> None:
        digits = self.prepare(1)
        ts = check_ts(self.params["ts"], self.schedule.T)
        x0 = digits.images[0]
        jumped = closed_form_row(x0, ts, self.schedule, self.seed)
        chain = chain_states(x0, ts, self.schedule, self.seed)
        self.alpha_bars = {t: self.schedule.alpha_bar(t) for t in ts}

        title = heading("Closed form: jump straight to any t")
        formula = MathTex(
            r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon",
            font_size=34,
            color=theme.FG,
        ).next_to(title, DOWN, buff=0.25)
        size = 1.2
        top = [
            self.show(f"closed t={t}", Tile(gray_uint8(jumped[i]), size, [t_text(t, theme.FG)]))
            for i, t in enumerate(ts)
        ]
        bottom = [self.show(f"chain t={t}", Tile(gray_uint8(chain[t]), size)) for t in ts]
        self.alpha_labels = [alpha_bar_value(self.alpha_bars[t]) for t in ts]
        top_row = row_of_tiles(top, buff=0.42)
        label_y = top_row.get_bottom()[1] - 0.3
        for up, lab, down in zip(top, self.alpha_labels, bottom, strict=True):
            lab.move_to([up.frame.get_x(), label_y, 0])
            down.move_to([up.frame.get_x(), label_y - 0.3 - size / 2, 0])
        columns = Group(top_row, *self.alpha_labels, *bottom)
        jump_label = row_label("closed form", "1 call each", theme.DATA)
        jump_label.next_to(top[0].frame, LEFT, buff=0.35)
        abar_label = MathTex(r"\bar\alpha_t", font_size=34, color=theme.MUTED)
        abar_label.next_to(self.alpha_labels[0], LEFT, buff=0.35).align_to(jump_label, RIGHT)
        chain_label = row_label("step by step", "t + 1 calls", theme.ACCENT)
        chain_label.next_to(bottom[0].frame, LEFT, buff=0.35)
        layout = Group(columns, jump_label, abar_label, chain_label)
        layout.move_to(DOWN * 0.4).set_x(0)

        # Beat: one formula for any t
        with self.beat("one_formula") as b:
            self.play(FadeIn(title), Write(formula), run_time=b.frac(0.6))

        # Beat: the jumps, each labelled with t and ᾱ_t
        with self.beat("jumps") as b:
            self.play(FadeIn(jump_label), FadeIn(abar_label), run_time=b.frac(0.1))
            times = loop_times(b, 0.8, [1.0] * len(ts))
            for tile, lab, run_time in zip(top, self.alpha_labels, times, strict=True):
                self.play(FadeIn(tile), FadeIn(lab), run_time=run_time)

        # Beat: the step-by-step chain underneath, for comparison
        with self.beat("compare_chain") as b:
            self.play(FadeIn(chain_label), run_time=b.frac(0.15))
            self.play(
                *(FadeIn(tile, shift=UP * 0.1) for tile in bottom),
                run_time=b.frac(0.55),
            )

        # Beat: different draws, same distribution
        verdict = small_text(
            "different noise draws, same distribution — one call instead of t + 1",
            color=theme.GOOD,
        ).to_edge(DOWN, buff=theme.MARGIN + 0.1)
        with self.beat("same_distribution") as b:
            self.play(Write(verdict), run_time=b.frac(0.5))


def row_label(title: str, detail: str, color: Any) -> VGroup:
    return VGroup(
        Text(title, font=theme.FONT, font_size=theme.SIZE_SMALL, color=color),
        Text(detail, font=theme.FONT, font_size=theme.SIZE_SMALL, color=theme.MUTED),
    ).arrange(DOWN, aligned_edge=RIGHT, buff=0.1)


class MnistBatch(MnistScene):
    """A batch of 8 digits at t = 0 against the same batch at t = 500, in one call."""

    BEATS = (
        Beat("clean_batch", 4.5, 1.0),
        Beat("noisy_batch", 5.5, 1.5),
        Beat("one_call", 5.0, 1.0),
    )
    PARAMS = {"schedule": "linear", "n": 8, "t_low": 0, "t_high": 500}

    def construct(self) -> None:
        n = int(self.params["n"])
        if not 1 <= n <= 10:
            raise ValueError(f"n must be in [1, 10], got {n}")
        digits = self.prepare(n)
        t_low, t_high = check_ts([self.params["t_low"], self.params["t_high"]], self.schedule.T)
        batch = digits.images
        ts = torch.tensor([t_low] * n + [t_high] * n, dtype=torch.long)
        both = q_sample(
            torch.cat([batch, batch]), ts, self.schedule, generator=make_generator(self.seed, CPU)
        )
        size = 1.2
        rows = []
        for r, t in enumerate((t_low, t_high)):
            tiles = [
                self.show(f"t={t} #{i}", Tile(gray_uint8(both[r * n + i]), size)) for i in range(n)
            ]
            rows.append(row_of_tiles(tiles, buff=0.18))
        title = heading(f"A batch of {n} digits: t = {t_low} and t = {t_high}")
        grid = Group(*rows).arrange(DOWN, buff=0.75)
        self.alpha_bars = {t: self.schedule.alpha_bar(t) for t in (t_low, t_high)}
        labels = [
            VGroup(t_text(t, theme.FG), alpha_bar_tex(self.alpha_bars[t])).arrange(
                DOWN, aligned_edge=RIGHT, buff=0.12
            )
            for t in (t_low, t_high)
        ]
        for lab, row in zip(labels, rows, strict=True):
            lab.next_to(row, LEFT, buff=0.35)
        self.alpha_labels = [lab[1] for lab in labels]
        tag_texts = [small_text(f"label {d}") for d in digits.labels]
        for tag, tile in zip(tag_texts, rows[0], strict=True):
            tag.scale_to_fit_width(min(tag.width, size)).next_to(tile, DOWN, buff=0.1)
        Group(grid, *labels, *tag_texts).move_to(DOWN * 0.15).set_x(0)

        # Beat: the clean batch
        with self.beat("clean_batch") as b:
            self.play(FadeIn(title), FadeIn(labels[0]), run_time=b.frac(0.3))
            self.play(
                FadeIn(rows[0], lag_ratio=0.1), FadeIn(VGroup(*tag_texts)), run_time=b.frac(0.5)
            )

        # Beat: the same batch at t_high
        with self.beat("noisy_batch") as b:
            self.play(FadeIn(labels[1]), run_time=b.frac(0.15))
            self.play(FadeIn(rows[1], lag_ratio=0.1), run_time=b.frac(0.6))

        # Beat: one call does the whole batch, each sample with its own t
        note = small_text(
            f"one q_sample call: x0 [{2 * n}, 1, 28, 28] with a t per sample",
            color=theme.ACCENT,
        ).to_edge(DOWN, buff=theme.MARGIN + 0.1)
        with self.beat("one_call") as b:
            self.play(Write(note), run_time=b.frac(0.5))


class FinalGallery(MnistScene):
    """Two digits across ten noise levels, side by side."""

    BEATS = (
        Beat("title", 2.5, 0.8),
        Beat("first_digit", 6.0, 1.5),
        Beat("second_digit", 6.0, 1.5),
        Beat("hold", 4.0, 1.0),
    )
    PARAMS = {"schedule": "linear", "ts": [0, 50, 100, 200, 300, 400, 500, 700, 850, 999]}

    def construct(self) -> None:
        digits = self.prepare(2)
        ts = check_ts(self.params["ts"], self.schedule.T)
        if len(ts) > 10:
            raise ValueError(f"at most 10 noise levels fit the frame, got {len(ts)}")
        size = 1.05
        rows, labels = [], []
        for d in range(2):
            jumped = closed_form_row(digits.images[d], ts, self.schedule, self.seed + d)
            tiles = [
                self.show(f"digit{d} t={t}", Tile(gray_uint8(jumped[i]), size))
                for i, t in enumerate(ts)
            ]
            rows.append(row_of_tiles(tiles, buff=0.12))
            labels.append(small_text(f"label {digits.labels[d]}", theme.FG))
        grid = Group(*rows).arrange(DOWN, buff=0.5)
        for lab, row in zip(labels, rows, strict=True):
            lab.next_to(row, LEFT, buff=0.3)
        headers = VGroup(*(small_text(str(t)) for t in ts))
        for head, tile in zip(headers, rows[0], strict=True):
            head.next_to(tile, UP, buff=0.15)
        t_head = MathTex("t", font_size=34, color=theme.FG).next_to(headers[0], LEFT, buff=0.0)
        t_head.set_x(labels[0].get_x())
        Group(grid, *labels, headers, t_head).move_to(DOWN * 0.3).set_x(0)
        title = heading("From data to noise, one closed-form call per row")
        caption = (
            VGroup(
                small_text("each row:"),
                MathTex(
                    r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon",
                    font_size=34,
                    color=theme.MUTED,
                ),
                small_text("at ten values of t"),
            )
            .arrange(RIGHT, buff=0.2)
            .to_edge(DOWN, buff=theme.MARGIN + 0.1)
        )

        # Beat: title
        with self.beat("title") as b:
            self.play(FadeIn(title), FadeIn(headers), FadeIn(t_head), run_time=b.frac(0.6))

        # Beat: the first digit across t
        with self.beat("first_digit") as b:
            self.play(FadeIn(labels[0]), run_time=b.frac(0.1))
            self.play(FadeIn(rows[0], lag_ratio=0.15), run_time=b.frac(0.75))

        # Beat: the second digit across t
        with self.beat("second_digit") as b:
            self.play(FadeIn(labels[1]), run_time=b.frac(0.1))
            self.play(FadeIn(rows[1], lag_ratio=0.15), run_time=b.frac(0.75))

        # Beat: hold the gallery
        with self.beat("hold") as b:
            self.play(FadeIn(caption), run_time=b.frac(0.3))


class CosineMotivation(MnistScene):
    """Why a cosine schedule: the checkpoint (chain and jump agree), the task, and one digit
    under the linear and the cosine schedule with the same noise draw.

    ``self.alpha_bars[(kind, t)]`` holds ᾱ_t of each schedule at each shown step.
    """

    BEATS = (
        Beat("checkpoint", 5.0, 1.5),
        Beat("task", 5.0, 1.5),
        Beat("linear_row", 6.0, 1.5),
        Beat("cosine_row", 6.0, 1.5),
    )
    PARAMS = {"ts": [0, 250, 500, 750, 999], "t_check": 500}

    def construct(self) -> None:
        digits = self.prepare(1)
        lin, cos = NoiseSchedule.linear(), NoiseSchedule.cosine()
        ts = check_ts(self.params["ts"], lin.T)
        if len(ts) > 7:
            raise ValueError(f"at most 7 steps fit a row, got {len(ts)}")
        (t_check,) = check_ts([self.params["t_check"]], lin.T, "t_check")
        x0 = digits.images[0]
        jump = shared_noise_frame(x0, t_check, lin, self.seed)
        chain = chain_states(x0, [t_check], lin, self.seed)[t_check]
        self.alpha_bars = {
            (kind, t): sched.alpha_bar(t)
            for kind, sched in (("linear", lin), ("cosine", cos))
            for t in ts
        }

        # Beat: checkpoint — the chain and the jump give the same kind of picture
        title = heading("Checkpoint: both routes agree")
        pair = [
            self.show(
                "check chain",
                Tile(
                    gray_uint8(chain),
                    2.2,
                    [
                        small_text(f"step by step, t = {t_check}", theme.ACCENT),
                        small_text(f"{t_check + 1} calls"),
                    ],
                ),
            ),
            self.show(
                "check jump",
                Tile(
                    gray_uint8(jump),
                    2.2,
                    [
                        small_text(f"closed form, t = {t_check}", theme.DATA),
                        small_text("1 call"),
                    ],
                ),
            ),
        ]
        pair_row = row_of_tiles(pair, buff=1.6).move_to(DOWN * 0.2)
        with self.beat("checkpoint") as b:
            self.play(FadeIn(title), run_time=b.frac(0.2))
            self.play(FadeIn(pair_row, lag_ratio=0.3), run_time=b.frac(0.5))

        # Beat: the task — replace the linear schedule by the cosine one
        task_title = heading("TODO 1: a cosine noise schedule")
        task = (
            VGroup(
                small_text(
                    "Replace the linear schedule with the cosine schedule",
                    theme.FG,
                    theme.SIZE_BODY,
                ),
                small_text(
                    "of Nichol & Dhariwal (2021): noise that grows more gradually",
                    theme.FG,
                    theme.SIZE_BODY,
                ),
            )
            .arrange(DOWN, buff=0.2)
            .next_to(task_title, DOWN, buff=0.35)
        )
        with self.beat("task") as b:
            self.play(FadeOut(pair_row), FadeOut(title), run_time=b.frac(0.15))
            self.play(FadeIn(task_title), Write(task), run_time=b.frac(0.55))

        # Beats: the same digit and noise under each schedule
        size = 1.35
        rows, labels = [], []
        for kind, sched, color in (("linear", lin, theme.LINEAR), ("cosine", cos, theme.COSINE)):
            tiles = [
                self.show(
                    f"{kind} t={t}",
                    Tile(
                        gray_uint8(shared_noise_frame(x0, t, sched, self.seed)),
                        size,
                        [alpha_bar_value(self.alpha_bars[(kind, t)], color)],
                    ),
                )
                for t in ts
            ]
            rows.append(row_of_tiles(tiles, buff=0.35))
            labels.append(small_text(kind, color, theme.SIZE_BODY))
        grid = Group(*rows).arrange(DOWN, buff=0.45)
        headers = VGroup(*(small_text(f"t = {t}") for t in ts))
        for head, tile in zip(headers, rows[0], strict=True):
            head.next_to(tile, UP, buff=0.12)
        for lab, row in zip(labels, rows, strict=True):
            lab.next_to(row[0].frame, LEFT, buff=0.35)
        abar_key = MathTex(r"\bar\alpha_t", font_size=30, color=theme.MUTED)
        abar_key.next_to(rows[0][0].captions, LEFT, buff=0.35).align_to(labels[0], RIGHT)
        block = Group(grid, headers, *labels, abar_key)
        block.next_to(task, DOWN, buff=0.35).set_x(0)

        with self.beat("linear_row") as b:
            self.play(FadeIn(headers), FadeIn(labels[0]), FadeIn(abar_key), run_time=b.frac(0.2))
            self.play(FadeIn(rows[0], lag_ratio=0.2), run_time=b.frac(0.6))

        with self.beat("cosine_row") as b:
            self.play(FadeIn(labels[1]), run_time=b.frac(0.15))
            self.play(FadeIn(rows[1], lag_ratio=0.2), run_time=b.frac(0.6))
