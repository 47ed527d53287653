"""The manim child process: one scene (or one beat range of it) straight to H.264.

Run as ``python -m pipeline.rendering.scene_process`` by
:mod:`pipeline.rendering.scene_render`, with the scene's job in ``LECTURE_SCENE_JOB``
(see ``scenes.base``) and the output in ``LECTURE_RENDER_TARGET`` (JSON of
:class:`Target`). Two manim classes are swapped in:

:class:`StreamRenderer`
    manim's Cairo renderer, counting frames. Frames outside ``[first, last)`` are not
    drawn and not written, but the scene still runs every animation frame by frame
    (updaters, trackers and ``time`` advance exactly as in a full render), so the
    first written frame of a chunk is the very picture a full render has there. After
    ``last`` the next ``play`` ends the scene early.
:class:`StreamWriter`
    a ``SceneFileWriter`` that hands each frame to one :class:`pipeline.media.FrameEncoder`
    (one ffmpeg/x264 process for the whole file) instead of writing partial movies, so
    every frame is encoded once, at the publishing settings. A blocking pipe is the
    only buffer between Cairo and x264.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from manim.renderer.cairo_renderer import CairoRenderer
    from manim.scene.scene_file_writer import SceneFileWriter

    from pipeline.planning.manifest import Quality

TARGET_ENV = "LECTURE_RENDER_TARGET"


class Target(BaseModel):
    """Where and how the child writes its video."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scene: str
    out: str
    quality: dict[str, Any]  # pipeline.planning.manifest.Quality fields
    first: int = 0  # first frame written
    last: int | None = None  # one past the last frame written (None: to the end)
    keyframes: list[int] = []  # frame numbers (of the whole scene) that start a GOP


def main() -> int:
    target = Target.model_validate_json(os.environ[TARGET_ENV])
    from manim import tempconfig

    from pipeline.planning.manifest import Quality
    from scenes.registry import load_scene_class

    q = Quality(**target.quality)
    out = Path(target.out)
    stream_renderer = _stream_renderer(target, _stream_writer(target, q, out))
    cls = load_scene_class(target.scene)
    # manim, torch and the scene are loaded: move their objects out of the collector's
    # reach (a full collection walked all of them; 5 % of a 1080p render in a profile)
    gc.freeze()
    out.parent.mkdir(parents=True, exist_ok=True)
    settings = {
        "pixel_width": q.width, "pixel_height": q.height, "frame_rate": q.fps,
        "media_dir": str(out.parent / f"{out.stem}-media"),  # private: parts run at once
        "disable_caching": True, "format": "mp4", "write_to_movie": True,
        "progress_bar": "none", "verbosity": "WARNING",
    }
    with tempconfig(settings):
        scene = cls(renderer=stream_renderer())
        scene.render()
    return 0


def _stream_writer(target: Target, q: Quality, out: Path) -> type[SceneFileWriter]:
    """The :class:`StreamWriter` class writing ``target`` to ``out`` (module docstring)."""
    from manim.scene.scene_file_writer import SceneFileWriter

    from pipeline import media

    class StreamWriter(SceneFileWriter):
        encoder: ClassVar[media.FrameEncoder | None] = None

        def begin_animation(self, allow_write: bool = False, **_: Any) -> None:
            pass

        def end_animation(self, allow_write: bool = False) -> None:
            pass

        def write_frame(self, pixels: Any, *, repeat: int = 1) -> None:
            if StreamWriter.encoder is None:
                StreamWriter.encoder = media.FrameEncoder(
                    q, out, keyframes=[k - target.first for k in target.keyframes],
                )
            StreamWriter.encoder.write(pixels, repeat)

        def finish(self) -> None:
            if StreamWriter.encoder is None:
                raise media.MediaError(f"{target.scene}: no frame was written")
            StreamWriter.encoder.close()

        def abort_encode_jobs(self, reraise_encoder_failures: bool = False) -> None:
            if StreamWriter.encoder is not None:
                StreamWriter.encoder.abort()

    return StreamWriter


def _stream_renderer(target: Target,
                     writer: type[SceneFileWriter]) -> type[CairoRenderer]:
    """The :class:`StreamRenderer` class drawing ``target``'s frames (module docstring)."""
    from manim.renderer.cairo_renderer import CairoRenderer
    from manim.utils.exceptions import EndSceneEarlyException

    from scenes.camera import BatchedCamera

    last = target.last if target.last is not None else sys.maxsize

    class StreamRenderer(CairoRenderer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(file_writer_class=writer, camera_class=BatchedCamera,
                             **kwargs)
            self.frame_index = 0  # frames the scene has emitted, written or not
            self.stopped_early = False  # read by TimedScene.tear_down

        def _drawing(self) -> bool:
            return target.first <= self.frame_index < last

        def play(self, scene: Any, *args: Any, **kwargs: Any) -> None:
            if self.frame_index >= last:
                self.stopped_early = True
                raise EndSceneEarlyException()
            super().play(scene, *args, **kwargs)

        def update_frame(self, scene: Any, *args: Any, **kwargs: Any) -> None:
            if self._drawing():
                super().update_frame(scene, *args, **kwargs)

        def save_static_frame_data(self, scene: Any, static_mobjects: Any) -> Any:
            if self._drawing():
                return super().save_static_frame_data(scene, static_mobjects)
            self.static_image = None
            return None

        def get_frame(self) -> Any:
            # outside the window the picture is never looked at: skip the copy
            return super().get_frame() if self._drawing() else self.camera.pixel_array

        def add_frame(self, frame: Any, num_frames: int = 1) -> None:
            if self.skip_animations:
                return
            start, end = self.frame_index, self.frame_index + num_frames
            self.frame_index = end
            self.time += num_frames / self.camera.frame_rate
            n = min(end, last) - max(start, target.first)
            if n <= 0:
                return
            if start < target.first:  # the window must open between plays (a beat start)
                raise RuntimeError(
                    f"frames {start}..{end} straddle the chunk start {target.first}"
                )
            self.file_writer.write_frame(frame, repeat=n)

    return StreamRenderer


if __name__ == "__main__":
    sys.exit(main())
