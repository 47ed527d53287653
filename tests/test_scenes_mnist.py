"""MNIST scenes: the pictures on screen are the forward-process tensors, pixel for pixel.

Each scene runs once in process (tiny frames, every beat at its minimum, 10 fps),
which also checks that the tightest plan fits and that no beat ends with a layout
problem. The expected pictures are recomputed here with ``diffusion`` and mapped to
grey levels by the documented rule, restated in :func:`expected_gray`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from manim import Text

from diffusion import (
    NoiseSchedule,
    load_mnist,
    make_generator,
    pick_digits,
    q_sample,
    step_by_step,
)
from scenes.images import gray_uint8, shown_gray
from scenes.registry import load_scene_class
from scenes.timing import min_total

from helpers.scenes import (
    expected_frames,
    layout_problems,
    probe_frames,
    read_readouts,
    render_scene,
    run_scene_class,
)

SCENES = [
    "ForwardIntuition",
    "CleanDigit",
    "StepByStepChain",
    "ClosedFormJump",
    "MnistBatch",
    "FinalGallery",
]
FPS = 10


def expected_gray(x: torch.Tensor) -> np.ndarray:
    """The documented mapping, restated: clamp to [-1, 1], (x + 1) / 2 * 255, round half up."""
    v = (x.to(torch.float64).clamp(-1.0, 1.0) + 1.0) / 2.0 * 255.0
    return torch.floor(v + 0.5).to(torch.uint8).reshape(x.shape[-2:]).numpy()


def fixed_string(value: float, decimals: int) -> str:
    """How a DecimalNumber prints ``value``: fixed decimals, no sign on a rounded zero."""
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def digits(n: int, seed: int, distinct: bool = True) -> tuple[torch.Tensor, list[int]]:
    data = load_mnist(split="test")
    idx = pick_digits(data, n, seed=seed, distinct=distinct)
    return data.images[idx].to(torch.float64), [int(data.labels[i]) for i in idx]


@pytest.fixture
def runs(min_plan_runs: Any) -> Any:
    return min_plan_runs


# ------------------------------------------------------------------ the mapping
def test_gray_levels_follow_the_documented_rounding() -> None:
    # 0 -> 127.5 exactly: half rounds up; outside [-1, 1] clamps
    x = np.array([[-1.0, 0.0, 1.0, 2.0, -3.0, 0.5, -0.5, -0.99]])
    assert gray_uint8(x).tolist() == [[0, 128, 255, 255, 0, 191, 64, 1]]
    # MNIST's own grey levels survive the round trip through [-1, 1] (float32)
    levels = torch.arange(256, dtype=torch.uint8)
    x = levels.to(torch.float32).div(255).sub(0.5).div(0.5).reshape(1, 16, 16)
    assert gray_uint8(x).flatten().tolist() == list(range(256))
    assert gray_uint8(torch.zeros(1, 2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="one channel"):
        gray_uint8(torch.zeros(2, 4, 4))


# ------------------------------------------------------------------ timing, layout
@pytest.mark.parametrize("name", SCENES)
def test_minimum_plan_fits_and_layout_is_clean(name: str, runs: Any) -> None:
    scene, snaps = runs(name)
    cls = load_scene_class(name)
    assert 3 <= len(cls.BEATS) <= 6 and 15 <= cls.default_duration() <= 30
    assert scene.frames_written() == round(min_total(cls.BEATS) * FPS)
    assert [s.name for s in snaps] == cls.beat_names()
    assert layout_problems(snaps) == []
    # something is drawn at the end of every beat
    assert all(s.frame.std() > 3 for s in snaps)


def test_real_render_has_the_planned_frame_count(tmp_path: Path) -> None:
    plan = {"beats": {"title": 1.13, "first_digit": 2.37, "second_digit": 1.55, "hold": 1.06}}
    video = render_scene("FinalGallery", plan=plan, fps=FPS, tmp_path=tmp_path)
    assert probe_frames(video) == expected_frames(plan, "FinalGallery", FPS) == 61


# ------------------------------------------------------------------ pixels = tensors
def test_closed_form_jump_shows_the_forward_process(runs: Any) -> None:
    scene, _ = runs("ClosedFormJump")
    ts = scene.params["ts"]
    schedule = NoiseSchedule.linear()
    (x0,), _ = digits(1, seed=0)
    batch = x0.expand(len(ts), 1, 28, 28)
    jumped = q_sample(batch, torch.tensor(ts), schedule, generator=make_generator(0, "cpu"))
    chain = step_by_step(x0, max(ts), schedule, generator=make_generator(1, "cpu"), record=ts)
    for i, t in enumerate(ts):
        closed = scene.shown[f"closed t={t}"]
        np.testing.assert_array_equal(shown_gray(closed), expected_gray(jumped[i]))
        np.testing.assert_array_equal(shown_gray(scene.shown[f"chain t={t}"]),
                                      expected_gray(chain[t]))
        rgba = closed.pixel_array
        assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 3] == 255).all()
    # not a constant picture: the clean end is a digit, the noisy end is noise
    first, last = shown_gray(scene.shown[f"closed t={ts[0]}"]), shown_gray(
        scene.shown[f"closed t={ts[-1]}"])
    assert (first < 16).mean() > 0.4 and 60 < last.std() < 120


def test_alpha_bar_labels_match_the_schedule(runs: Any) -> None:
    scene, _ = runs("ClosedFormJump")
    schedule = NoiseSchedule.linear()
    for t, label in zip(scene.params["ts"], scene.alpha_labels, strict=True):
        tex = label.tex_string
        if r"\times10^" in tex:
            mantissa, exp = tex.split(r"\times10^")
            shown = float(mantissa) * 10 ** int(exp.strip("{}"))
            digits_shown = len(mantissa.replace(".", "").lstrip("0"))
            ulp = 10 ** (int(exp.strip("{}")) - (len(mantissa.split(".")[1])))
        else:
            shown = float(tex)
            digits_shown = len(tex.replace(".", "").lstrip("0"))
            ulp = 10 ** -len(tex.split(".")[1])
        assert 3 <= digits_shown <= 4, tex
        assert abs(shown - schedule.alpha_bar(t)) <= ulp / 2 + 1e-15, (t, tex)


def test_forward_intuition_dissolves_into_one_noise_draw(runs: Any) -> None:
    scene, _ = runs("ForwardIntuition")
    schedule = NoiseSchedule.linear()
    (x0,), _ = digits(1, seed=0)
    for t in scene.params["ts"]:
        want = q_sample(x0, t, schedule, generator=make_generator(0, "cpu"))
        np.testing.assert_array_equal(shown_gray(scene.shown[f"t={t}"]), expected_gray(want))


def test_step_by_step_chain_records_q_step_repeatedly(runs: Any) -> None:
    scene, _ = runs("StepByStepChain")
    steps = scene.params["display_steps"]
    schedule = NoiseSchedule.linear()
    (x0,), _ = digits(1, seed=0)
    chain = step_by_step(x0, max(steps), schedule, generator=make_generator(1, "cpu"),
                         record=steps)
    for s in steps:
        np.testing.assert_array_equal(shown_gray(scene.shown[f"step t={s}"]),
                                      expected_gray(chain[s]))
    # the live picture ends on the last recorded state
    np.testing.assert_array_equal(shown_gray(scene.shown["live"]), expected_gray(chain[steps[-1]]))
    np.testing.assert_array_equal(shown_gray(scene.shown["clean"]), expected_gray(x0))


def test_batch_and_gallery_show_their_tensors(runs: Any) -> None:
    schedule = NoiseSchedule.linear()
    batch_scene, _ = runs("MnistBatch")
    n, lo, hi = (batch_scene.params[k] for k in ("n", "t_low", "t_high"))
    x0, _ = digits(n, seed=0)
    both = q_sample(torch.cat([x0, x0]), torch.tensor([lo] * n + [hi] * n), schedule,
                    generator=make_generator(0, "cpu"))
    for i in range(n):
        np.testing.assert_array_equal(shown_gray(batch_scene.shown[f"t={lo} #{i}"]),
                                      expected_gray(both[i]))
        np.testing.assert_array_equal(shown_gray(batch_scene.shown[f"t={hi} #{i}"]),
                                      expected_gray(both[n + i]))

    gallery, _ = runs("FinalGallery")
    ts = gallery.params["ts"]
    pair, _ = digits(2, seed=0)
    for d in range(2):
        rows = q_sample(pair[d].expand(len(ts), 1, 28, 28), torch.tensor(ts), schedule,
                        generator=make_generator(d, "cpu"))
        for i, t in enumerate(ts):
            np.testing.assert_array_equal(shown_gray(gallery.shown[f"digit{d} t={t}"]),
                                          expected_gray(rows[i]))


def test_another_seed_gives_other_digits_and_noise(runs: Any) -> None:
    scene0, _ = runs("ClosedFormJump", 0)
    scene1, _ = runs("ClosedFormJump", 1)
    (x1,), _ = digits(1, seed=1)
    np.testing.assert_array_equal(shown_gray(scene1.shown["closed t=0"]),
                                  expected_gray(q_sample(x1, 0, NoiseSchedule.linear(),
                                                         generator=make_generator(1, "cpu"))))
    assert not np.array_equal(shown_gray(scene0.shown["closed t=500"]),
                              shown_gray(scene1.shown["closed t=500"]))


# ------------------------------------------------------------------ readouts
def test_clean_digit_readouts_show_the_tensor(runs: Any) -> None:
    scene, _ = runs("CleanDigit")
    (x0,), (label,) = digits(1, seed=0)
    readouts = read_readouts(scene)
    assert all(r.visible for r in readouts.values())
    assert readouts["label"].shown == str(label)
    want = {"min": (float(x0.min()), 2), "max": (float(x0.max()), 2)}
    for key, (r, c) in scene.probe_pixels.items():
        want[key] = (float(x0[0, r, c]), 3)
    want_bright = torch.nonzero(x0[0] == x0[0].max())[0].tolist()
    assert list(scene.probe_pixels["bright"]) == want_bright
    for key, (value, decimals) in want.items():
        ro = readouts[key]
        assert ro.decimals == decimals
        assert ro.shown == fixed_string(value, decimals)
    np.testing.assert_array_equal(shown_gray(scene.shown["x0"]), expected_gray(x0))
    assert scene.shape_text.original_text.startswith("shape 1 × 28 × 28")


def test_synthetic_digits_are_labelled_on_screen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scene_media_dir: Path
) -> None:
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))  # an empty folder: no MNIST there
    cls = load_scene_class("CleanDigit")
    scene, _ = run_scene_class(cls, plan={"beats": cls.min_durations()}, fps=FPS,
                               media_dir=scene_media_dir)
    notes = [m for m in scene.mobjects if isinstance(m, Text) and "synthetic" in m.original_text]
    assert len(notes) == 1
