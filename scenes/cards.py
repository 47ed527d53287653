"""Text cards that open and close a lecture (family 8).

``TitleCard``: lecture title, subtitle and chapter. ``KeyConcepts``: a heading and a
list of concepts, each with an optional small formula. ``Takeaways``: takeaways,
reflection questions and what comes next. Long texts are wrapped; long lists shrink
to at most ``SMALLEST_SCALE``, then go into two columns (concepts) and finally into
pages shown one after another within the beat, so nothing leaves the frame and body
text never drops below ``SMALLEST_SCALE`` of its theme size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Circumscribe,
    Create,
    Dot,
    FadeIn,
    FadeOut,
    GrowFromCenter,
    LaggedStart,
    Line,
    ManimColor,
    MathTex,
    Mobject,
    RoundedRectangle,
    Text,
    VGroup,
    Write,
    config,
    interpolate_color,
)

from diffusion.forward import make_generator, q_sample
from diffusion.schedule import NoiseSchedule
from scenes import catalog, theme
from scenes.base import BeatClock, TimedScene
from scenes.layout import paginate, paginate_columns, shrink_to_fit, split_frames, wrap_words

CONTENT_WIDTH = 13.0  # usable width inside the side margins
STRIP_DOTS = 25  # dots in the title card's noise-to-data strip
SMALLEST_SCALE = 0.7  # lists never shrink below this: more columns or pages instead


# --- pure helpers ---------------------------------------------------------------
@dataclass(frozen=True)
class Concept:
    """One key concept: a short text and an optional LaTeX formula."""

    text: str
    math: str | None = None


def parse_concepts(items: Sequence[Any]) -> list[Concept]:
    """Items as given in params: strings or ``{"text": ..., "math": ...}`` mappings."""
    if not items:
        raise ValueError("items must hold at least one concept")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(Concept(item))
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            unknown = set(item) - {"text", "math"}
            if unknown:
                raise ValueError(f"items[{i}]: unknown key(s) {sorted(unknown)}")
            math = item.get("math")
            if math is not None and not isinstance(math, str):
                raise ValueError(f"items[{i}].math must be a string, got {math!r}")
            out.append(Concept(item["text"], math or None))
        else:
            raise ValueError(
                f"items[{i}] must be a string or {{'text': str, 'math': str}}, got {item!r}"
            )
    return out


def check_texts(name: str, values: Any) -> list[str]:
    """A non-empty list of strings, or a ``ValueError`` naming the parameter."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty list of strings, got {values!r}")
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name} must hold only strings, got {bad!r}")
    return list(values)


def reveal_groups(count: int, budget: int) -> list[list[int]]:
    """Item indices in reveal order, one per group, or several when frames are scarce."""
    if count < 1 or budget < 1:
        raise ValueError(f"need count >= 1 and budget >= 1, got {count} and {budget}")
    return [part.tolist() for part in np.array_split(np.arange(count), min(count, budget))]


def strip_offsets(n: int, seed: int, T: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Vertical offsets and noise shares for the title strip, left (noise) to right (data).

    Dot ``i`` is a real sample of ``q(x_t | x_0 = 0)`` at a step falling from ``T - 1``
    to ``0`` across the strip, so the strip shows the forward process in reverse.
    """
    schedule = NoiseSchedule.linear_scaled(T)
    ts = np.linspace(T - 1, 0, n).round().astype(int)
    x0 = np.zeros((n, 1))
    gen = make_generator(seed, device="cpu")
    ys = np.array(
        [q_sample(x0[i], int(t), schedule, generator=gen)[0].item() for i, t in enumerate(ts)]
    )
    shares = np.sqrt(1.0 - schedule.numpy("alpha_bars")[ts])
    return ys, shares


# --- builders ---------------------------------------------------------------------
def label(text: str, size: int, colour: ManimColor = theme.FG, weight: str = "NORMAL") -> Text:
    return Text(text, font=theme.FONT, font_size=size, color=colour, weight=weight)


@lru_cache(maxsize=16)
def char_width(size: int) -> float:
    """Average advance of one character of body text at font ``size``, in scene units."""
    sample = "The quick brown fox jumps over a lazy dog, then 0123456789 ones."
    return label(sample, size).width / len(sample)


def wrapped(text: str, size: int, width: float, colour: ManimColor = theme.FG) -> Text:
    """``text`` wrapped to about ``width`` scene units at font ``size``, then fitted."""
    chars = max(8, int(width / char_width(size)))
    mob = label(wrap_words(text, chars), size, colour)
    return shrink_to_fit(mob, width, config.frame_height)


def bullet_row(marker: Mobject, body: Mobject, buff: float = 0.3) -> VGroup:
    marker.next_to(body, LEFT, buff=buff).align_to(body, UP).shift(DOWN * 0.05)
    return VGroup(marker, body)


def concept_row(index: int, concept: Concept, text_width: float) -> VGroup:
    num = label(f"{index}", theme.SIZE_BODY, theme.BG, weight="BOLD")
    disc = Dot(radius=0.24, color=theme.ACCENT).move_to(num)
    badge = VGroup(disc, num)
    body = VGroup(wrapped(concept.text, theme.SIZE_BODY, text_width))
    if concept.math:
        formula = MathTex(concept.math, font_size=theme.SIZE_BODY + 4, color=theme.ACCENT)
        shrink_to_fit(formula, text_width, 2.0)
        body.add(formula)
        body.arrange(DOWN, aligned_edge=LEFT, buff=0.15)
    return bullet_row(badge, body)


ROW_GAP = 0.35  # vertical gap between list rows


def stack(rows: Sequence[Mobject], gap: float = ROW_GAP) -> VGroup:
    return VGroup(*rows).arrange(DOWN, aligned_edge=LEFT, buff=gap)


def page_rows(page: VGroup) -> list[Mobject]:
    """The rows of a page built by :func:`concept_pages` (its columns, flattened)."""
    return [row for column in page for row in column]


def concept_pages(concepts: list[Concept], width: float, height: float) -> list[VGroup]:
    """Pages (VGroups of columns of rows) that each fit ``width`` x ``height``.

    One column if everything fits at ``SMALLEST_SCALE`` or larger, else two columns,
    else two-column pages.
    """
    capacity = height / SMALLEST_SCALE
    rows = [concept_row(i + 1, c, 11.5) for i, c in enumerate(concepts)]
    layout = paginate_columns([r.height for r in rows], capacity, ROW_GAP, 1)
    if len(layout) > 1:
        rows = [concept_row(i + 1, c, 5.4) for i, c in enumerate(concepts)]
        layout = paginate_columns([r.height for r in rows], capacity, ROW_GAP, 2)
    pages = []
    for page in layout:
        columns = VGroup(*(stack([rows[i] for i in col]) for col in page))
        columns.arrange(RIGHT, aligned_edge=UP, buff=0.8)
        pages.append(shrink_to_fit(columns, width, height))
    return pages


def list_pages(rows: list[Mobject], width: float, height: float) -> list[VGroup]:
    """Rows stacked into one-column pages that each fit ``width`` x ``height``."""
    layout = paginate([r.height for r in rows], height / SMALLEST_SCALE, ROW_GAP)
    return [shrink_to_fit(stack([rows[i] for i in page]), width, height) for page in layout]


def reveal_pages(
    scene: TimedScene, clock: BeatClock, pages: list[list[Mobject]], share: float
) -> list[Mobject]:
    """Fade rows in, one (or, when frames are scarce, a few) at a time, page after page.

    Uses ``share`` of the beat; a new page replaces the previous one. With fewer
    frames than pages only the last pages are shown. Returns the rows left on screen.
    """
    budget = max(1, int(clock.duration * clock.fps * share))
    pages = pages[-budget:]
    shown: list[Mobject] = []
    for page, frames in zip(pages, split_frames(budget, [len(p) for p in pages]), strict=True):
        groups = reveal_groups(len(page), frames)
        parts = split_frames(frames, [1.0] * len(groups))
        for k, (group, f) in enumerate(zip(groups, parts, strict=True)):
            fade = max(1, round(0.6 * f))
            anims = [FadeIn(page[i], shift=RIGHT * 0.2) for i in group]
            if k == 0:
                anims += [FadeOut(m) for m in shown]
            scene.play(*anims, run_time=clock.secs(fade / clock.fps))
            scene.hold_frames(f - fade)
        shown = list(page)
    return shown


def section_rows(colour: ManimColor, marker: str, texts: list[str], width: float) -> list[VGroup]:
    """Marked, wrapped rows for a list section."""
    return [
        bullet_row(label(marker, theme.SIZE_BODY, colour), wrapped(t, theme.SIZE_BODY, width - 0.6))
        for t in texts
    ]


# --- scenes -------------------------------------------------------------------------
class TitleCard(TimedScene):
    """Lecture title, subtitle and chapter over a strip of dots going from noise to data."""

    SPEC = catalog.spec("TitleCard")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        width = CONTENT_WIDTH

        title = wrapped(str(self.params["title"]), theme.SIZE_TITLE + 12, width)
        rule = Line(LEFT * 2.5, RIGHT * 2.5, color=theme.ACCENT, stroke_width=theme.STROKE)
        subtitle = wrapped(str(self.params["subtitle"]), theme.SIZE_BODY + 4, width, theme.MUTED)
        chapter = wrapped(str(self.params["chapter"]), theme.SIZE_HEADING, width, theme.ACCENT)
        block = VGroup(title, rule, subtitle).arrange(DOWN, buff=0.4)
        shrink_to_fit(block, width, 4.2)
        block.move_to(UP * 0.7)
        chapter.next_to(block, DOWN, buff=0.7)

        ys, shares = strip_offsets(STRIP_DOTS, self.seed)
        xs = np.linspace(-width / 2 + 0.5, width / 2 - 0.5, STRIP_DOTS)
        strip_y = -config.frame_height / 2 + theme.MARGIN + 0.75
        strip = VGroup(
            *(
                Dot([x, strip_y + 0.22 * y, 0], radius=1.4 * theme.DOT_RADIUS).set_color(
                    interpolate_color(theme.DATA, theme.NOISE, float(s))
                )
                for x, y, s in zip(xs, ys, shares, strict=True)
            )
        )

        # Beat: the title
        with self.beat("title") as b:
            self.play(Write(title), run_time=b.frac(0.45))
            self.play(Create(rule), run_time=b.frac(0.15))

        # Beat: the subtitle
        with self.beat("subtitle") as b:
            self.play(FadeIn(subtitle, shift=UP * 0.2), run_time=b.frac(0.4))

        # Beat: the chapter, over a strip of dots from noise to data
        with self.beat("chapter") as b:
            self.play(FadeIn(chapter, shift=UP * 0.2), run_time=b.frac(0.25))
            self.play(
                LaggedStart(*(GrowFromCenter(d) for d in strip), lag_ratio=0.08),
                run_time=b.frac(0.45),
            )


class KeyConcepts(TimedScene):
    """A heading and numbered concepts with small formulas, revealed one by one.

    Concepts fill one column; when they would have to shrink below ``SMALLEST_SCALE``
    they go into two columns, and when even that is not enough, into pages shown one
    after the other during the "concepts" beat.
    """

    SPEC = catalog.spec("KeyConcepts")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        concepts = parse_concepts(self.params["items"])
        heading = label(str(self.params["heading"]), theme.SIZE_HEADING + 6)
        shrink_to_fit(heading, CONTENT_WIDTH, 1.0).to_edge(UP, buff=theme.MARGIN + 0.1)
        top = heading.get_bottom()[1] - 0.45
        bottom = -config.frame_height / 2 + theme.MARGIN
        pages = concept_pages(concepts, CONTENT_WIDTH, top - bottom)
        pages[0].move_to([0, (top + bottom) / 2, 0])
        for page in pages[1:]:
            page.align_to(pages[0], LEFT + UP)

        # Beat: the heading
        with self.beat("heading") as b:
            self.play(Write(heading), run_time=b.frac(0.5))

        # Beat: the concepts, one at a time (page by page if there are many)
        with self.beat("concepts") as b:
            shown = reveal_pages(self, b, [list(page_rows(p)) for p in pages], 0.9)

        # Beat: recap, all concepts on screen at once
        with self.beat("recap") as b:
            self.play(
                LaggedStart(
                    *(Circumscribe(r, color=theme.ACCENT, buff=0.1) for r in shown), lag_ratio=0.15
                ),
                run_time=b.frac(0.6),
            )


class Takeaways(TimedScene):
    """Takeaways, questions to think about, and what comes next."""

    SPEC = catalog.spec("Takeaways")  # beats and parameters: scenes/catalog.py

    def construct(self) -> None:
        takeaways = check_texts("takeaways", self.params["takeaways"])
        questions = check_texts("questions", self.params["questions"])
        col_w = (CONTENT_WIDTH - 0.8) / 2

        banner_text = wrapped(str(self.params["next"]), theme.SIZE_BODY, CONTENT_WIDTH - 1.0)
        shrink_to_fit(banner_text, CONTENT_WIDTH - 1.0, 1.6)
        banner_box = RoundedRectangle(
            width=banner_text.width + 0.8,
            height=banner_text.height + 0.4,
            corner_radius=0.15,
            color=theme.DATA,
            stroke_width=theme.STROKE_THIN,
        ).set_fill(theme.PANEL, opacity=1.0)
        banner = VGroup(banner_box, banner_text.move_to(banner_box))
        banner.to_edge(DOWN, buff=theme.MARGIN)

        top = config.frame_height / 2 - theme.MARGIN
        bottom = banner.get_top()[1] + 0.35
        columns = []
        for x, heading, colour, marker, texts in (
            (-CONTENT_WIDTH / 2, "Takeaways", theme.GOOD, "✓", takeaways),
            (0.4, "Think about", theme.ACCENT, "?", questions),
        ):
            head = label(heading, theme.SIZE_HEADING, colour)
            head.move_to([x, top, 0], aligned_edge=LEFT + UP)
            room = head.get_bottom()[1] - 0.35 - bottom
            pages = list_pages(section_rows(colour, marker, texts, col_w), col_w, room)
            for page in pages:
                page.next_to(head, DOWN, buff=0.35, aligned_edge=LEFT)
            columns.append((head, [list(p) for p in pages]))

        # Beat: the takeaways, then questions to think about
        for beat, (head, pages) in zip(("takeaways", "questions"), columns, strict=True):
            with self.beat(beat) as b:
                self.play(FadeIn(head), run_time=b.frac(0.1))
                reveal_pages(self, b, pages, 0.75)

        # Beat: what comes next
        with self.beat("next") as b:
            self.play(FadeIn(banner, shift=UP * 0.2), run_time=b.frac(0.4))
