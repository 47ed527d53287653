"""Numbers a narration script may quote, computed by ``diffusion/`` when the lecture loads.

A script writes ``{{name key=value ...}}`` (syntax in :mod:`audio.script`); the value is
formatted as digits, which captions show and every voice reads through
:mod:`audio.textnorm`. A value's arguments default to the segment's own scene
``params`` of the same name, so a placeholder says what the scene computes from those
params (``{{one_step_mean}}`` in a segment with ``params = { x_prev = 0.8, beta = 0.01 }``
is the mean that scene shows), and then to the defaults below.

Values (arguments in brackets):

* ``alpha_bar`` (t, schedule, T): ᾱ_t of ``NoiseSchedule.<schedule>(T)``; ``t=-1`` is the
  last step;
* ``half_step`` (schedule, T, level): the first step with ᾱ_t below ``level`` (0.5);
* ``beta_first`` / ``beta_last`` (schedule, T): β at the first / last step;
* ``steps`` / ``last_step`` (T): T and T - 1;
* ``schedule_default`` (name, schedule): a default argument of ``NoiseSchedule.<schedule>``;
* ``one_step_mean`` (x_prev, beta), ``one_step_std`` (beta): the moments of
  q(x_t | x_t-1) from ``diffusion.worked.one_step_moments``;
* ``closed_form`` (alpha_bar, x0, eps) and its ``closed_form_signal`` (alpha_bar, x0) and
  ``closed_form_noise`` (alpha_bar, eps) terms: ``diffusion.worked.closed_form_example``;
* ``chain_calls`` (t): q_step calls the chain needs to reach step t, t + 1;
* ``image_shape`` (channels): one MNIST image, ``1×28×28`` (``channels=0``: ``28×28``);
* ``grid_points`` (n): points of the toy data set ``diffusion.grid.dot_grid(n)``;
* ``param`` (name, index): one of the segment's scene params, as written.

An argument written ``@name`` (or ``@name[i]``, ``@name[-1]``) takes the scene parameter
of that name (an item of it), so ``{{alpha_bar t=@t_high}}`` follows the scene. The
scene's parameters are the segment's ``params`` over the scene class's ``PARAMS``.

Formatting: ``digits=N`` fixed decimals (floats default to 3; ``param`` prints the value
as written), ``sci=N`` scientific with N mantissa decimals as the scenes print tiny
values (``4.0×10⁻⁵``). Integers print as integers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audio.script import Placeholder, ScriptError, find_placeholders, replace_placeholders
from pipeline import paths

__all__ = ["VALUES", "expand_placeholders", "placeholder_value", "format_value"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _schedule(schedule: str, T: int) -> Any:
    from diffusion.schedule import NoiseSchedule

    if schedule not in ("linear", "cosine"):
        raise ValueError(f"schedule must be linear or cosine, got {schedule!r}")
    return getattr(NoiseSchedule, schedule)(int(T))


def _alpha_bar(t: int, schedule: str = "linear", T: int = 1000) -> float:
    s = _schedule(schedule, T)
    if not -s.T <= int(t) < s.T:
        raise ValueError(f"t must be in 0..{s.T - 1} (or -1 for the last step), got {t}")
    return float(s.alpha_bar(int(t) % s.T))


def _half_step(schedule: str = "linear", T: int = 1000, level: float = 0.5) -> int:
    return int(_schedule(schedule, T).first_below(float(level)))


def _beta_first(schedule: str = "linear", T: int = 1000) -> float:
    return float(_schedule(schedule, T).betas[0])


def _beta_last(schedule: str = "linear", T: int = 1000) -> float:
    return float(_schedule(schedule, T).betas[-1])


def _steps(T: int = 1000) -> int:
    return int(T)


def _last_step(T: int = 1000) -> int:
    return int(T) - 1


def _image_shape(channels: int = 1) -> str:
    from diffusion.mnist import IMAGE_SHAPE

    return "×".join(str(n) for n in (IMAGE_SHAPE if int(channels) else IMAGE_SHAPE[1:]))


def _grid_points(n: int = 11) -> int:
    from diffusion.grid import dot_grid

    return int(dot_grid(int(n)).shape[0])


def _chain_calls(t: int) -> int:
    return int(t) + 1


def _schedule_default(name: str, schedule: str = "linear") -> float | int:
    from diffusion.schedule import NoiseSchedule

    if schedule not in ("linear", "cosine"):
        raise ValueError(f"schedule must be linear or cosine, got {schedule!r}")
    params = inspect.signature(getattr(NoiseSchedule, schedule)).parameters
    defaults: dict[str, float | int] = {
        k: v.default for k, v in params.items() if v.default is not inspect.Parameter.empty
    }
    if name not in defaults:
        raise ValueError(f"NoiseSchedule.{schedule} has no default {name!r} "
                         f"(defaults: {', '.join(defaults)})")
    return defaults[name]


def _one_step_mean(x_prev: float = 0.8, beta: float = 0.01) -> float:
    from diffusion.worked import one_step_moments

    return one_step_moments(float(x_prev), float(beta))[0]


def _one_step_std(beta: float = 0.01) -> float:
    from diffusion.worked import one_step_moments

    return one_step_moments(0.0, float(beta))[1]


def _closed_form(alpha_bar: float = 0.5, x0: float = 0.8, eps: float = 0.3) -> float:
    from diffusion.worked import closed_form_example

    return closed_form_example(float(alpha_bar), float(x0), float(eps))


def _closed_form_signal(alpha_bar: float = 0.5, x0: float = 0.8) -> float:
    from diffusion.worked import closed_form_example

    return closed_form_example(float(alpha_bar), float(x0), 0.0)


def _closed_form_noise(alpha_bar: float = 0.5, eps: float = 0.3) -> float:
    from diffusion.worked import closed_form_example

    return closed_form_example(float(alpha_bar), 0.0, float(eps))


VALUES: dict[str, Callable[..., float | int | str]] = {
    "alpha_bar": _alpha_bar,
    "half_step": _half_step,
    "beta_first": _beta_first,
    "beta_last": _beta_last,
    "steps": _steps,
    "last_step": _last_step,
    "one_step_mean": _one_step_mean,
    "one_step_std": _one_step_std,
    "closed_form": _closed_form,
    "closed_form_signal": _closed_form_signal,
    "closed_form_noise": _closed_form_noise,
    "chain_calls": _chain_calls,
    "image_shape": _image_shape,
    "grid_points": _grid_points,
    "schedule_default": _schedule_default,
}


def _parse_arg(text: str) -> Any:
    """``500`` -> 500, ``0.5`` -> 0.5, anything else stays a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def format_value(
    value: float | int | str, *, digits: int | None = None, sci: int | None = None
) -> str:
    """Digits as the scenes print them: fixed decimals, or ``4.0×10⁻⁵`` for ``sci``."""
    if isinstance(value, str):  # already digits (a shape such as 1×28×28)
        return value
    if sci is not None:
        mantissa, exp = f"{float(value):.{sci}e}".split("e")
        return f"{mantissa}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{3 if digits is None else digits}f}"


_REF = re.compile(r"^@([A-Za-z_][A-Za-z0-9_]*)(?:\[(-?\d+)\])?$")


def _resolve_ref(p: Placeholder, key: str, raw: str, params: Mapping[str, Any]) -> Any:
    m = _REF.match(raw)
    if not m:
        raise ScriptError(f"placeholder {p.text!r}: {key}={raw}: write @name or @name[i]")
    index = m.group(2)
    return _param(p, m.group(1), None if index is None else int(index), params)


def _param(p: Placeholder, name: Any, index: Any, params: Mapping[str, Any]) -> Any:
    """The scene parameter ``name`` (item ``index`` of it, when given)."""
    if name not in params:
        raise ScriptError(
            f"placeholder {p.text!r}: the scene params have no {name!r} "
            f"(params: {', '.join(sorted(params)) or 'none'})"
        )
    value = params[name]
    if index is not None:
        if not isinstance(value, list) or not isinstance(index, int) \
                or not -len(value) <= index < len(value):
            raise ScriptError(f"placeholder {p.text!r}: no item {index} in {name} = {value!r}")
        value = value[index]
    return value


def placeholder_value(p: Placeholder, params: Mapping[str, Any]) -> str:
    """The digits for one placeholder in a segment whose scene has ``params``."""
    args = {k: (_resolve_ref(p, k, v, params) if v.startswith("@") else _parse_arg(v))
            for k, v in p.args}
    digits = args.pop("digits", None)
    sci = args.pop("sci", None)
    for name, fmt in (("digits", digits), ("sci", sci)):
        if fmt is not None and (not isinstance(fmt, int) or not 0 <= fmt <= 8):
            raise ScriptError(f"placeholder {p.text!r}: {name} must be an integer 0..8")
    if p.name == "param":
        name = args.pop("name", None)
        index = args.pop("index", None)
        if args:
            raise ScriptError(f"placeholder {p.text!r}: unknown argument {sorted(args)[0]!r}")
        value = _param(p, name, index, params)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScriptError(f"placeholder {p.text!r}: {name} = {value!r} is not a number")
        if digits is None and sci is None:
            return str(value)
        return format_value(value, digits=digits, sci=sci)
    fn = VALUES.get(p.name)
    if fn is None:
        raise ScriptError(
            f"placeholder {p.text!r}: unknown value {p.name!r}; known: "
            f"{', '.join([*VALUES, 'param'])}"
        )
    accepted = set(inspect.signature(fn).parameters)
    unknown = set(args) - accepted
    if unknown:
        raise ScriptError(
            f"placeholder {p.text!r}: unknown argument {sorted(unknown)[0]!r} "
            f"(accepted: {', '.join(sorted(accepted))})"
        )
    for name in accepted - set(args):
        if name in params:  # the scene's own parameter: say what the scene computes
            args[name] = params[name]
    try:
        value = fn(**args)
    except (ValueError, TypeError) as exc:
        raise ScriptError(f"placeholder {p.text!r}: {exc}") from None
    return format_value(value, digits=digits, sci=sci)


def expand_placeholders(text: str, params: Mapping[str, Any]) -> str:
    """``text`` with every placeholder replaced by its digits (:class:`ScriptError` names
    the first bad one)."""
    found = find_placeholders(text)
    if not found:
        return text
    values = {p.text: placeholder_value(p, params) for p in found}
    return replace_placeholders(text, values)


def _memo_key(text: str, params: Mapping[str, Any]) -> str:
    import json
    from pathlib import Path

    from pipeline.rendering import fingerprint

    code = fingerprint.code_fingerprint(Path(__file__), None)
    return fingerprint.digest(json.dumps([text, dict(params), code], sort_keys=True, default=str))


def expand_placeholders_cached(text: str, params: Mapping[str, Any]) -> str:
    """:func:`expand_placeholders`, remembered in the user cache.

    The key covers the text, the parameters and everything the values are computed
    from: this module's import closure (``diffusion/``), the versions of the libraries
    it imports (torch, numpy) and the data it reads. A warm re-run then plans without
    importing torch; any change to that math computes the digits again.
    """
    if not find_placeholders(text):
        return text
    from pipeline.rendering import fingerprint

    memo = fingerprint.placeholder_memo()
    value = memo.get(_memo_key(text, params), lambda: expand_placeholders(text, params))
    memo.save()
    return str(value)


def prefetch(items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Compute the placeholders of every ``(text, params)`` the memo lacks, in one child
    process, and remember them.

    The values come from ``diffusion/``, which imports torch: some 500 MB that the
    process planning and assembling a lecture would otherwise hold to its end. A text
    the child cannot expand (a bad placeholder) is left out, for
    :func:`expand_placeholders_cached` to raise its error in this process; so is
    everything if the child fails.
    """
    import json
    import os
    import subprocess
    import sys

    from pipeline.rendering import fingerprint

    memo = fingerprint.placeholder_memo()
    todo = {}
    for text, params in items:
        try:
            if not find_placeholders(text):
                continue
        except ScriptError:
            continue  # malformed: reported with its segment by the in-process path
        key = _memo_key(text, params)
        if key not in memo.data:
            todo[key] = {"text": text, "params": dict(params)}
    if not todo:
        return
    root = str(paths.SOURCE_ROOT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.planning.placeholders"], cwd=root, env=env,
            input=json.dumps(list(todo.values()), default=str), capture_output=True,
            text=True, check=True, timeout=600,
        )
        answers = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return
    for key, answer in zip(todo, answers, strict=False):
        if isinstance(answer, dict) and isinstance(answer.get("text"), str):
            memo.data[key] = answer["text"]
            memo.dirty = True
    memo.save()


def _serve() -> int:
    """``python -m pipeline.planning.placeholders``: a JSON list of ``{text, params}`` on stdin,
    the list of ``{text}`` (or ``{error}``) on stdout."""
    import json
    import sys

    out = []
    for item in json.load(sys.stdin):
        try:
            out.append({"text": expand_placeholders(item["text"], item["params"])})
        except ScriptError as exc:
            out.append({"error": str(exc)})
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve())
