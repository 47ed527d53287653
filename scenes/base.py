"""The timing contract every lecture scene follows.

A scene takes its beats (name, default seconds, minimum seconds) and its parameter
model from the manim-free catalog (``SPEC = catalog.spec("Name")``, see
``scenes/catalog.py``) and writes ``construct`` as a sequence of
``with self.beat(name) as b:`` blocks. The pipeline
passes a timing plan through the ``LECTURE_SCENE_JOB`` environment variable; with
none, the defaults apply, so ``manim render scenes/<file>.py <Scene>`` always works.

Frame arithmetic
----------------
Beat boundaries sit on the whole-frame grid: beat ``i`` ends at frame
``round(end_i * fps)`` where ``end_i`` is the planned cumulative end time. The video
therefore has exactly ``round(total * fps)`` frames. Animations inside a beat are
sized with :meth:`BeatClock.frac` / :meth:`BeatClock.secs`, which return run times
that produce a whole number of frames; on leaving the block the last frame is held
until the beat's planned end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from manim import Scene, config

from scenes import theme
from scenes.camera import BatchedCamera
from scenes.catalog import ParamError, SceneSpec, own_params_model, resolve_model
from scenes.job import JOB_ENV, PROGRESS_ENV, PROGRESS_TAG, SceneJob
from scenes.timing import Beat, plan_beats

__all__ = ["JOB_ENV", "PROGRESS_ENV", "PROGRESS_TAG", "BeatClock", "SceneJob", "TimedScene",
           "TimingError"]


class TimingError(RuntimeError):
    """A scene's beats did not fit its plan."""


class BeatClock:
    """Handed to the body of ``with scene.beat(name)``: the beat's time budget."""

    def __init__(self, name: str, duration: float, fps: float) -> None:
        self.name = name
        self.duration = duration
        self.fps = fps
        self.used_frames = 0

    def frames(self, seconds: float) -> int:
        return max(1, round(seconds * self.fps))

    def secs(self, seconds: float) -> float:
        """A run time of ``seconds`` snapped so that manim draws a whole number of frames.

        ``Scene.play`` draws ``ceil(run_time * fps)`` frames; half a frame short of
        ``n / fps`` gives exactly ``n`` without float round-off surprises.
        """
        n = self.frames(seconds)
        # one frame: exactly 1/fps (manim warns about anything shorter)
        return (n - 0.5) / self.fps if n > 1 else 1 / self.fps

    def frac(self, fraction: float) -> float:
        """A run time of ``fraction`` of this beat's duration (whole frames)."""
        return self.secs(self.duration * fraction)


class TimedScene(Scene):
    """A manim ``Scene`` whose length follows a timing plan, to the frame."""

    SPEC: ClassVar[SceneSpec | None] = None  # the catalog entry: beats and parameter model
    BEATS: ClassVar[tuple[Beat, ...]] = ()
    PARAMS: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # manim's own pixels with less Python per shape, also under `manim render` and
        # %%manim (the pipeline's render child passes a renderer that has it already)
        kwargs.setdefault("camera_class", BatchedCamera)
        super().__init__(*args, **kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("SPEC")
        if spec is not None:  # the catalog is the single source of beats and defaults
            cls.BEATS = spec.beats
            cls.PARAMS = spec.defaults()

    # ----------------------------------------------------------------- plan
    @classmethod
    def beat_names(cls) -> list[str]:
        return [b.name for b in cls.BEATS]

    @classmethod
    def default_duration(cls) -> float:
        return sum(b.seconds for b in cls.BEATS)

    @classmethod
    def min_durations(cls) -> dict[str, float]:
        return {b.name: b.minimum for b in cls.BEATS}

    def setup(self) -> None:
        super().setup()
        self.camera.background_color = theme.BG  # one course look, set once for every scene
        if not self.BEATS:
            raise TimingError(f"{type(self).__name__} declares no BEATS")
        job = SceneJob.from_env()
        self.job = job
        self.params: dict[str, Any] = self._resolve_params(job.params)
        self.seed = job.seed
        self.fps = float(config.frame_rate)
        self.plan = plan_beats(self.BEATS, job.plan)
        ends = []
        acc = 0.0
        for beat in self.BEATS:
            acc += self.plan[beat.name]
            ends.append(round(acc * self.fps))
        self._beat_end_frame = dict(zip(self.beat_names(), ends))
        self._beats_done: list[str] = []

    @classmethod
    def _resolve_params(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters checked against the catalog model (a scene of a lecture's own: its
        ``Params`` model) and completed with defaults."""
        model = own_params_model(cls) if cls.SPEC is None else None
        if cls.SPEC is not None or model is not None:
            try:
                if cls.SPEC is not None:
                    return cls.SPEC.resolve(given)
                assert model is not None
                return resolve_model(cls.__name__, model, given)
            except ParamError as exc:
                where = f"params.{exc.field}: " if exc.field else ""
                raise ValueError(f"{cls.__name__}: {where}{exc.message}") from None
        unknown = set(given) - set(cls.PARAMS)
        if unknown:
            raise ValueError(
                f"{cls.__name__}: unknown parameter(s) {sorted(unknown)}; "
                f"allowed: {sorted(cls.PARAMS)}"
            )
        return {**cls.PARAMS, **given}

    # --------------------------------------------------------------- frames
    def frames_written(self) -> int:
        """Frames emitted so far (the renderer advances ``time`` by 1/fps a frame)."""
        return round(self.renderer.time * self.fps)

    def hold_frames(self, n: int) -> None:
        """Hold the current picture for exactly ``n`` frames."""
        if n <= 0:
            return
        before = self.frames_written()
        # A frozen wait writes int(duration * fps) frames.
        self.wait((n + 0.5) / self.fps, frozen_frame=True)
        got = self.frames_written() - before
        if got != n:  # pragma: no cover - guards manim internals changing under us
            raise TimingError(f"hold wrote {got} frames, wanted {n}")

    @contextmanager
    def beat(self, name: str) -> Iterator[BeatClock]:
        done = len(self._beats_done)
        expected = self.beat_names()[done] if done < len(self.BEATS) else None
        if name != expected:
            raise TimingError(
                f"{type(self).__name__}: beat {name!r} played out of order "
                f"(expected {expected!r})"
            )
        clock = BeatClock(name, self.plan[name], self.fps)
        start = self.frames_written()
        yield clock
        target = self._beat_end_frame[name]
        now = self.frames_written()
        if now > target:
            raise TimingError(
                f"{type(self).__name__}: beat {name!r} ran {now - start} frames, "
                f"plan allows {target - start}; raise its duration"
            )
        self.hold_frames(target - now)
        self._beats_done.append(name)
        if os.environ.get(PROGRESS_ENV):
            total = self._beat_end_frame[self.beat_names()[-1]]
            print(f"{PROGRESS_TAG} {self.frames_written()} {total}", flush=True)

    def tear_down(self) -> None:
        missing = [n for n in self.beat_names() if n not in self._beats_done]
        # a renderer drawing one beat range (pipeline.rendering.scene_process) may end the
        # scene early
        if missing and not getattr(self.renderer, "stopped_early", False):
            raise TimingError(f"{type(self).__name__}: beats never played: {missing}")
        super().tear_down()
