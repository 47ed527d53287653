"""CodeWalkthrough: the listing on screen is the project's own source, every line of it."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest

import diffusion
from scenes.base import TimedScene
from scenes.code import TARGETS, CodeWalkthrough, code_sections, resolve_target, source_of
from scenes.timing import min_total

from helpers.scenes import (
    expected_frames,
    layout_problems,
    probe_frames,
    render_scene,
    run_scene_class,
)

FPS = 10


@pytest.fixture(scope="module")
def runs(scene_media_dir: Path) -> Any:
    cache: dict[str, Any] = {}

    def get(target: str) -> Any:
        if target not in cache:
            cache[target] = run_scene_class(
                CodeWalkthrough, plan={"beats": CodeWalkthrough.min_durations()},
                params={"target": target}, fps=FPS, media_dir=scene_media_dir,
            )
        return cache[target]

    return get


def listing_of(obj: Any) -> list[str]:
    """The expected text: the object's source as Python reports it, dedented."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip("\n").split("\n")


@pytest.mark.parametrize(
    ("target", "obj"),
    [
        ("diffusion.forward:q_sample", diffusion.q_sample),  # fits the window
        ("diffusion.forward:ForwardProcess", diffusion.ForwardProcess),  # scrolls
    ],
)
def test_text_on_screen_is_the_source(runs: Any, target: str, obj: Any) -> None:
    scene, snaps = runs(target)
    want = listing_of(obj)
    code = scene.listing.code
    # manim 0.22 pads the first and last lines with " pA1" while laying them out (to
    # normalise the listing's height) and then drops those glyphs again
    shown = code.code_lines.lines_text.original_text.split("\n")
    shown = [ln.removesuffix(" pA1") for ln in shown]
    assert shown == want
    # every non-blank character of every line is a drawn glyph, in order
    assert len(code.code_lines) == len(want) == len(code.line_numbers)
    for line, text in zip(code.code_lines, want, strict=True):
        assert len(line.submobjects) == len("".join(text.split()))
    # every line was fully visible at some moment, and the frame never overflows
    assert scene.lines_seen == set(range(len(want)))
    assert layout_problems(snaps) == []
    assert scene.frames_written() == round(min_total(CodeWalkthrough.BEATS) * FPS)


def test_long_listing_scrolls_instead_of_overflowing(runs: Any) -> None:
    scene, _ = runs("diffusion.forward:ForwardProcess")
    listing = scene.listing
    assert listing.window < listing.n
    hidden = [i for i in range(listing.n) if listing.code.code_lines[i].get_fill_opacity() < 1e-3]
    assert len(hidden) == listing.n - listing.window


def test_sections_follow_the_source() -> None:
    lines = listing_of(diffusion.q_sample)
    sections = code_sections("\n".join(lines), TARGETS["diffusion.forward:q_sample"].focus)
    sig_end = next(i for i, line in enumerate(lines) if line.startswith(") ->"))
    assert sections.signature == (0, sig_end)
    boxed = {i for a, b in sections.focus for i in range(a, b + 1)}
    assert boxed == {i for i, line in enumerate(lines)
                     if line.lstrip().startswith(("eps =", "signal =", "spread ="))}
    assert [lines[a].lstrip().split()[0] for a, _ in sections.returns] == ["return"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_allowed_target_resolves_and_has_boxes(target: str) -> None:
    obj = resolve_target(target)
    source = source_of(obj)
    assert source.split("\n") == listing_of(obj)
    sections = code_sections(source, TARGETS[target].focus)
    assert sections.focus, f"{target}: no statement mentions {TARGETS[target].focus}"


def test_unknown_target_is_refused_with_the_allowed_list(scene_media_dir: Path) -> None:
    with pytest.raises(ValueError, match="diffusion.forward:q_sample") as err:
        run_scene_class(CodeWalkthrough, params={"target": "os:system"}, fps=FPS,
                        media_dir=scene_media_dir)
    assert "os:system" in str(err.value) and "allowed" in str(err.value)


def test_real_render_has_the_planned_frame_count(tmp_path: Path) -> None:
    plan = {"total": 5.55}
    video = render_scene("CodeWalkthrough", plan=plan, fps=FPS, tmp_path=tmp_path,
                         params={"target": "diffusion.stats:tensor_stats"})
    assert probe_frames(video) == expected_frames(plan, "CodeWalkthrough", FPS) == 56


def test_scene_contract() -> None:
    assert issubclass(CodeWalkthrough, TimedScene)
    assert 3 <= len(CodeWalkthrough.BEATS) <= 6
    assert 15 <= CodeWalkthrough.default_duration() <= 30
