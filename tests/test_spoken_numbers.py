"""Every number the shipped lectures say is computed, and is the number on screen.

1. No narration types a number: digits and number words (beyond single counting words
   such as "one formula") appear only through placeholders.
2. Each placeholder's value appears on screen in its own segment's scene: the scene is
   run in-process (dry run, minimum beat lengths) and every number it shows at any
   ``play`` (text, LaTeX, code, live readouts) is collected; the spoken value must equal
   one of them to the precision it is spoken with.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from manim import DecimalNumber

from audio.script import find_placeholders
from pipeline.planning.manifest import available_lectures, lecture_path, load_lecture
from pipeline.planning.placeholders import placeholder_value
from scenes.registry import load_scene_class

from helpers.scenes import run_scene_class

NUMBER_WORDS = re.compile(
    r"\b(eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty"
    r"|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)\b"
    r"|\b(zero|one|two|three|four|five|six|seven|eight|nine) point\b"
    r"|\btimes ten to the\b",
    re.IGNORECASE,
)
_SCI = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(?:e|E|\s*(?:\\times|×|\\cdot)\s*10\^?\{?)\s*([-−+]?\d+)\}?"
)
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_PLAIN = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?")


def shipped_segments() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for lid in available_lectures():
        data = tomllib.loads(lecture_path(lid).read_text(encoding="utf-8"))
        out += [(lid, seg) for seg in data["segments"]]
    return out


def numbers_in(text: str) -> list[tuple[float, float]]:
    """(value, precision) of every number written in ``text`` (TeX, code, ``4×10⁻⁵``)."""
    text = text.translate(_SUPER).replace("−", "-")
    out = []
    for m in _SCI.finditer(text):
        mant, exp = m.group(1), int(m.group(2).replace("−", "-"))
        decimals = len(mant.split(".")[1]) if "." in mant else 0
        out.append((float(mant) * 10.0**exp, 0.5 * 10.0 ** (exp - decimals)))
    rest = _SCI.sub(" ", text)
    for m in _PLAIN.finditer(rest):
        s = m.group(0)
        decimals = len(s.split(".")[1]) if "." in s else 0
        out.append((float(s), 0.5 * 10.0**-decimals if decimals else 0.0))
    return out


def on_screen_numbers(scene: Any) -> list[float]:
    shown: list[float] = []
    for texts in scene.play_texts:
        for mob in texts:
            # Code keeps its text in code_lines (a Paragraph), a Paragraph in lines_text
            inner = getattr(mob, "code_lines", mob)
            for item in (mob, inner, getattr(inner, "lines_text", None)):
                for attr in ("original_text", "tex_string"):
                    value = getattr(item, attr, None) if item is not None else None
                    if isinstance(value, str):
                        shown += [v for v, _ in numbers_in(value)]
            if isinstance(mob, DecimalNumber):
                shown.append(float(mob.number))
    listing = getattr(scene, "listing", None)
    if listing is not None:  # CodeWalkthrough: the listing shows this source, line by line
        shown += [v for v, _ in numbers_in(scene.source)]
    for readouts in scene.play_readouts:
        shown += [r.value for r in readouts.values() if r.visible]
    return shown


@pytest.mark.parametrize(("lecture", "seg"), shipped_segments(),
                         ids=[s["id"] for _, s in shipped_segments()])
def test_no_number_is_typed(lecture: str, seg: dict[str, Any]) -> None:
    text = re.sub(r"\{\{.*?\}\}", " ", seg["narration"], flags=re.DOTALL)
    assert not re.search(r"\d", text), f"{lecture}/{seg['id']}: digits outside a placeholder"
    m = NUMBER_WORDS.search(text)
    assert m is None, f"{lecture}/{seg['id']}: typed number {m.group(0)!r}; use a placeholder"


def test_shipped_lectures_load_with_their_placeholders() -> None:
    for lid in available_lectures():
        spec = load_lecture(lid)
        for seg in spec.segments:
            assert "{{" not in seg.narration and "}}" not in seg.narration


WITH_NUMBERS = [(lid, seg) for lid, seg in shipped_segments()
                if find_placeholders(seg["narration"])]


@pytest.mark.slow  # runs 17 scenes (about 5 minutes on a busy 2-core machine)
@pytest.mark.parametrize(("lecture", "seg"), WITH_NUMBERS,
                         ids=[s["id"] for _, s in WITH_NUMBERS])
def test_every_spoken_number_is_on_screen(
    lecture: str, seg: dict[str, Any], scene_media_dir: Path, torch_one_thread: Any
) -> None:
    cls = load_scene_class(seg["scene"])
    params = {**cls.PARAMS, **seg.get("params", {})}
    data = tomllib.loads(lecture_path(lecture).read_text(encoding="utf-8"))
    seed = int(data.get("seed", 0))
    scene, _ = run_scene_class(
        cls, plan={"beats": cls.min_durations()}, params=seg.get("params", {}), seed=seed,
        fps=10, media_dir=scene_media_dir, every_play=True,
    )
    shown = on_screen_numbers(scene)
    assert shown, f"{seg['id']}: the scene shows no numbers at all"
    for p in find_placeholders(seg["narration"]):
        digits = placeholder_value(p, params)
        for value, precision in numbers_in(digits):
            tol = precision + 1e-12 * max(1.0, abs(value))
            match = [w for w in shown if abs(w - value) <= tol]
            assert match, (
                f"{lecture}/{seg['id']}: says {digits} ({p.text}) but the scene shows no "
                f"{value:g} (within {tol:g}); it shows "
                f"{sorted({round(w, 6) for w in shown if math.isfinite(w)})[:40]}"
            )
