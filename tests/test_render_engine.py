"""The render engine: one encode at the publishing settings, beat-range parts, scheduling.

Real renders through the pipeline's own child process (``helpers.scenes.render_scene``).
The default suite renders at 192x108; the ``slow`` test renders a real scene at
1080p60 and checks the publishing properties of what lands in the cache.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline import media
from pipeline.planning.manifest import QUALITIES
from pipeline.rendering.cache import render_key
from pipeline.rendering.render_queue import plan_parts
from pipeline.rendering.scene_render import Part, RenderJob, render, split_at_beats
from scenes.registry import load_scene_class
from scenes.timing import min_total, plan_beats

from helpers.scenes import decode_frames, render_scene


def beat_starts(name: str, plan: dict | None, fps: int) -> tuple[list[int], int]:
    """Start frame of each beat and the total, as the scene computes them."""
    cls = load_scene_class(name)
    starts, acc = [], 0.0
    for secs in plan_beats(cls.BEATS, plan).values():
        starts.append(round(acc * fps))
        acc += secs
    return starts, round(acc * fps)


def key_frames(path: Path) -> list[int]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "frame=key_frame", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True)
    return [i for i, k in enumerate(proc.stdout.split()) if k.startswith("1")]


# ------------------------------------------------------------------ pure
def test_split_at_beats_cuts_only_at_beat_starts() -> None:
    starts = [0, 12, 38, 60, 95]
    parts = split_at_beats(starts, 120, 3)
    assert [(p.first, p.last) for p in parts] == [(0, 38), (38, 95), (95, 120)]
    assert split_at_beats(starts, 120, 1) == [Part(0, 0, 120)]
    # a part shorter than min_frames is merged into its neighbour
    merged = split_at_beats(starts, 120, 3, min_frames=30)
    assert [(p.first, p.last) for p in merged] == [(0, 38), (38, 120)]
    for n in range(1, 8):
        got = split_at_beats(starts, 120, n, min_frames=20)
        assert got[0].first == 0 and got[-1].last == 120
        assert all(a.last == b.first and b.first in starts for a, b in zip(got, got[1:]))
        assert all(p.frames >= 20 for p in got)


def _job(key: str, frames: int, beats: tuple[int, ...], scene: str = "TitleCard") -> RenderJob:
    return RenderJob(key, scene, {}, {}, 0, QUALITIES["1080p"], frames, key, beats)


def test_plan_parts_splits_only_the_critical_path_and_orders_by_cost() -> None:
    long = _job("long", 3600, (0, 600, 1200, 1800, 2400, 3000))
    short = [_job(f"s{i}", 300, (0, 150)) for i in range(3)]
    todo = plan_parts([*short, long], {}, workers=2)
    assert [j.key for _, j, _, _ in todo].count("long") == 2  # longer than a fair share
    assert all(n == 1 for _, j, _, n in todo if j.key != "long")
    costs = [c for c, *_ in todo]
    assert costs == sorted(costs, reverse=True)
    # measured costs change the order: a slow scene's short job goes first
    slow = _job("slow", 300, (0,), scene="MnistBatch")
    fast = _job("fast", 600, (0,))
    todo = plan_parts([fast, slow], {"MnistBatch@1080p": 1.0, "TitleCard@1080p": 0.1}, 4)
    assert todo[0][1].key == "slow"
    # one worker never splits
    assert len(plan_parts([long], {}, workers=1)) == 1


def test_encoder_settings_are_part_of_the_render_key(monkeypatch: pytest.MonkeyPatch) -> None:
    args = dict(scene="TitleCard", params={}, plan={"title": 2.0}, quality="1080p", seed=0)
    before = render_key(**args)
    changed = {**media.video_encoder_settings(QUALITIES["1080p"]), "qp": "17"}
    monkeypatch.setattr("pipeline.media.video_encoder_settings", lambda q: changed)
    assert render_key(**args) != before


# ------------------------------------------------------------------ renders
PLAN = {"beats": {"grid": 1.23, "noising": 2.61, "noise": 1.07}}
FPS = 10


def test_parts_join_to_the_frames_of_an_unsplit_render(tmp_path: Path) -> None:
    """ForwardDotGrid (updaters, trackers, always_redraw) split at a beat start:
    the second part runs the scene up to its first beat without drawing."""
    starts, total = beat_starts("ForwardDotGrid", PLAN, FPS)
    whole = render_scene("ForwardDotGrid", plan=PLAN, fps=FPS, tmp_path=tmp_path,
                         keyframes=tuple(starts))
    cut = starts[1]
    first = render_scene("ForwardDotGrid", plan=PLAN, fps=FPS, tmp_path=tmp_path, last=cut,
                         keyframes=tuple(starts))
    second = render_scene("ForwardDotGrid", plan=PLAN, fps=FPS, tmp_path=tmp_path, first=cut,
                          keyframes=tuple(starts))
    assert media.header_frame_count(first) == cut
    assert media.header_frame_count(second) == total - cut
    joined = tmp_path / "joined.mp4"
    media.concat_copy([(first, cut), (second, total - cut)], FPS, joined)
    a, b = decode_frames(whole), decode_frames(joined)
    assert a.shape == b.shape == (total, 108, 192, 3)
    assert np.array_equal(a, b), "joined parts differ from the unsplit render"
    keys = key_frames(whole)
    assert set(starts) <= set(keys) and max(np.diff([*keys, total])) <= max(1, FPS // 2)
    assert key_frames(joined) == keys


@pytest.mark.slow
def test_one_scene_at_1080p60_meets_the_publishing_settings(tmp_path: Path) -> None:
    q = QUALITIES["1080p"]
    cls = load_scene_class("KeyConcepts")
    plan = plan_beats(cls.BEATS, {"total": max(6.0, min_total(cls.BEATS))})
    starts, total = beat_starts("KeyConcepts", {"beats": plan}, q.fps)
    job = RenderJob("k", "KeyConcepts", {}, plan, 0, q, total, "slow-test", tuple(starts))
    video = render(job, tmp_path, parts=2)
    v = media.stream(media.probe(video), "video")
    assert v is not None
    assert (v["codec_name"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (int(v["width"]), int(v["height"])) == (1920, 1080)
    assert v["r_frame_rate"] == v["avg_frame_rate"] == "60/1"
    assert int(v.get("has_b_frames", 0)) <= 2
    assert media.moov_before_mdat(video)
    assert media.header_frame_count(video) == media.count_frames(video) == total
    keys = key_frames(video)
    assert keys[0] == 0 and max(np.diff([*keys, total])) <= q.keyint
    # the picture is there: the last frame is not flat background
    png = tmp_path / "last.png"
    media.extract_frame(video, (total - 2) / q.fps, png)
    from PIL import Image

    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.std() > 5


def test_jobs_follow_cores_and_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.rendering import resources

    q = QUALITIES["1080p"]
    monkeypatch.setattr(resources, "cores", lambda: 8)
    monkeypatch.setattr(resources, "available_mib", lambda: 100_000.0)
    assert resources.default_jobs(q) == 8
    monkeypatch.setattr(resources, "available_mib", lambda: 3 * resources.job_budget_mib(q))
    assert resources.default_jobs(q) == 2  # 80 % of three budgets
    monkeypatch.setattr(resources, "available_mib", lambda: 10.0)
    assert resources.default_jobs(q) == 1


def test_a_scene_that_raises_is_a_render_failure_naming_the_segment(tmp_path: Path) -> None:
    """Parameters are checked by the catalog before rendering; what a scene raises while
    rendering is a render failure with the segment and the scene's own message, never
    guessed to be bad input from its text (this job bypasses planning on purpose)."""
    from pipeline.rendering.scene_render import RenderError

    q = QUALITIES["tiny"]
    job = RenderJob("01_grid", "ForwardDotGrid", {"T": 1}, {}, 0, q, q.fps * 21, "bad-T")
    with pytest.raises(RenderError) as info:
        render(job, tmp_path)
    assert type(info.value) is RenderError
    text = str(info.value)
    assert text.startswith("segment 01_grid: scene ForwardDotGrid failed:"), text
    assert "T" in text and "greater than or equal to 21" in text, text
