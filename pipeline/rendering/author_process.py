"""The child process for a lecture's own scenes (``pipeline.planning.scene_ref``).

Run as ``python -m pipeline.rendering.author_process``. It imports the author's class
with the scene's folder first on ``sys.path`` and as the current folder (so the file
imports its neighbouring modules and reads its assets relative to itself; every path
the child writes is absolute), then either

* **dry-runs** it (``LECTURE_AUTHOR_PROBE``: the scene, the quality and the segment's
  ``params``, checked against the class's ``Params`` model: :func:`author_params`): the beats a
  ``scenes.base.TimedScene`` subclass declares (``BEATS``, a tuple of
  ``scenes.timing.Beat``), else the scene's natural length in
  frames, counted by running ``construct`` through
  :mod:`pipeline.rendering.scene_process`'s renderer without drawing a frame (the very
  frame count a render makes); it prints one JSON line;
* or **renders** it (``LECTURE_RENDER_TARGET`` as for shipped scenes, and
  ``LECTURE_AUTHOR_SCENE``): the same ``StreamRenderer`` and ``StreamWriter``, with the
  scene's own camera class unless it is Manim's plain ``Camera`` (a
  ``MovingCameraScene`` keeps its ``MovingCamera``), manim's ``seed`` set from the
  segment (manim seeds ``random`` and numpy's global generator with it), the job's
  ``params`` as ``self.params``, and a plain scene's last frame held until ``hold_to``.

A failure in the author's code is one line naming the file and line: in the JSON of a
dry run, after :data:`ERROR_TAG` on stderr in a render.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import os
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.planning.scene_ref import AuthorScene

if TYPE_CHECKING:
    from manim.renderer.cairo_renderer import CairoRenderer
    from manim.scene.scene_file_writer import SceneFileWriter

    from pipeline.planning.manifest import Quality
    from pipeline.rendering.scene_process import Target

PROBE_ENV = "LECTURE_AUTHOR_PROBE"
SCENE_ENV = "LECTURE_AUTHOR_SCENE"
ERROR_TAG = "@@scene-error"
NEVER = 2**62  # a first frame no scene reaches: nothing is drawn


class SceneLoadError(Exception):
    """The author's scene cannot be imported or is not a Manim scene (one line)."""


def main() -> int:
    if PROBE_ENV in os.environ:
        return probe_main()
    return render_main()


# ------------------------------------------------------------------ loading
def load_class(scene: AuthorScene) -> type:
    """The author's scene class (its folder first on ``sys.path`` and current)."""
    sys.path.insert(0, scene.root)
    os.chdir(scene.root)
    try:
        module = _import(scene)
    except SyntaxError as exc:
        raise SceneLoadError(f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}") from None
    except Exception as exc:
        raise SceneLoadError(where_in(exc, scene)) from None
    from manim import Scene

    cls = getattr(module, scene.cls, None)
    if cls is None:
        found = sorted(n for n, v in vars(module).items()
                       if isinstance(v, type) and issubclass(v, Scene)
                       and v.__module__ == module.__name__)
        raise SceneLoadError(f"{scene.file}: no class {scene.cls!r} "
                             f"(scenes in it: {', '.join(found) or 'none'})")
    if not (isinstance(cls, type) and issubclass(cls, Scene)):
        raise SceneLoadError(f"{_defined_at(cls, scene)}: {scene.cls!r} is not a subclass "
                             "of manim's Scene")
    return cls


def _import(scene: AuthorScene) -> Any:
    if not scene.text.split(":")[0].endswith(".py"):
        return importlib.import_module(scene.module)
    name = scene.module
    if name in sys.modules:  # a file named like a loaded module (``scenes.py``)
        name = f"_lecture_scene_{name}"
    spec = importlib.util.spec_from_file_location(name, scene.file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {scene.file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _defined_at(obj: Any, scene: AuthorScene) -> str:
    import inspect

    try:
        return f"{inspect.getsourcefile(obj)}:{inspect.getsourcelines(obj)[1]}"
    except (TypeError, OSError):
        return scene.file


def where_in(exc: BaseException, scene: AuthorScene) -> str:
    """``file:line: Type: message`` at the innermost frame in the author's folder."""
    text = " ".join(str(exc).split())
    what = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    root = os.path.join(os.path.abspath(scene.root), "")
    mine = [f for f in traceback.extract_tb(exc.__traceback__)
            if os.path.abspath(f.filename).startswith(root) and "site-packages" not in f.filename]
    if mine:
        return f"{mine[-1].filename}:{mine[-1].lineno}: {what}"
    return f"{scene.file}: {what}"


def declared_beats(cls: type, scene: AuthorScene) -> list[list[Any]] | None:
    """``[[name, seconds, minimum], ...]`` of a ``TimedScene`` subclass, else None."""
    base = sys.modules.get("scenes.base")
    if base is None or not issubclass(cls, base.TimedScene):
        return None
    from scenes.timing import Beat

    beats = cls.BEATS  # type: ignore[attr-defined]
    if not beats or not all(isinstance(b, Beat) for b in beats):
        raise SceneLoadError(f"{_defined_at(cls, scene)}: {cls.__name__} derives from "
                             "TimedScene: its BEATS must list scenes.timing.Beat(name, "
                             "seconds, minimum)")
    return [[b.name, b.seconds, b.minimum] for b in cls.BEATS]  # type: ignore[attr-defined]


def author_params(cls: type, scene: AuthorScene, given: dict[str, Any]) -> dict[str, Any]:
    """The segment's ``params`` as the scene gets them: checked against the pydantic
    model the class declares as ``Params`` and completed with its defaults; against a
    ``TimedScene`` subclass's ``PARAMS`` defaults; else as written. Bad ones raise
    ``scenes.catalog.ParamError``."""
    from scenes.catalog import ParamError, own_params_model, resolve_model

    try:
        model = own_params_model(cls)
    except TypeError as exc:
        raise SceneLoadError(f"{_defined_at(cls, scene)}: {exc}") from None
    if model is not None:
        return resolve_model(cls.__name__, model, given)
    base = sys.modules.get("scenes.base")
    defaults = dict(getattr(cls, "PARAMS", None) or {})
    if base is not None and issubclass(cls, base.TimedScene):
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise ParamError(cls.__name__, unknown[0],
                             f"unknown parameter for {cls.__name__}; allowed: "
                             f"{', '.join(defaults) or 'none'} (declare a Params model)")
        return {**defaults, **given}
    return dict(given)


# ------------------------------------------------------------------ the child's two jobs
def probe_main() -> int:
    from pipeline.planning.manifest import Quality
    from scenes.catalog import ParamError

    request = json.loads(os.environ[PROBE_ENV])
    scene = AuthorScene.model_validate(request["scene"])
    try:
        _prepare_voiceover(scene)
        cls = load_class(scene)
        _check_voiceover(cls, scene)
        params = author_params(cls, scene, dict(request.get("params") or {}))
        beats = declared_beats(cls, scene)
    except SceneLoadError as exc:
        return _emit({"error": str(exc), "kind": "input"})
    except ParamError as exc:
        return _emit({"error": exc.message, "field": exc.field, "kind": "params"})
    if beats is not None:
        return _emit({"beats": beats, "params": params})
    blocks: list[Any] = []
    try:
        frames = count_frames(cls, scene, Quality(**request["quality"]), params, blocks)
    except Exception as exc:
        return _emit({"error": where_in(exc, scene), "kind": _error_kind(exc, scene)})
    if scene.voiceover is not None:
        return _emit({"frames": frames, "params": params,
                      "voiceover": [b.model_dump() for b in blocks]})
    return _emit({"frames": frames, "params": params})


# ------------------------------------------------------------------ voiceover scenes
def _prepare_voiceover(scene: AuthorScene) -> None:
    """Before a voiceover segment's module loads: the lecture's voice, and no installs
    (``pipeline.voiceover.child.prepare``)."""
    if scene.voiceover is None:
        return
    from pipeline.voiceover.child import prepare

    prepare(scene.voiceover)


def _check_voiceover(cls: type, scene: AuthorScene) -> None:
    """A manim-voiceover scene speaks its own narration: the TOML gives none, and a
    segment without narration needs a voiceover scene."""
    voiced = "manim_voiceover" in sys.modules and _is_voiceover(cls)
    if voiced and scene.voiceover is None:
        raise SceneLoadError(f"{_defined_at(cls, scene)}: {scene.cls} is a manim-voiceover "
                             "scene: it speaks its own narration; leave narration out of "
                             "the segment")
    if not voiced and scene.voiceover is not None:
        raise SceneLoadError(f"{scene.file}: the segment has no narration and {scene.cls} is "
                             "not a manim-voiceover scene (VoiceoverScene); give narration")


def _is_voiceover(cls: type) -> bool:
    from pipeline.voiceover.child import is_voiceover

    return is_voiceover(cls)


def _error_kind(exc: BaseException, scene: AuthorScene) -> str:
    if scene.voiceover is None:
        return "run"
    from pipeline.voiceover.child import is_input_error

    return "input" if is_input_error(exc) else "run"


def _emit(result: dict[str, Any]) -> int:
    print(json.dumps(result), flush=True)
    return 0


def settings(q: Quality, media_dir: Path, seed: int) -> dict[str, Any]:
    """manim's configuration for a render child (as ``scene_process.main``'s)."""
    return {
        "pixel_width": q.width, "pixel_height": q.height, "frame_rate": q.fps,
        "media_dir": str(media_dir), "disable_caching": True, "format": "mp4",
        "write_to_movie": True, "progress_bar": "none", "verbosity": "WARNING",
        "seed": seed,
    }


def count_frames(cls: type, scene: AuthorScene, q: Quality, params: dict[str, Any],
                 blocks: list[Any] | None = None) -> int:
    """Frames a render of ``cls`` at quality ``q`` emits, nothing drawn or encoded (the
    render's own size: text outlines, and so ``Write``'s length, depend on it); a
    voiceover scene's blocks are appended to ``blocks``."""
    from manim import tempconfig

    from pipeline.rendering.scene_process import Target, _stream_writer

    with tempfile.TemporaryDirectory(prefix="scene-probe-") as tmp:
        out = Path(tmp) / "probe.mp4"
        target = Target(scene=scene.name, out=str(out), quality=asdict(q), first=NEVER)
        writer = _stream_writer(target, q, out)

        class CountingWriter(writer):  # type: ignore[valid-type,misc]
            def finish(self) -> None:
                pass

        renderer = _author_renderer(target, CountingWriter, None)
        with tempconfig(settings(q, Path(tmp) / "media", scene.random_seed)):
            instance = run_scene(cls, renderer, params, scene, blocks)
        return int(instance.renderer.frame_index)


def run_scene(cls: type, renderer: type[CairoRenderer], params: dict[str, Any],
              scene: AuthorScene | None = None, blocks: list[Any] | None = None) -> Any:
    """Render an instance of ``cls`` with ``self.params`` set before ``setup`` and
    ``construct`` (a ``TimedScene`` sets its own from the job); the renderer's ``hold``
    runs after ``tear_down``, before manim checks that a video has frames. A voiceover
    segment's scene is instrumented (``pipeline.voiceover.child``) and its blocks go to
    ``blocks``."""
    instance: Any = cls(renderer=renderer())
    instance.params = params
    met: list[Any] = []
    if scene is not None and scene.voiceover is not None:
        from pipeline.voiceover.child import instrument

        met = instrument(instance, scene.voiceover)
    own_tear_down = instance.tear_down

    def tear_down() -> None:
        own_tear_down()
        instance.renderer.hold(instance)

    instance.tear_down = tear_down
    instance.render()
    if blocks is not None:
        blocks.extend(met)
    return instance


def render_main() -> int:
    from manim import tempconfig

    from pipeline.planning.manifest import Quality
    from pipeline.rendering.scene_process import TARGET_ENV, Target, _stream_writer
    from scenes.job import SceneJob

    scene = AuthorScene.model_validate_json(os.environ[SCENE_ENV])
    target = Target.model_validate_json(os.environ[TARGET_ENV])
    out = Path(os.path.abspath(target.out))  # before the child moves to the scene's folder
    target = target.model_copy(update={"out": str(out)})
    q = Quality(**target.quality)
    try:
        _prepare_voiceover(scene)
        cls = load_class(scene)
    except SceneLoadError as exc:
        print(f"{ERROR_TAG} {exc}", file=sys.stderr, flush=True)
        return 1
    renderer = _author_renderer(target, _stream_writer(target, q, out), scene.hold_to)
    gc.freeze()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempconfig(settings(q, out.parent / f"{out.stem}-media", scene.random_seed)):
        try:
            run_scene(cls, renderer, dict(SceneJob.from_env().params), scene)
        except Exception as exc:
            print(f"{ERROR_TAG} {where_in(exc, scene)}", file=sys.stderr, flush=True)
            return 1
    return 0


def _author_renderer(target: Target, writer: type[SceneFileWriter],
                     hold_to: int | None) -> type[CairoRenderer]:
    """``scene_process``'s ``StreamRenderer`` with the scene's own camera class and the
    last frame held until ``hold_to``."""
    from pipeline.rendering.scene_process import _stream_renderer

    base: Any = _stream_renderer(target, writer)

    class AuthorRenderer(base):  # type: ignore[misc]
        last_frame: Any = None

        def init_scene(self, scene: Any, *args: Any, **kwargs: Any) -> None:
            if not isinstance(getattr(self, "camera", None), scene.camera_class):  # Moving...
                self.camera = scene.camera_class()
            super().init_scene(scene, *args, **kwargs)

        def add_frame(self, frame: Any, num_frames: int = 1) -> None:
            if not self.skip_animations:
                self.last_frame = frame
            super().add_frame(frame, num_frames)

        def hold(self, scene: Any) -> None:
            """After ``tear_down``: the last frame until ``hold_to``. A scene without a
            ``play`` counts as one that played (its still picture is the video)."""
            missing = (hold_to or 0) - self.frame_index
            if missing > 0:
                if self.last_frame is None:  # no animation: the picture the scene left
                    self.static_image = None
                    self.update_frame(scene)
                    self.last_frame = self.get_frame()
                self.add_frame(self.last_frame, missing)
            self.num_plays = max(int(getattr(self, "num_plays", 0)), 1)

    return AuthorRenderer


if __name__ == "__main__":
    sys.exit(main())
