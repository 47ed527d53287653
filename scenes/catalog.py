"""What every scene takes, without importing manim or torch: beats and parameters.

The catalog is the single source of truth for each scene's timing skeleton (its
``BEATS``: name, default seconds, minimum seconds) and for the parameters a lecture
manifest may give it (a strict pydantic model with types and ranges). The scene
classes in ``scenes/*.py`` take both from here (``SPEC = catalog.spec("Name")``), and
planning (``pipeline.planning.manifest``, ``pipeline.planning.plan.plan_lecture``) reads them here,
so a lecture is validated and timed before any manim or torch import, and bad
parameters fail before the first render starts.

Adding a scene: write its ``Params`` model and its ``SceneSpec`` below, register the
class in ``scenes/registry.py`` and set ``SPEC = catalog.spec("Name")`` on the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scenes.timing import Beat

T_COURSE = 1000  # steps of the lecture's default schedules (linear and cosine)
Schedule = Literal["linear", "cosine"]


class ParamError(ValueError):
    """A scene parameter is unknown, of the wrong type or out of range.

    ``field`` is the dotted path inside the parameters (``"ts"``, ``"items.2.math"``).
    """

    def __init__(self, scene: str, field: str, message: str) -> None:
        self.scene = scene
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class Params(BaseModel):
    """Base of every scene's parameter model: no unknown keys, no silent coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _increasing(name: str, values: list[int], top: int) -> list[int]:
    if not values:
        raise ValueError(f"{name} must not be empty")
    if any(not 0 <= v <= top for v in values):
        raise ValueError(f"{name} must lie in [0, {top}], got {values}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name} must be strictly increasing, got {values}")
    return values


# ------------------------------------------------------------------------- cards
class TitleCardParams(Params):
    title: str = Field("Diffusion Models", min_length=1, max_length=1000)
    subtitle: str = Field("From noise to data, one small step at a time", max_length=1000)
    chapter: str = Field("Chapter 1 · The forward process", max_length=1000)


class Concept(Params):
    text: str = Field(min_length=1, max_length=1000)
    math: str | None = Field(None, max_length=1000)


DEFAULT_CONCEPTS: list[dict[str, str]] = [
    {
        "text": "A noise schedule sets how much noise each step adds",
        "math": r"\beta_1 < \beta_2 < \dots < \beta_T",
    },
    {
        "text": "A fixed forward process turns data into noise",
        "math": r"q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big)",
    },
    {
        "text": "A learned reverse process turns noise back into data",
        "math": r"p_\theta(x_{t-1} \mid x_t)",
    },
    {
        "text": "The network is trained to predict the added noise",
        "math": r"\mathcal{L} = \big\lVert \epsilon - \epsilon_\theta(x_t, t) \big\rVert^2",
    },
]


class KeyConceptsParams(Params):
    heading: str = Field("Key concepts", min_length=1, max_length=1000)
    # A concept is a plain string or {text, math}; many concepts paginate.
    items: list[str | Concept] = Field(
        default_factory=lambda: [Concept(**c) for c in DEFAULT_CONCEPTS],
        min_length=1, max_length=16,
    )


class TakeawaysParams(Params):
    takeaways: list[str] = Field(
        default_factory=lambda: [
            "The forward process adds Gaussian noise on a fixed schedule.",
            "Any step t can be reached from x₀ in one jump, thanks to the closed form.",
            "The cosine schedule keeps the signal longer than the linear one.",
            "Sampling runs the chain backwards, one denoising step at a time.",
        ],
        min_length=1, max_length=12,
    )
    questions: list[str] = Field(
        default_factory=lambda: [
            "Why must ᾱ be close to 0 at the last step?",
            "What changes if T is 10 instead of 1000?",
            "Why predict the noise ε rather than x₀?",
        ],
        min_length=1, max_length=12,
    )
    next: str = Field("Next: training the noise-prediction network", max_length=1000)


# ---------------------------------------------------------------------- dot grid
class DotGridParams(Params):
    # The display schedule is the linear one scaled to T steps; it needs T >= 21. Every
    # sampled step is drawn, so T is bounded by what the beat's frames can show.
    T: int = Field(60, ge=21, le=T_COURSE)


class ReverseDotGridParams(DotGridParams):
    # Three samples per grid point by default, so the recovered grid fills in.
    n_samples: int = Field(363, ge=1, le=2000)


# ---------------------------------------------------------------------- schedule
class ScheduleCurveParams(Params):
    T: int = Field(T_COURSE, ge=10, le=10_000)
    show_cosine: bool = True


# ------------------------------------------------------------------------- mnist
class _MnistParams(Params):
    schedule: Schedule = "linear"


class _TsParams(_MnistParams):
    @field_validator("ts", check_fields=False)
    @classmethod
    def _ts(cls, v: list[int]) -> list[int]:
        return _increasing("ts", v, T_COURSE - 1)


class ForwardIntuitionParams(_TsParams):
    ts: list[int] = Field(default_factory=lambda: [0, 100, 250, 500, 999], max_length=10)


class CleanDigitParams(Params):
    pass


class StepByStepChainParams(_MnistParams):
    display_steps: list[int] = Field(
        default_factory=lambda: [0, 50, 100, 250, 500, 750, 999], max_length=10
    )

    @field_validator("display_steps")
    @classmethod
    def _steps(cls, v: list[int]) -> list[int]:
        return _increasing("display_steps", v, T_COURSE - 1)


class ClosedFormJumpParams(_TsParams):
    ts: list[int] = Field(default_factory=lambda: [0, 50, 100, 250, 500, 750, 999], max_length=10)


class MnistBatchParams(_MnistParams):
    n: int = Field(8, ge=1, le=10)
    t_low: int = Field(0, ge=0, le=T_COURSE - 1)
    t_high: int = Field(500, ge=0, le=T_COURSE - 1)

    @model_validator(mode="after")
    def _ordered(self) -> MnistBatchParams:
        if self.t_low >= self.t_high:
            raise ValueError(f"t_low must be below t_high, got {self.t_low} and {self.t_high}")
        return self


class CosineMotivationParams(Params):
    ts: list[int] = Field(default_factory=lambda: [0, 250, 500, 750, 999], max_length=7)
    t_check: int = Field(500, ge=0, le=T_COURSE - 1)

    @field_validator("ts")
    @classmethod
    def _ts(cls, v: list[int]) -> list[int]:
        return _increasing("ts", v, T_COURSE - 1)


class FinalGalleryParams(_TsParams):
    # at most 10 noise levels fit the frame
    ts: list[int] = Field(
        default_factory=lambda: [0, 50, 100, 200, 300, 400, 500, 700, 850, 999], max_length=10
    )


# --------------------------------------------------------------------- equations
class OneStepEquationParams(Params):
    x_prev: float = Field(0.8, ge=-1.0, le=1.0)  # a pixel value in [-1, 1]
    beta: float = Field(0.01, gt=0.0, lt=1.0)


class ClosedFormEquationParams(Params):
    alpha_bar: float = Field(0.5, gt=0.0, le=1.0)
    x0: float = Field(0.8, ge=-1.0, le=1.0)
    eps: float = Field(0.3, ge=-4.0, le=4.0)  # a draw of N(0, 1)


class ForwardMathParams(OneStepEquationParams, ClosedFormEquationParams):
    """One step, then the closed form: both scenes' parameters."""


# ------------------------------------------------------------------------ checks
Pixel = Annotated[list[Annotated[int, Field(ge=0, le=27)]], Field(min_length=2, max_length=2)]


class _RoutesParams(_MnistParams):
    ts: list[int] = Field(default_factory=lambda: [100, 600], min_length=1, max_length=2)
    n: int = Field(4000, ge=100, le=100_000)

    @field_validator("ts")
    @classmethod
    def _ts(cls, v: list[int]) -> list[int]:
        return _increasing("ts", v, T_COURSE - 1)


class ClosedFormCheckParams(_RoutesParams):
    x0: float = Field(0.8, ge=-1.0, le=1.0)  # used when no pixel is named
    pixel: Pixel | None = None  # [row, col] of the scene's digit, instead of x0
    bins: int = Field(30, ge=5, le=100)


class TwoRoutesParams(_RoutesParams):
    pixel: Pixel = Field(default_factory=lambda: [14, 14])  # [row, col] of the digit


class XTStatsParams(_MnistParams):
    n_digits: int = Field(64, ge=1, le=200)
    t: int | None = Field(None, ge=0, le=T_COURSE - 1)  # None: the last step, T - 1
    bins: int = Field(40, ge=5, le=100)
    shown: int = Field(16, ge=1, le=16)

    @model_validator(mode="after")
    def _shown_fits(self) -> XTStatsParams:
        if self.shown > self.n_digits:
            raise ValueError(f"shown must be at most n_digits = {self.n_digits}, got {self.shown}")
        return self


# -------------------------------------------------------------------------- code
# The functions CodeWalkthrough may show (scenes/code.py holds what to highlight in each).
CODE_TARGETS: tuple[str, ...] = (
    "diffusion.schedule:NoiseSchedule.linear",
    "diffusion.schedule:NoiseSchedule.cosine",
    "diffusion.forward:q_step",
    "diffusion.forward:step_by_step",
    "diffusion.forward:q_sample",
    "diffusion.forward:ForwardProcess",
    "diffusion.mnist:load_mnist",
    "diffusion.stats:closed_form_check",
    "diffusion.stats:tensor_stats",
)


@lru_cache(maxsize=1)
def _pygments_styles() -> frozenset[str]:
    from pygments.styles import get_all_styles  # light, and only when a style is given

    return frozenset(get_all_styles())


class CodeWalkthroughParams(Params):
    target: str = "diffusion.forward:q_sample"
    style: str = "monokai"

    @field_validator("target")
    @classmethod
    def _known_target(cls, v: str) -> str:
        if v not in CODE_TARGETS:
            raise ValueError(f"unknown target {v!r}; allowed targets: {sorted(CODE_TARGETS)}")
        return v

    @field_validator("style")
    @classmethod
    def _known_style(cls, v: str) -> str:
        if v not in _pygments_styles():
            raise ValueError(f"unknown Pygments style {v!r}")
        return v


# ----------------------------------------------------------------------- catalog
@dataclass(frozen=True)
class SceneSpec:
    """One scene's timing skeleton and parameter model."""

    name: str
    beats: tuple[Beat, ...]
    params: type[Params]

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default, as JSON-able values."""
        return self.params().model_dump(mode="json")

    def resolve(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """``given`` checked and completed with defaults (JSON-able), or ``ParamError``."""
        try:
            model = self.params.model_validate(dict(given or {}))
        except ValidationError as exc:
            raise _param_error(self.name, exc, self.params) from None
        return model.model_dump(mode="json")

    @property
    def min_total(self) -> float:
        return sum(b.minimum for b in self.beats)


def resolve_model(scene: str, model: type[BaseModel], given: Mapping[str, Any] | None
                  ) -> dict[str, Any]:
    """``given`` checked against any pydantic ``model`` (a scene of a lecture's own
    declares one as ``Params``) and completed with its defaults, or ``ParamError``."""
    try:
        return model.model_validate(dict(given or {})).model_dump(mode="json")
    except ValidationError as exc:
        raise _param_error(scene, exc, model) from None


def own_params_model(cls: type) -> type[BaseModel] | None:
    """The parameter model a scene class declares as ``Params`` (a pydantic model), if
    any; ``TypeError`` when ``Params`` is something else."""
    model = getattr(cls, "Params", None)
    if model is None:
        return None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{cls.__name__}.Params must be a pydantic BaseModel subclass, "
                        f"got {model!r}")
    return model


def _param_error(scene: str, exc: ValidationError, model: type[BaseModel]) -> ParamError:
    # For a union (a string or a mapping), the deepest error says most about the input.
    err = max(exc.errors(), key=lambda e: len(e["loc"]))
    # Union members and model-level checks add non-field parts to the location.
    loc = [str(p) for p in err["loc"] if str(p) not in ("str", "Concept")]
    msg = err["msg"].removeprefix("Value error, ")
    fields = model.model_fields
    if not loc:  # a check across fields: its message starts with the field it blames
        loc = [f for f in fields if msg.startswith(f + " ")][:1]
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(fields) or "none"
        msg = f"unknown parameter for {scene}; allowed: {allowed}"
    elif err["type"].endswith("_type") or err["type"] == "literal_error":
        msg += f", got {err['input']!r}"
    return ParamError(scene, ".".join(loc), msg)


CATALOG: dict[str, SceneSpec] = {
    s.name: s
    for s in (
        SceneSpec("TitleCard", (
            Beat("title", 5.0, 1.0),
            Beat("subtitle", 4.0, 0.5),
            Beat("chapter", 6.0, 0.5),
        ), TitleCardParams),
        SceneSpec("KeyConcepts", (
            Beat("heading", 3.0, 0.5),
            Beat("concepts", 16.0, 1.5),
            Beat("recap", 4.0, 0.5),
        ), KeyConceptsParams),
        SceneSpec("Takeaways", (
            Beat("takeaways", 9.0, 1.0),
            Beat("questions", 9.0, 1.0),
            Beat("next", 4.0, 0.5),
        ), TakeawaysParams),
        SceneSpec("ForwardDotGrid", (
            Beat("grid", 4.0, 1.0),
            Beat("noising", 13.0, 1.5),
            Beat("noise", 4.0, 1.0),
        ), DotGridParams),
        SceneSpec("ReverseDotGrid", (
            Beat("noise", 4.0, 1.0),
            Beat("network", 4.0, 1.0),
            Beat("denoising", 13.0, 1.5),
            Beat("data", 5.0, 1.0),
        ), ReverseDotGridParams),
        SceneSpec("ScheduleCurve", (
            Beat("axes", 3.0, 0.5),
            Beat("linear", 5.0, 1.0),
            Beat("tracker", 7.0, 1.5),
            Beat("halfway", 7.0, 1.5),
        ), ScheduleCurveParams),
        SceneSpec("ForwardIntuition", (
            Beat("clean_digit", 3.0, 1.0),
            Beat("add_noise", 9.0, 1.5),
            Beat("pure_noise", 3.0, 1.0),
            Beat("reverse_teaser", 5.0, 1.5),
        ), ForwardIntuitionParams),
        SceneSpec("CleanDigit", (
            Beat("show_digit", 4.0, 1.0),
            Beat("label", 4.0, 1.0),
            Beat("pixel_range", 6.0, 1.5),
            Beat("shape", 5.0, 1.5),
        ), CleanDigitParams),
        SceneSpec("StepByStepChain", (
            Beat("clean_digit", 3.0, 1.0),
            Beat("run_chain", 11.0, 1.5),
            Beat("arrive_at_noise", 3.0, 1.0),
            Beat("sequential_cost", 4.0, 1.0),
        ), StepByStepChainParams),
        SceneSpec("ClosedFormJump", (
            Beat("one_formula", 3.5, 1.0),
            Beat("jumps", 9.0, 1.5),
            Beat("compare_chain", 6.0, 1.5),
            Beat("same_distribution", 4.5, 1.0),
        ), ClosedFormJumpParams),
        SceneSpec("MnistBatch", (
            Beat("clean_batch", 4.5, 1.0),
            Beat("noisy_batch", 5.5, 1.5),
            Beat("one_call", 5.0, 1.0),
        ), MnistBatchParams),
        SceneSpec("CosineMotivation", (
            Beat("checkpoint", 5.0, 1.5),
            Beat("task", 5.0, 1.5),
            Beat("linear_row", 6.0, 1.5),
            Beat("cosine_row", 6.0, 1.5),
        ), CosineMotivationParams),
        SceneSpec("FinalGallery", (
            Beat("title", 2.5, 0.8),
            Beat("first_digit", 6.0, 1.5),
            Beat("second_digit", 6.0, 1.5),
            Beat("hold", 4.0, 1.0),
        ), FinalGalleryParams),
        SceneSpec("OneStepEquation", (
            Beat("equation", 4.0, 1.0),
            Beat("mean_term", 4.5, 1.0),
            Beat("variance_term", 4.5, 1.0),
            Beat("worked_example", 7.0, 1.5),
        ), OneStepEquationParams),
        SceneSpec("ClosedFormEquation", (
            Beat("alpha", 4.0, 1.0),
            Beat("alpha_bar", 4.5, 1.0),
            Beat("closed_form", 4.5, 1.0),
            Beat("signal_term", 3.5, 1.0),
            Beat("noise_term", 3.5, 1.0),
            Beat("worked_example", 7.0, 1.5),
        ), ClosedFormEquationParams),
        SceneSpec("ForwardMath", (
            Beat("equation", 4.0, 1.0),
            Beat("mean_term", 4.5, 1.0),
            Beat("variance_term", 4.5, 1.0),
            Beat("step_example", 7.0, 1.5),
            Beat("alpha", 4.0, 1.0),
            Beat("alpha_bar", 4.5, 1.0),
            Beat("closed_form", 4.5, 1.0),
            Beat("signal_term", 3.5, 1.0),
            Beat("noise_term", 3.5, 1.0),
            Beat("closed_example", 7.0, 1.5),
        ), ForwardMathParams),
        SceneSpec("TwoRoutes", (
            Beat("task", 4.0, 1.0),
            Beat("routes", 6.0, 1.5),
            Beat("pixel", 5.0, 1.5),
            Beat("plan", 6.0, 1.5),
        ), TwoRoutesParams),
        SceneSpec("ClosedFormCheck", (
            Beat("setup", 3.5, 1.0),
            Beat("step_samples", 5.0, 1.5),
            Beat("closed_samples", 5.0, 1.5),
            Beat("moments", 5.5, 1.5),
            Beat("verdict", 4.0, 1.0),
        ), ClosedFormCheckParams),
        SceneSpec("XTStats", (
            Beat("noisy_batch", 4.0, 1.0),
            Beat("statistics", 6.0, 1.5),
            Beat("histogram", 6.0, 1.5),
            Beat("conclusion", 4.0, 1.0),
        ), XTStatsParams),
        SceneSpec("CodeWalkthrough", (
            Beat("show_code", 4.0, 1.0),
            Beat("signature", 4.0, 1.0),
            Beat("body", 8.0, 1.5),
            Beat("returns", 5.0, 1.0),
        ), CodeWalkthroughParams),
    )
}


def spec(name: str) -> SceneSpec:
    """The catalog entry of scene ``name`` (``KeyError`` naming the known scenes)."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown scene {name!r}; known scenes: {', '.join(CATALOG)}") from None
