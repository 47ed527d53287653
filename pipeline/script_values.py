"""Numbers a narration script may quote, computed by ``diffusion/`` when the lecture loads.

A script writes ``{{name key=value ...}}`` (syntax in :mod:`audio.script`); the value is
formatted as digits, which captions show and every voice reads through
:mod:`audio.textnorm`. A value's arguments default to the segment's own scene
``params`` of the same name, so a placeholder says what the scene computes from those
params (``{{one_step_mean}}`` in a segment with ``params = { x_prev = 0.8, beta = 0.01 }``
is the mean that scene shows), and then to the defaults below.

=================  ==========================================================  =========
name               value                                                       arguments
=================  ==========================================================  =========
``alpha_bar``      ᾱ_t of a schedule: ``NoiseSchedule.<schedule>(T).alpha_bar(t)`` t, schedule, T
``half_step``      first step with ᾱ_t below ``level``: ``first_below(level)``  schedule, T, level
``beta_first``     β at the first step of a schedule                           schedule, T
``beta_last``      β at the last step                                          schedule, T
``steps``          the number of steps T                                       T
``last_step``      T - 1                                                       T
``one_step_mean``  mean of q(x_t | x_t-1): ``worked.one_step_moments``          x_prev, beta
``one_step_std``   its standard deviation                                      beta
``closed_form``    √ᾱ·x0 + √(1-ᾱ)·ε: ``worked.closed_form_example``            alpha_bar, x0, eps
``param``          one of the segment's scene params (``index=`` for lists)    name, index
=================  ==========================================================  =========

Formatting: ``digits=N`` fixed decimals (floats default to 3; ``param`` prints the value
as written), ``sci=N`` scientific with N mantissa decimals as the scenes print tiny
values (``4.0×10⁻⁵``). Integers print as integers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from audio.script import Placeholder, ScriptError, find_placeholders, replace_placeholders

__all__ = ["VALUES", "expand_placeholders", "placeholder_value", "format_value"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _schedule(schedule: str, T: int) -> Any:
    from diffusion.schedule import NoiseSchedule

    if schedule not in ("linear", "cosine"):
        raise ValueError(f"schedule must be linear or cosine, got {schedule!r}")
    return getattr(NoiseSchedule, schedule)(int(T))


def _alpha_bar(t: int, schedule: str = "linear", T: int = 1000) -> float:
    s = _schedule(schedule, T)
    if not 0 <= int(t) < s.T:
        raise ValueError(f"t must be in 0..{s.T - 1}, got {t}")
    return float(s.alpha_bar(int(t)))


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


def _one_step_mean(x_prev: float = 0.8, beta: float = 0.01) -> float:
    from diffusion.worked import one_step_moments

    return one_step_moments(float(x_prev), float(beta))[0]


def _one_step_std(beta: float = 0.01) -> float:
    from diffusion.worked import one_step_moments

    return one_step_moments(0.0, float(beta))[1]


def _closed_form(alpha_bar: float = 0.5, x0: float = 0.8, eps: float = 0.3) -> float:
    from diffusion.worked import closed_form_example

    return closed_form_example(float(alpha_bar), float(x0), float(eps))


VALUES: dict[str, Callable[..., float | int]] = {
    "alpha_bar": _alpha_bar,
    "half_step": _half_step,
    "beta_first": _beta_first,
    "beta_last": _beta_last,
    "steps": _steps,
    "last_step": _last_step,
    "one_step_mean": _one_step_mean,
    "one_step_std": _one_step_std,
    "closed_form": _closed_form,
}


def _parse_arg(text: str) -> Any:
    """``500`` -> 500, ``0.5`` -> 0.5, anything else stays a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def format_value(value: float | int, *, digits: int | None = None, sci: int | None = None) -> str:
    """Digits as the scenes print them: fixed decimals, or ``4.0×10⁻⁵`` for ``sci``."""
    if sci is not None:
        mantissa, exp = f"{float(value):.{sci}e}".split("e")
        return f"{mantissa}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{3 if digits is None else digits}f}"


def placeholder_value(p: Placeholder, params: Mapping[str, Any]) -> str:
    """The digits for one placeholder in a segment whose scene has ``params``."""
    args = {k: _parse_arg(v) for k, v in p.args}
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
        if name not in params:
            raise ScriptError(
                f"placeholder {p.text!r}: the scene params have no {name!r} "
                f"(params: {', '.join(sorted(params)) or 'none'})"
            )
        value = params[name]
        if index is not None:
            if not isinstance(value, list) or not isinstance(index, int) \
                    or not 0 <= index < len(value):
                raise ScriptError(f"placeholder {p.text!r}: no item {index} in {name} = {value!r}")
            value = value[index]
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
