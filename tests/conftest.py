"""Shared pytest options and fixtures.

``--set_test`` and ``--show_diff`` are the flags of manim's graphical tests (registered
here as in manim's own ``tests/conftest.py``); ``helpers.scenes.compare_control_frames``
reads them. ``scene_snapshots`` runs a registered scene once per session, in process,
with its defaults, and hands out the per-beat snapshots (see ``helpers.scenes``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenes.registry import load_scene_class

from helpers.scenes import BeatSnapshot, run_scene, run_scene_class


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--set_test",
        action="store_true",
        default=False,
        help="write the control frames of graphical scene tests instead of comparing them",
    )
    parser.addoption(
        "--show_diff",
        action="store_true",
        default=False,
        help="on a graphical mismatch, save generated/expected/difference PNGs",
    )


@pytest.fixture(scope="session")
def scene_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media folder for in-process scene runs, so LaTeX is compiled once per session."""
    return tmp_path_factory.mktemp("scene-media")


@pytest.fixture(scope="session")
def scene_snapshots(scene_media_dir: Path) -> Callable[[str], list[BeatSnapshot]]:
    """``scene_snapshots(name)``: snapshots of the default run of a registered scene.

    Default params and plan, seed 0, 192x108 at 5 fps; computed on first use and
    cached for the session (layout, readout and control-frame tests share one run).
    """
    cache: dict[str, list[BeatSnapshot]] = {}

    def get(name: str) -> list[BeatSnapshot]:
        if name not in cache:
            cache[name] = run_scene(name, media_dir=scene_media_dir)
        return cache[name]

    return get


MIN_PLAN_FPS = 10


@pytest.fixture(scope="session")
def min_plan_runs(scene_media_dir: Path) -> Callable[..., Any]:
    """``min_plan_runs(name, seed=0, **params)``: (scene, snapshots) of a run in which
    every beat gets only its minimum duration, at 10 fps; cached for the session."""
    cache: dict[tuple[str, int, str], Any] = {}

    def get(name: str, seed: int = 0, **params: Any) -> Any:
        key = (name, seed, repr(sorted(params.items())))
        if key not in cache:
            cls = load_scene_class(name)
            cache[key] = run_scene_class(
                cls, plan={"beats": cls.min_durations()}, params=params, seed=seed,
                fps=MIN_PLAN_FPS, media_dir=scene_media_dir,
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def reliability_lecture(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A published tiny lecture (two variants rendered) for the reliability tests."""
    from helpers.reliability import make_lecture

    return make_lecture(tmp_path_factory)


@pytest.fixture(scope="module")
def torch_one_thread() -> Any:
    """Many tiny tensor ops: one intra-op thread is far faster on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
