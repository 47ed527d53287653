"""Each segment of the forward-diffusion lecture shows the notebook section its clip speaks about.

The course notebook (``../shared/seeds/001_b63bc1d724e7debd.txt``) plays clip
``<segment id>`` in a cell just before the section the clip narrates. ``SECTIONS`` below
was reviewed against that notebook, cell by cell: for each clip id, the section, the
scene that must show it, what its parameters must say, the beats it must play and the
words or formulas that must be on screen. The default test checks the manifest against
the table (scene, parameters, beats, code on screen for code walkthroughs); the ``slow``
one builds every segment's scene with the manifest's parameters and reads the texts on
screen at each beat end.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline.planning.manifest import load_lecture
from scenes.code import TARGETS, resolve_target
from scenes.registry import load_scene_class

from helpers.scenes import run_scene_class


@dataclass(frozen=True)
class Section:
    """What one clip's segment must show."""

    section: str  # the notebook's section, in its words
    scene: str
    params: Callable[[dict[str, Any]], bool] = lambda p: True
    beats: tuple[str, ...] = ()  # beats the scene must play, in this order
    code: tuple[str, ...] = ()  # for CodeWalkthrough: words the listed code must contain
    screen: tuple[str, ...] = ()  # substrings of texts that must be on screen at some beat
    extra: dict[str, Any] = field(default_factory=dict)


SECTIONS: dict[str, Section] = {
    "01_00_intro": Section("introduction", "TitleCard", screen=("Forward Diffusion",)),
    "01_02_why_matter_intuition": Section(
        "1. why it matters, 2. intuition: noise added little by little", "ForwardIntuition",
        beats=("clean_digit", "add_noise", "pure_noise", "reverse_teaser"),
        screen=("data → noise", "reverse"),
    ),
    "01_03_setup_packages_data": Section(
        "setup: packages, MNIST scaled to [-1, 1], one image", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.mnist:load_mnist", code=("MNIST",),
    ),
    "01_04_visualize_clean_image": Section(
        "the clean image x0", "CleanDigit", screen=("x₀", "shape 1 × 28 × 28")
    ),
    "01_05_math_step_by_step_equation": Section(
        "3. the mathematics: one step with numbers, then α, ᾱ, the closed form and its example",
        "ForwardMath",
        params=lambda p: (p["x_prev"], p["beta"], p["alpha_bar"], p["x0"], p["eps"])
        == (0.8, 0.01, 0.5, 0.8, 0.3),
        beats=("equation", "mean_term", "variance_term", "step_example", "alpha", "alpha_bar",
               "closed_form", "closed_example"),
        screen=(r"q(x_t \mid x_{t-1})", r"\alpha_t", r"\bar\alpha_t", r"\sqrt{\bar\alpha_t}\,x_0",
                r"\text{mean}", r"\text{std}"),
    ),
    "01_07_noise_schedule_implementation": Section(
        "4. step 1: the linear noise schedule in code", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.schedule:NoiseSchedule.linear",
        code=("linspace",),
    ),
    "01_08_noise_schedule_visualization": Section(
        "the ᾱ_t curve with its 50 % line", "ScheduleCurve",
        params=lambda p: p.get("show_cosine") is False, screen=("half the signal",),
    ),
    "01_09_step_by_step_intro_func": Section(
        "step 2: forward_step, one noising step in code", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.forward:q_step", code=("sqrt",),
    ),
    "01_10_step_by_step_visualization": Section(
        "the step-by-step chain on the image", "StepByStepChain",
        screen=("Step by step", "sequential q_step calls"),
    ),
    "01_11_closed_form_intro_func": Section(
        "step 3: the closed-form function in code", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.forward:q_sample", code=("alpha_bar",),
    ),
    "01_12_closed_form_visualization": Section(
        "closed-form jumps to t = 0, 50, 100, 250, 500, 750, 999 with ᾱ", "ClosedFormJump",
        params=lambda p: p.get("ts", [0, 50, 100, 250, 500, 750, 999])
        == [0, 50, 100, 250, 500, 750, 999],
        screen=("closed form", "step by step"),
    ),
    "01_13_todo1_intro": Section(
        "checkpoint (both routes alike), 5. TODO 1: why a cosine schedule", "CosineMotivation",
        beats=("checkpoint", "task", "linear_row", "cosine_row"),
        screen=("Checkpoint", "TODO 1", "cosine schedule", "Nichol & Dhariwal", "linear",
                "cosine"),
    ),
    "01_14_todo1_implementation": Section(
        "TODO 1: the cosine schedule's implementation", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.schedule:NoiseSchedule.cosine",
        code=("cos", "clamp"),
    ),
    "01_15_todo1_verification": Section(
        "TODO 1: linear against cosine ᾱ_t plot", "ScheduleCurve",
        params=lambda p: p.get("show_cosine") is True, screen=("linear", "cosine"),
    ),
    "01_16_todo2_intro": Section(
        "TODO 2: show empirically that both routes give the same distribution", "TwoRoutes",
        params=lambda p: p["pixel"] == [14, 14],
        beats=("task", "routes", "pixel", "plan"),
        screen=("TODO 2", "step by step", "closed form", "pixel (14, 14)", "histograms"),
    ),
    "01_17_todo2_implementation": Section(
        "TODO 2: one pixel sampled by both routes: means, stds, histograms", "ClosedFormCheck",
        params=lambda p: p["pixel"] == [14, 14] and p["n"] >= 1000,
        beats=("step_samples", "closed_samples", "moments"),
        screen=("pixel (14, 14)", "step by step", "closed form", "mean", "std"),
    ),
    "01_18_putting_it_together_class": Section(
        "6. putting it together: the forward diffusion class", "CodeWalkthrough",
        params=lambda p: p["target"] == "diffusion.forward:ForwardProcess",
        code=("class ForwardProcess", "def q_sample"),
    ),
    "01_19_batch_visualization": Section(
        "7. a batch of 8 digits at t = 0 and t = 500", "MnistBatch",
        params=lambda p: (p["n"], p["t_low"], p["t_high"]) == (8, 0, 500),
        screen=("A batch of 8 digits",),
    ),
    "01_20_statistical_verification": Section(
        "statistics of x_T: mean, std, min, max", "XTStats",
        screen=("mean", "std", "min", "max", r"\mathcal{N}(0"),
    ),
    "01_21_final_output_visualization": Section(
        "checkpoint, 8. final output: two digits over ten noise levels", "FinalGallery",
        params=lambda p: p.get("ts", [0, 50, 100, 200, 300, 400, 500, 700, 850, 999])
        == [0, 50, 100, 200, 300, 400, 500, 700, 850, 999],
        screen=("From data to noise",),
    ),
    "01_22_closing": Section(
        "9. takeaways, reflection questions, what is next", "Takeaways",
        screen=("closed form", "cosine"),
    ),
}

SPEC = load_lecture("forward-diffusion")
SEGMENTS = {s.id: s for s in SPEC.segments}


def params_of(seg_id: str) -> dict[str, Any]:
    cls = load_scene_class(SEGMENTS[seg_id].scene)
    return {**cls.PARAMS, **dict(SEGMENTS[seg_id].params)}


def test_every_clip_has_a_reviewed_section() -> None:
    assert list(SEGMENTS) == list(SECTIONS)


@pytest.mark.parametrize("seg_id", list(SECTIONS))
def test_segment_shows_its_section(seg_id: str) -> None:
    want, seg = SECTIONS[seg_id], SEGMENTS[seg_id]
    assert seg.scene == want.scene, f"{seg_id} ({want.section}) must show {want.scene}"
    params = params_of(seg_id)
    assert want.params(params), f"{seg_id}: parameters {params} do not show {want.section}"
    beats = load_scene_class(seg.scene).beat_names()
    positions = [beats.index(b) for b in want.beats]  # ValueError: a beat is missing
    assert positions == sorted(positions), f"{seg_id}: beats {want.beats} out of order"
    if want.code:
        assert params["target"] in TARGETS
        source = inspect.getsource(resolve_target(params["target"]))
        for word in want.code:
            assert word in source, f"{seg_id}: the listing lacks {word!r}"


@pytest.mark.slow
@pytest.mark.parametrize("seg_id", [s for s, w in SECTIONS.items() if w.screen])
def test_segment_puts_its_topics_on_screen(seg_id: str, scene_media_dir: Path) -> None:
    seg = SEGMENTS[seg_id]
    cls = load_scene_class(seg.scene)
    _, snaps = run_scene_class(
        cls, plan={"beats": cls.min_durations()}, params=dict(seg.params), seed=SPEC.seed,
        fps=2, media_dir=scene_media_dir,
    )
    shown = [t for s in snaps for t in s.texts]
    for topic in SECTIONS[seg_id].screen:
        assert any(topic in t for t in shown), f"{seg_id}: {topic!r} never on screen"
