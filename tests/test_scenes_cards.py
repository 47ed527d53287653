"""Cards (TitleCard, KeyConcepts, Takeaways) and the layout checker they rely on most."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from manim import (
    DOWN,
    RIGHT,
    DecimalNumber,
    Dot,
    ImageMobject,
    MathTex,
    Square,
    Text,
    ValueTracker,
    VGroup,
    tempconfig,
)

from scenes import theme
from scenes.cards import (
    SMALLEST_SCALE,
    KeyConcepts,
    Takeaways,
    TitleCard,
    check_texts,
    parse_concepts,
    reveal_groups,
)
from scenes.layout import (
    Box,
    check_layout,
    frame_box,
    off_frame,
    paginate,
    paginate_columns,
    shrink_to_fit,
    text_items,
    text_overlaps,
    wrap_words,
)
from scenes.registry import load_scene_class

from helpers.scenes import (
    BeatSnapshot,
    compare_control_frames,
    layout_problems,
    run_scene_class,
)

CARDS = ["TitleCard", "KeyConcepts", "Takeaways"]
FRAME = frame_box(128 / 9, 8.0)
Snapshots = Callable[[str], list[BeatSnapshot]]


@pytest.fixture(autouse=True)
def private_media(tmp_path: Path) -> Iterator[None]:
    """Text and MathTex built outside a scene write their caches under tmp, not ./media."""
    media = tmp_path / "media"
    for sub in ("Tex", "texts"):
        (media / sub).mkdir(parents=True)
    with tempconfig({"media_dir": str(media)}):
        yield


# ------------------------------------------------------------ layout checker
def words(text: str) -> Text:
    return Text(text, font_size=28)


def test_box_overlap_needs_more_than_touching() -> None:
    a = Box(0, 0, 1, 1)
    assert a.overlaps(Box(0.5, 0.5, 2, 2))
    assert not a.overlaps(Box(1.0, 0, 2, 1))  # shares an edge
    assert not a.overlaps(Box(0.995, 0, 2, 1))  # within the tolerance
    assert a.inside(Box(-1, -1, 1, 1)) and not a.inside(Box(-1, -1, 0.9, 1))


def test_overlapping_texts_are_reported_and_separated_ones_are_not() -> None:
    a, b = words("signal"), words("noise")
    assert [i.kind for i in text_overlaps([a, b])] == ["overlap"]
    b.next_to(a, RIGHT, buff=0.1)
    assert text_overlaps([a, b]) == []


def test_a_texts_own_glyphs_are_never_compared() -> None:
    tight = words("AVAWAY Wavy kerning")
    assert len(text_items([tight])) == 1
    assert text_overlaps([tight]) == []


def test_texts_nested_in_groups_are_found_and_numbers_count_as_text() -> None:
    label = MathTex(r"\bar\alpha_t =")
    value = DecimalNumber(0.5, num_decimal_places=3)
    row = VGroup(label, value).arrange(RIGHT, buff=0.2)
    assert text_overlaps([VGroup(VGroup(row))]) == []
    value.shift(0.6 * np.array([-1, 0, 0]))
    issues = text_overlaps([VGroup(VGroup(row))])
    assert len(issues) == 1 and "DecimalNumber" in issues[0].message


def test_invisible_texts_and_trackers_are_ignored() -> None:
    a, b = words("shown"), words("faded").set_opacity(0)
    tracker = ValueTracker(259)  # its "point" sits at x = 259
    assert check_layout([a, b, tracker], FRAME) == []


def test_images_count_as_text_items() -> None:
    img = ImageMobject(np.full((8, 8, 4), 255, dtype=np.uint8)).scale_to_fit_width(2)
    caption = words("digit")
    assert len(text_overlaps([img, caption])) == 1
    caption.next_to(img, DOWN, buff=0.1)
    assert text_overlaps([img, caption]) == []


def test_off_frame_items_are_reported() -> None:
    inside = Square(side_length=7.9)
    edge = Dot([FRAME.xmax, 0, 0], radius=0.05)
    text = words("too far right").move_to([FRAME.xmax, 2, 0])
    issues = off_frame([inside, edge, text], FRAME)
    assert len(issues) == 2
    assert any("Dot" in i.message for i in issues)
    assert any("too far right" in i.message for i in issues)


def test_wrap_words() -> None:
    assert wrap_words("a bb ccc dddd", 6) == "a bb\nccc\ndddd"
    assert wrap_words("unbreakable-word x", 4) == "unbreakable-word\nx"
    assert wrap_words("t\u00a0=\u00a0259 done", 5) == "t\u00a0=\u00a0259\ndone"
    assert wrap_words("one\ntwo three", 20) == "one\ntwo three"


def test_shrink_to_fit_only_shrinks() -> None:
    sq = Square(side_length=4)
    assert shrink_to_fit(sq, 2, 3).width == pytest.approx(2)
    assert shrink_to_fit(Square(side_length=1), 5, 5).width == pytest.approx(1)


# ------------------------------------------------------------ params
def test_parse_concepts_accepts_strings_and_mappings() -> None:
    got = parse_concepts(["plain", {"text": "with math", "math": r"\beta_t"}, {"text": "t"}])
    assert [(c.text, c.math) for c in got] == [
        ("plain", None),
        ("with math", r"\beta_t"),
        ("t", None),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one"),
        ([{"txt": "typo"}], r"items\[0\] must be"),
        ([{"text": "x", "latex": "y"}], "unknown key"),
        ([{"text": "x", "math": 3}], "math must be a string"),
        ([7], r"items\[0\] must be"),
    ],
)
def test_parse_concepts_rejects_bad_items(items: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_concepts(items)


@pytest.mark.parametrize("value", ["one string", [], ["ok", 3], None])
def test_check_texts_rejects_non_lists_of_strings(value: object) -> None:
    with pytest.raises(ValueError, match="takeaways"):
        check_texts("takeaways", value)


def test_paginate_packs_consecutive_items() -> None:
    assert paginate([1, 1, 1, 1], room=2.5, gap=0.5) == [[0, 1], [2, 3]]
    assert paginate([1, 3, 1], room=2.0, gap=0.0) == [[0], [1], [2]]  # too tall: alone
    assert paginate([0.5] * 3, room=10, gap=1) == [[0, 1, 2]]
    assert paginate_columns([1] * 5, room=1.0, gap=0.1, columns=2) == [
        [[0], [1]],
        [[2], [3]],
        [[4]],
    ]


@pytest.mark.parametrize(
    ("count", "budget", "want"),
    [(4, 10, [[0], [1], [2], [3]]), (5, 2, [[0, 1, 2], [3, 4]]), (3, 1, [[0, 1, 2]])],
)
def test_reveal_groups(count: int, budget: int, want: list[list[int]]) -> None:
    assert reveal_groups(count, budget) == want


# ------------------------------------------------------------ the scenes
@pytest.mark.parametrize("name", CARDS)
def test_layout_at_every_beat_end(name: str, scene_snapshots: Snapshots) -> None:
    snaps = scene_snapshots(name)
    assert [s.name for s in snaps] == load_scene_class(name).beat_names()
    assert layout_problems(snaps) == []


@pytest.mark.parametrize("name", CARDS)
def test_key_frames_match_control_data(
    name: str, scene_snapshots: Snapshots, request: pytest.FixtureRequest
) -> None:
    compare_control_frames(name, scene_snapshots(name), request)


def texts_ever_shown(scene: object) -> set[str]:
    """Every Text visible after some play of a scene run with ``every_play=True``."""
    return {
        m.original_text
        for texts in scene.play_texts  # type: ignore[attr-defined]
        for m in texts
        if isinstance(m, Text)
    }


def smallest_font(scene: object) -> float:
    return min(
        m.font_size
        for m, _ in text_items(scene.mobjects)  # type: ignore[attr-defined]
        if isinstance(m, Text)
    )


LONG = (
    "a deliberately long sentence that keeps going well past the width of one line so "
    "that it has to wrap onto several lines"
)


def test_long_concept_lists_page_in_two_columns_and_stay_legible(scene_media_dir: Path) -> None:
    items = [
        {"text": f"Concept {i}: {LONG}", "math": rf"x_{{{i}}} = \sqrt{{\bar\alpha_{i}}}"}
        for i in range(10)
    ]
    scene, snaps = run_scene_class(
        KeyConcepts,
        params={"items": items},
        plan={"total": 6.0},
        media_dir=scene_media_dir,
        every_play=True,
    )
    assert layout_problems(snaps) == []
    shown = texts_ever_shown(scene)
    for i in range(10):
        assert any(t.startswith(f"Concept {i}:") for t in shown)
    lefts = {
        round(m.get_left()[0], 1)
        for texts in scene.play_texts
        for m in texts
        if isinstance(m, Text) and m.original_text.startswith("Concept")
    }
    assert max(lefts) - min(lefts) > 3, "expected a second column"
    assert smallest_font(scene) >= theme.SIZE_BODY * SMALLEST_SCALE - 0.5


def test_long_takeaways_and_questions_page_and_stay_legible(scene_media_dir: Path) -> None:
    params = {
        "takeaways": [f"Takeaway {i}: {LONG}" for i in range(8)],
        "questions": [f"Question {i}: {LONG}?" for i in range(6)],
        "next": "Next: " + LONG * 2,
    }
    scene, snaps = run_scene_class(
        Takeaways,
        params=params,
        plan={"total": 6.0},
        media_dir=scene_media_dir,
        every_play=True,
    )
    assert layout_problems(snaps) == []
    shown = texts_ever_shown(scene)
    assert sum(t.startswith("Takeaway ") for t in shown) == 8
    assert sum(t.startswith("Question ") for t in shown) == 6
    assert smallest_font(scene) >= theme.SIZE_SMALL * 0.75


def test_long_title_card_fits(scene_media_dir: Path) -> None:
    params = {"title": "Title " + LONG, "subtitle": LONG * 2, "chapter": "Chapter 12 · " + LONG}
    scene, snaps = run_scene_class(
        TitleCard, params=params, plan={"total": 2.0}, media_dir=scene_media_dir
    )
    assert layout_problems(snaps) == []
    assert len(list(text_items(scene.mobjects))) == 3
