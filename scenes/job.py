"""The job a pipeline hands one scene render (no manim: the pipeline imports it).

The pipeline passes the timing plan, the parameters and the seed as JSON in the
``LECTURE_SCENE_JOB`` environment variable; with ``LECTURE_SCENE_PROGRESS`` set, the
scene prints ``@@lecture-progress <frames> <total>`` on stdout at each beat end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JOB_ENV = "LECTURE_SCENE_JOB"
PROGRESS_ENV = "LECTURE_SCENE_PROGRESS"  # when set, beat ends are reported on stdout
PROGRESS_TAG = "@@lecture-progress"


@dataclass(frozen=True)
class SceneJob:
    """What the pipeline asks of one scene render."""

    plan: Mapping[str, Any] | None
    params: Mapping[str, Any]
    seed: int

    @classmethod
    def from_env(cls) -> SceneJob:
        raw = os.environ.get(JOB_ENV)
        if not raw:
            return cls(plan=None, params={}, seed=0)
        data = json.loads(raw)
        return cls(
            plan=data.get("plan"),
            params=dict(data.get("params") or {}),
            seed=int(data.get("seed", 0)),
        )
