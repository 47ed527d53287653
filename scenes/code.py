"""The project's own code on screen: one function (or class) of ``diffusion``, read live.

The listing is ``textwrap.dedent(inspect.getsource(obj))`` of an allow-listed target,
highlighted by manim's ``Code`` (pygments). Nothing on screen is typed into the scene:
which lines get a box comes from the function's syntax tree (its signature, the body
statements mentioning the target's focus names, its ``return`` statements).

A listing taller than the window is shown through a window that scrolls (lines
outside it are hidden); a wide one is scaled to the frame width. The scene records
the lines that were visible (``self.lines_seen``) so a test can check every line
was on screen at some point.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import textwrap
from dataclasses import dataclass
from typing import Any

from manim import (
    DOWN,
    RIGHT,
    UP,
    Animation,
    Code,
    Create,
    FadeIn,
    FadeOut,
    MathTex,
    Mobject,
    Rectangle,
    RoundedRectangle,
    Scene,
    Text,
    ValueTracker,
    VGroup,
    config,
    linear,
    smooth,
    tempconfig,
)

from scenes import theme
from scenes.base import TimedScene
from scenes.images import loop_times
from scenes.timing import Beat

LineRange = tuple[int, int]  # 0-based, inclusive


@dataclass(frozen=True)
class Target:
    """What the walkthrough says about one allowed target.

    ``focus``: names whose body statements get a box, in source order;
    ``returns``: a one-line LaTeX summary of the result.
    """

    focus: tuple[str, ...]
    returns: str


TARGETS: dict[str, Target] = {
    "diffusion.schedule:NoiseSchedule.linear": Target(
        ("_check_T", "_check_open_unit", "beta_start > beta_end"),
        r"\beta_t \text{ evenly spaced; then } \alpha_t = 1-\beta_t,\;"
        r"\bar\alpha_t = \prod_{s\le t}\alpha_s",
    ),
    "diffusion.schedule:NoiseSchedule.cosine": Target(
        ("torch.cos", "clamp"),
        r"\text{a schedule with } \bar\alpha_t \propto"
        r" \cos^2\!\big(\tfrac{\pi}{2}\tfrac{t/T+s}{1+s}\big)",
    ),
    "diffusion.forward:q_step": Target(
        ("noise_like", "keep", "add"),
        r"x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon",
    ),
    "diffusion.forward:q_sample": Target(
        ("noise_like", "signal", "spread"),
        r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon",
    ),
    "diffusion.forward:step_by_step": Target(
        ("wanted =", "for step in "),
        r"x_t \text{ after } t+1 \text{ single steps (or the recorded ones)}",
    ),
    "diffusion.forward:ForwardProcess": Target(
        ("def q_step", "def q_sample", "def step_by_step"),
        r"\text{one object: the schedule on a device, with all three routes}",
    ),
    "diffusion.mnist:load_mnist": Target(
        ("_load_real", "_synthetic"),
        r"\text{digits in } [-1, 1] \text{, their labels and where they came from}",
    ),
    "diffusion.stats:closed_form_check": Target(
        ("step_by_step(", "q_sample(", "ks_2samp("),
        r"\text{both samples, their moments, the theory and a KS test}",
    ),
    "diffusion.stats:tensor_stats": Target(
        ("as_float_tensor", "numel"), r"\text{mean, std, min and max of every entry}"
    ),
}

CODE_FONT_SIZE = 20
WINDOW_TOP = 2.75  # manim units: below the heading
WINDOW_BOTTOM = -2.75  # above the "returns" line
MAX_BOXES = 4


# ------------------------------------------------------------------ pure helpers
def resolve_target(target: str) -> Any:
    """The object named ``"module:Qual.name"`` if it is on the allow-list."""
    if target not in TARGETS:
        raise ValueError(
            f"CodeWalkthrough: unknown target {target!r}; allowed targets: {sorted(TARGETS)}"
        )
    module_name, qualname = target.split(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def source_of(obj: Any) -> str:
    """The listing shown: ``inspect.getsource`` dedented, without the final newline."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip("\n")


@dataclass(frozen=True)
class Sections:
    signature: LineRange
    focus: list[LineRange]
    returns: list[LineRange]


def _node_range(node: ast.stmt) -> LineRange:
    first = node.lineno
    for deco in getattr(node, "decorator_list", []):
        first = min(first, deco.lineno)
    last = node.end_lineno if node.end_lineno is not None else node.lineno
    return first - 1, last - 1


def merge_ranges(ranges: list[LineRange]) -> list[LineRange]:
    """Sorted ranges with touching or overlapping ones joined."""
    out: list[LineRange] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _returns_in(node: ast.AST) -> list[ast.Return]:
    """``return`` statements of ``node`` itself (not of functions nested in it)."""
    found: list[ast.Return] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, ast.Return):
            found.append(child)
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        ):
            stack.extend(ast.iter_child_nodes(child))
    return found


def code_sections(source: str, focus: tuple[str, ...]) -> Sections:
    """Line ranges of the signature, the focus statements and the returns of ``source``."""
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        raise ValueError("source must define one function or class")
    body = list(node.body)
    has_doc = (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    start = _node_range(node)[0]
    signature = (start, body[0].lineno - 2 if body else start)
    statements = [s for s in (body[1:] if has_doc else body) if not isinstance(s, ast.Return)]
    lines = source.split("\n")
    texts = [
        (_node_range(s), "\n".join(lines[_node_range(s)[0] : _node_range(s)[1] + 1]))
        for s in statements
    ]
    picked: list[LineRange] = []
    for name in focus:  # one box per focus name, in the order the narration names them
        for rng in merge_ranges([r for r, text in texts if name in text]):
            if rng not in picked:
                picked.append(rng)
    returns = (
        merge_ranges([_node_range(r) for r in _returns_in(node)])
        if not isinstance(node, ast.ClassDef)
        else []
    )
    return Sections(signature, picked[:MAX_BOXES], returns)


def window_start(first: int, last: int, n_lines: int, window: int) -> int:
    """First line of a ``window``-line view showing lines ``first..last`` (centred if short)."""
    span = last - first + 1
    if span >= window:
        start = first
    else:
        start = first - (window - span) // 2
    return max(0, min(start, n_lines - window))


# ------------------------------------------------------------------ the listing
def text_canvas() -> Any:
    """A large Pango canvas while building a long listing (config restored afterwards).

    Manim draws ``Text`` into an SVG canvas of ``config.pixel_width`` ×
    ``config.pixel_height`` pixels; glyphs beyond it are dropped and ``Text`` then fails
    with an IndexError. A 60-line listing needs ~420 px, more than a tiny test render
    has. The canvas size does not change the mobject's size in scene units.
    """
    return tempconfig(
        {
            "pixel_width": max(config.pixel_width, 3840),
            "pixel_height": max(config.pixel_height, 2160),
        }
    )


class Listing:
    """A ``Code`` mobject behind a fixed window; scrolls by whole lines."""

    def __init__(self, source: str, style: str) -> None:
        with text_canvas():
            self.code = Code(
                code_string=source,
                language="python",
                formatter_style=style,
                add_line_numbers=True,
                background="rectangle",
                paragraph_config={"font": theme.MONO, "font_size": CODE_FONT_SIZE},
            )
        self.code.remove(self.code.background)  # the window panel replaces it
        self.n = len(self.code.code_lines)
        numbers = self.code.line_numbers
        pitch = (numbers[0].get_y() - numbers[-1].get_y()) / max(self.n - 1, 1)
        pitch = pitch if self.n > 1 else numbers[0].height * 1.6
        max_width = config.frame_width - 2 * theme.MARGIN - 0.6
        height = WINDOW_TOP - WINDOW_BOTTOM
        scale = min(max_width / self.code.width, 1.25)
        if self.n * pitch * scale > height:  # too tall: keep the size, scroll a window
            self.window = max(1, math.floor(height / (pitch * scale)))
        else:
            self.window = self.n
        self.code.scale(scale)
        self.pitch = pitch * scale
        self.code.set_x(0)
        view_h = self.window * self.pitch
        self.top = WINDOW_TOP - (height - view_h) / 2
        self.panel = RoundedRectangle(
            corner_radius=0.15,
            width=self.code.width + 0.5,
            height=view_h + 0.3,
            fill_color=theme.PANEL,
            fill_opacity=1,
            stroke_color=theme.MUTED,
            stroke_width=1,
        ).move_to([0, self.top - view_h / 2, 0])
        self.first = 0
        self.seen: set[int] = set()
        self.fade = 1.0  # overall opacity (for the entrance)
        # Only the lines inside the window are in the scene: a VGroup re-filled as the
        # listing scrolls, so hidden lines cost nothing to draw or to copy.
        self.view = VGroup()
        # Drawn above the panel and the highlight boxes, whatever the order of adding.
        self.code.set_z_index(2)
        self._opacity = [-1.0] * self.n
        self._place(self._offset_for(0))
        self.refresh()

    # geometry ---------------------------------------------------------------
    def line_y(self, i: int) -> float:
        return float(self.code.line_numbers[i].get_y())

    def extent(self, i: int) -> tuple[float, float]:
        """(top, bottom) of the glyphs of line ``i`` (its number, for a blank line)."""
        parts = [
            m
            for m in (self.code.code_lines[i], self.code.line_numbers[i])
            if len(m.submobjects) > 0
        ]
        top = max(m.get_top()[1] for m in parts)
        bottom = min(m.get_bottom()[1] for m in parts)
        return top, bottom

    def _offset_for(self, first: int) -> float:
        """Vertical shift that puts line ``first`` at the top of the window."""
        return (self.top - self.pitch / 2) - self.line_y(first)

    def _place(self, dy: float) -> None:
        self.code.shift(UP * dy)

    def visible(self, i: int) -> float:
        """Opacity of line ``i`` where it stands now (fades over half a line at the edges)."""
        y = self.line_y(i)
        top, bottom = self.top - self.pitch / 2, self.top - (self.window - 0.5) * self.pitch
        outside = max(y - top, bottom - y, 0.0)
        return max(0.0, 1.0 - outside / (self.pitch * 0.5))

    def refresh(self) -> None:
        """Set each line's opacity from its place and put the visible ones in ``view``."""
        shown = []
        for i in range(self.n):
            o = self.visible(i)
            if self._opacity[i] != o * self.fade:  # recolouring glyphs is the costly part
                self._opacity[i] = o * self.fade
                for part in (self.code.line_numbers[i], self.code.code_lines[i]):
                    part.set_opacity(o * self.fade)
            for part in (self.code.line_numbers[i], self.code.code_lines[i]):
                if o > 0 and len(part.submobjects) > 0:
                    shown.append(part)
            if o >= 0.999 and self.fade >= 0.999:
                self.seen.add(i)
        self.view.submobjects = shown

    # animations -------------------------------------------------------------
    def play_driven(self, scene: Scene, step: Any, run_time: float, *others: Animation) -> None:
        """Play ``others`` while ``step(alpha)`` (alpha 0 → 1, eased) changes the listing.

        A ValueTracker carries the time and an updater on ``view`` applies it, so the
        heavy Code mobject is never copied by an animation.
        """
        tracker = ValueTracker(0.0)

        def follow(_: Mobject) -> None:
            step(smooth(tracker.get_value()))
            self.refresh()

        self.view.add_updater(follow)
        scene.play(tracker.animate.set_value(1.0), *others, run_time=run_time, rate_func=linear)
        self.view.remove_updater(follow)
        step(1.0)
        self.refresh()

    def play_fade_in(self, scene: Scene, run_time: float, *others: Animation) -> None:
        def step(alpha: float) -> None:
            self.fade = alpha

        self.fade = 0.0
        self.refresh()
        scene.add(self.view)
        self.play_driven(scene, step, run_time, *others)

    def play_scroll(self, scene: Scene, first: int, run_time: float, *others: Animation) -> None:
        """Scroll so that line ``first`` is the window's top line."""
        total = self._offset_for(first)  # from where the listing stands now
        state = {"moved": 0.0}

        def step(alpha: float) -> None:
            self._place(total * alpha - state["moved"])
            state["moved"] = total * alpha

        self.first = first
        self.play_driven(scene, step, run_time, *others)

    def play_show(self, scene: Scene, rng: LineRange, run_time: float, *others: Animation) -> None:
        """Scroll (if needed) so that lines ``rng`` are in the window."""
        self.play_scroll(scene, window_start(*rng, self.n, self.window), run_time, *others)

    def box(self, rng: LineRange, color: Any) -> Rectangle:
        """A box over lines ``rng`` (call once the window shows them)."""
        a, b = rng
        a = max(a, self.first)
        b = min(b, self.first + self.window - 1)
        pad = self.pitch * 0.3
        if a > self.first:  # halfway into the gap above line a
            y_top = (self.extent(a - 1)[1] + self.extent(a)[0]) / 2
        else:
            y_top = self.extent(a)[0] + pad
        if b < min(self.first + self.window, self.n) - 1:  # halfway into the gap below b
            y_bot = (self.extent(b)[1] + self.extent(b + 1)[0]) / 2
        else:
            y_bot = self.extent(b)[1] - pad
        return (
            Rectangle(
                width=self.panel.width - 0.15,
                height=y_top - y_bot,
                stroke_color=color,
                stroke_width=theme.STROKE,
            )
            .move_to([0, (y_top + y_bot) / 2, 0])
            .set_z_index(1)
        )


# ------------------------------------------------------------------ the scene
class CodeWalkthrough(TimedScene):
    """One allow-listed function: its signature, the lines that do the work, its result."""

    BEATS = (
        Beat("show_code", 4.0, 1.0),
        Beat("signature", 4.0, 1.0),
        Beat("body", 8.0, 1.5),
        Beat("returns", 5.0, 1.0),
    )
    PARAMS = {"target": "diffusion.forward:q_sample", "style": "monokai"}

    def construct(self) -> None:
        target = str(self.params["target"])
        obj = resolve_target(target)
        self.source = source_of(obj)
        spec = TARGETS[target]
        sections = code_sections(self.source, spec.focus)
        listing = Listing(self.source, str(self.params["style"]))
        self.listing = listing
        module, qualname = target.split(":")
        title = Text(f"{module}.{qualname}", font=theme.MONO, font_size=theme.SIZE_HEADING)
        title.set_color(theme.FG).to_edge(UP, buff=theme.MARGIN)
        if title.width > config.frame_width - 2 * theme.MARGIN:
            title.scale_to_fit_width(config.frame_width - 2 * theme.MARGIN)
        returns = VGroup(
            Text("returns", font=theme.FONT, font_size=theme.SIZE_BODY, color=theme.MUTED),
            MathTex(spec.returns, font_size=36, color=theme.GOOD),
        ).arrange(RIGHT, buff=0.3)
        returns.to_edge(DOWN, buff=theme.MARGIN)
        if returns.width > config.frame_width - 2 * theme.MARGIN:
            returns.scale_to_fit_width(config.frame_width - 2 * theme.MARGIN)

        # Beat: the listing appears; a long one scrolls through once
        with self.beat("show_code") as b:
            listing.play_fade_in(self, b.frac(0.3), FadeIn(title), FadeIn(listing.panel))
            if listing.window < listing.n:
                listing.play_scroll(self, listing.n - listing.window, b.frac(0.55))

        # Beat: the signature
        with self.beat("signature") as b:
            listing.play_show(self, sections.signature, b.frac(0.3))
            box = listing.box(sections.signature, theme.ACCENT)
            self.play(Create(box), run_time=b.frac(0.3))

        # Beat: the lines that do the work, one box after another
        with self.beat("body") as b:
            times = loop_times(b, 0.85, [1.0] * (2 * len(sections.focus)))
            for i, rng in enumerate(sections.focus):
                listing.play_show(self, rng, times[2 * i], FadeOut(box))
                box = listing.box(rng, theme.DATA)
                self.play(Create(box), run_time=times[2 * i + 1])

        # Beat: what it returns
        with self.beat("returns") as b:
            if sections.returns:
                rng = (sections.returns[0][0], sections.returns[-1][1])
                listing.play_show(self, rng, b.frac(0.25), FadeOut(box))
                box = listing.box(sections.returns[-1], theme.GOOD)
                self.play(Create(box), FadeIn(returns), run_time=b.frac(0.35))
            else:
                self.play(FadeIn(returns), run_time=b.frac(0.35))
        self.lines_seen = set(listing.seen)


__all__ = ["TARGETS", "CodeWalkthrough", "code_sections", "resolve_target", "source_of"]
