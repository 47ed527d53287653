"""Every scene a lecture manifest may name, in course order (explicit, never globbed).

Values are ``"module:Class"``; the module is also the file ``scenes/<module>.py`` that
``manim render`` is pointed at.
"""

from __future__ import annotations

import importlib
from pathlib import Path

SCENES: dict[str, str] = {
    # cards.py: title, key concepts, takeaways/closing
    "TitleCard": "scenes.cards:TitleCard",
    "KeyConcepts": "scenes.cards:KeyConcepts",
    "Takeaways": "scenes.cards:Takeaways",
    # dot_grid.py: forward and reverse diffusion of the 11x11 grid
    "ForwardDotGrid": "scenes.dot_grid:ForwardDotGrid",
    "ReverseDotGrid": "scenes.dot_grid:ReverseDotGrid",
    # schedule_curve.py: alpha-bar curves
    "ScheduleCurve": "scenes.schedule_curve:ScheduleCurve",
    # mnist.py: digits dissolving, computed by the torch forward process
    "ForwardIntuition": "scenes.mnist:ForwardIntuition",
    "CleanDigit": "scenes.mnist:CleanDigit",
    "StepByStepChain": "scenes.mnist:StepByStepChain",
    "ClosedFormJump": "scenes.mnist:ClosedFormJump",
    "MnistBatch": "scenes.mnist:MnistBatch",
    "FinalGallery": "scenes.mnist:FinalGallery",
    "CosineMotivation": "scenes.mnist:CosineMotivation",
    # equations.py: real LaTeX with worked numbers
    "OneStepEquation": "scenes.equations:OneStepEquation",
    "ClosedFormEquation": "scenes.equations:ClosedFormEquation",
    "ForwardMath": "scenes.equations:ForwardMath",
    # checks.py: statistics of the closed form
    "TwoRoutes": "scenes.checks:TwoRoutes",
    "ClosedFormCheck": "scenes.checks:ClosedFormCheck",
    "XTStats": "scenes.checks:XTStats",
    # code.py: the project's own functions on screen
    "CodeWalkthrough": "scenes.code:CodeWalkthrough",
}

SCENES_DIR = Path(__file__).resolve().parent


def scene_file(name: str) -> Path:
    """The file ``manim render`` is given for scene ``name``."""
    module = SCENES[name].split(":")[0]
    return SCENES_DIR / f"{module.split('.')[-1]}.py"


def load_scene_class(name: str) -> type:
    """Import and return the scene class registered as ``name``."""
    if name not in SCENES:
        raise KeyError(name)
    module_name, cls_name = SCENES[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)
