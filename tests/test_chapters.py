"""YouTube chapters: merging short segments, whole-second timestamps, rule checks."""

from __future__ import annotations

import re

import pytest

from pipeline.assembly.chapters import (
    Chapter,
    build_chapters,
    chapter_lengths,
    check_chapters,
    format_timestamp,
    to_youtube,
)


def _segments(durations: list[float], start: float = 0.0) -> list[tuple[float, float, str]]:
    out, t = [], start
    for i, d in enumerate(durations):
        out.append((t, d, f"Part {i + 1}"))
        t += d
    return out


def test_long_segments_map_one_to_one() -> None:
    items = _segments([42.4, 65.2, 30.9, 71.3])
    chapters = build_chapters(items)
    assert [c.start for c in chapters] == [0, 42, 107, 138]
    assert [c.title for c in chapters] == ["Part 1", "Part 2", "Part 3", "Part 4"]
    assert check_chapters(chapters, total=sum(d for _, d, _ in items)) == []


def test_title_card_folds_into_the_section_it_introduces() -> None:
    items = [(0.0, 4.0, "Title"), (4.0, 60.0, "Forward process"), (64.0, 50.0, "Reverse process"),
             (114.0, 40.0, "Training")]  # fmt: skip
    chapters = build_chapters(items)
    assert chapters == [
        Chapter(0.0, "Forward process"),
        Chapter(64.0, "Reverse process"),
        Chapter(114.0, "Training"),
    ]


def test_short_segment_merges_into_its_shorter_neighbour() -> None:
    items = [(0.0, 30.0, "A"), (30.0, 6.0, "short"), (36.0, 15.0, "B"), (51.0, 40.0, "C")]
    chapters = build_chapters(items)
    assert [(c.start, c.title) for c in chapters] == [(0, "A"), (30, "B"), (51, "C")]
    lengths = chapter_lengths(chapters, total=91.0)
    assert lengths == [30, 21, 40]


def test_short_last_segment_merges_backwards() -> None:
    chapters = build_chapters(_segments([20.0, 20.0, 20.0, 3.0]))
    assert [c.start for c in chapters] == [0, 20, 40]
    assert check_chapters(chapters, total=63.0) == []


def test_ten_seconds_holds_for_printed_whole_seconds() -> None:
    # 10.4 s segments: 0.0, 10.4, 20.8, 31.2 print as 0:00, 0:10, 0:20, 0:31 -> 10, 10, 11 s;
    # 9.9 s would print 0:09 after 0:00 and be under 10 s as YouTube reads it.
    ok = build_chapters(_segments([10.4, 10.4, 10.4, 10.4]))
    assert [c.start for c in ok] == [0, 10, 20, 31]
    assert check_chapters(ok, total=41.6) == []
    tight = build_chapters(_segments([9.95, 10.1, 10.1, 10.0], start=0.0))
    lengths = chapter_lengths(tight, total=40.15)
    assert all(n >= 10 for n in lengths), lengths
    assert check_chapters(tight, total=40.15) == []
    # a floored start that would make the previous chapter 9 s is merged
    sneaky = build_chapters([(0.0, 9.99, "A"), (9.99, 30.0, "B"), (39.99, 30.0, "C")])
    assert [c.title for c in sneaky] == ["B", "C"]


def test_first_chapter_is_at_zero_even_after_a_lead_in() -> None:
    chapters = build_chapters([(1.5, 30.0, "Intro"), (31.5, 30.0, "Main"), (61.5, 30.0, "End")])
    assert chapters[0].start == 0.0
    assert to_youtube(chapters).splitlines()[0] == "0:00 Intro"


def test_fewer_than_three_is_reported_not_invented() -> None:
    chapters = build_chapters(_segments([8.0, 25.0, 4.0]))
    assert len(chapters) < 3
    problems = check_chapters(chapters, total=37.0)
    assert any("at least 3" in p for p in problems)


def test_timestamps_floor_and_hours() -> None:
    assert format_timestamp(0.0) == "0:00"
    assert format_timestamp(59.999) == "0:59"
    assert format_timestamp(61.0) == "1:01"
    assert format_timestamp(3599.9) == "59:59"
    assert format_timestamp(3725.2, hours=True) == "1:02:05"
    assert format_timestamp(65.0, hours=True) == "0:01:05"
    with pytest.raises(ValueError):
        format_timestamp(-1.0)


def test_youtube_text_short_and_long_lectures() -> None:
    short = build_chapters(_segments([90.0, 200.0, 300.0]))
    assert to_youtube(short, total=590.0) == "0:00 Part 1\n1:30 Part 2\n4:50 Part 3\n"
    long = build_chapters(_segments([1200.0, 1500.0, 1000.0]))
    text = to_youtube(long, total=3700.0)
    assert text == "0:00:00 Part 1\n0:20:00 Part 2\n0:45:00 Part 3\n"
    assert all(re.fullmatch(r"\d+:\d\d:\d\d \S.*", line) for line in text.splitlines())
    assert to_youtube([Chapter(0.0, "A"), Chapter(4000.0, "B")]).startswith("0:00:00 A\n")


def test_check_chapters_names_each_rule() -> None:
    bad = [Chapter(5.0, "Late start"), Chapter(12.0, "Too short"), Chapter(12.0, "Same time")]
    problems = "\n".join(check_chapters(bad, total=30.0))
    assert "not 0:00" in problems
    assert "chapter 1 (0:05 Late start) is 7.0 s long, under 10 s" in problems
    assert "chapter 3 (0:12) is not after chapter 2" in problems
    last_short = [Chapter(0.0, "A"), Chapter(20.0, "B"), Chapter(40.0, "C")]
    assert any("chapter 3" in p for p in check_chapters(last_short, total=48.0))
    assert check_chapters(last_short, total=50.0) == []


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="out of order"):
        build_chapters([(10.0, 20.0, "B"), (0.0, 10.0, "A")])
    with pytest.raises(ValueError, match="no title"):
        build_chapters([(0.0, 20.0, "  ")])
    assert build_chapters([]) == []
