"""Graphical regression for the MNIST, equation, check and code scenes.

The key frame of every beat (default plan, seed 0, 192x108 at 5 fps) is compared with
``tests/control_data/<Scene>.npz`` by manim's own frame tester. Regenerate with
``pytest tests/test_scenes_regression.py --set_test`` after an intended visual change;
``--show_diff`` writes PNGs of a mismatch.

The MNIST scenes run on the project's synthetic digits here (``MNIST_ROOT`` points at an
empty folder), so the control frames do not depend on which data a machine has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from diffusion.mnist import clear_mnist_cache

from helpers.scenes import compare_control_frames, layout_problems, run_scene

SCENES = [
    "ForwardIntuition", "CleanDigit", "StepByStepChain", "ClosedFormJump", "MnistBatch",
    "FinalGallery", "OneStepEquation", "ClosedFormEquation", "ClosedFormCheck", "XTStats",
    "CodeWalkthrough",
]


@pytest.fixture
def synthetic_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    monkeypatch.setenv("MNIST_ROOT", str(empty))
    clear_mnist_cache()
    yield
    clear_mnist_cache()


@pytest.mark.parametrize("name", SCENES)
def test_key_frames_match_control_data(
    name: str, synthetic_digits: None, scene_media_dir: Path, request: pytest.FixtureRequest
) -> None:
    snapshots = run_scene(name, media_dir=scene_media_dir)
    assert layout_problems(snapshots) == []
    compare_control_frames(name, snapshots, request)
