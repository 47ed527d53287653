"""What the render child changes in a voiceover scene it runs as a lecture segment
(imports manim and manim-voiceover; used by :mod:`pipeline.rendering.author_process`).

* :func:`prepare`, before the author's module is imported: the lecture's
  :class:`~pipeline.voiceover.job.VoiceoverJob` goes to ``PiperService``, and
  manim-voiceover's offer to install a missing extra (it asks on the terminal and runs
  pip) becomes an error: nothing is installed or downloaded while rendering.
* :func:`instrument`, on the scene instance: only ``PiperService`` may speak (any other
  service, a cloud one above all, is an error naming it); the first frame is held for
  the lead-in; every voiceover block is recorded (its text, start and length) instead
  of mixed into a sound track, and the scene's own ``add_sound`` is dropped (the
  lecture's narration is built from the blocks, levelled, and mixed once).
"""

from __future__ import annotations

import importlib
from typing import Any

from manim import config
from manim_voiceover import VoiceoverScene, helper

from pipeline.voiceover.job import Block, VoiceoverJob
from pipeline.voiceover.service import LECTURE, PiperService, VoiceoverTextError

__all__ = ["ServiceError", "is_voiceover", "prepare", "instrument", "is_input_error"]


class ServiceError(Exception):
    """A speech service that a lecture cannot run (one line)."""


def _refuse_install(target_module: str | list[str], extras: str, dependent_item: str) -> None:
    """manim-voiceover's check for a service's extra packages, without its offer to
    install them: a missing one is an error."""
    names = [target_module] if isinstance(target_module, str) else target_module
    try:
        for name in names:
            importlib.import_module(name)
        return
    except ImportError:
        pass
    raise ServiceError(f"{dependent_item} needs manim-voiceover[{extras}], which is not "
                       "installed; a lecture speaks voiceover scenes offline with "
                       "pipeline.voiceover.service.PiperService")


def prepare(job: VoiceoverJob | None) -> None:
    """Before the author's module is imported (so its service imports see the change)."""
    helper.prompt_ask_missing_extras = _refuse_install
    LECTURE.job = job


def is_voiceover(cls: type) -> bool:
    return issubclass(cls, VoiceoverScene)


def is_input_error(exc: BaseException) -> bool:
    """Bad input rather than a failing scene: a service that cannot run here, text
    with nothing to say, a bookmark the text does not have."""
    if isinstance(exc, ServiceError | VoiceoverTextError):
        return True
    return str(exc).startswith("There is no <bookmark")


def instrument(scene: Any, job: VoiceoverJob) -> list[Block]:
    """Change ``scene`` (a ``VoiceoverScene``) as the module docstring says; the list
    returned fills with its blocks as it runs."""
    blocks: list[Block] = []
    fps = float(config.frame_rate)
    lead = job.lead_in_frames / fps
    own_set, own_add, own_construct = (scene.set_speech_service, scene._add_voiceover_text,
                                       scene.construct)

    def set_speech_service(service: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(service, PiperService):
            raise ServiceError(
                f"{type(service).__name__}: a lecture speaks voiceover scenes offline; "
                "write self.set_speech_service(PiperService()) "
                "(from pipeline.voiceover.service import PiperService)")
        own_set(service, *args, **kwargs)

    def add_voiceover_text(text: str, *args: Any, **kwargs: Any) -> Any:
        tracker = own_add(text, *args, **kwargs)
        blocks.append(Block(text=str(tracker.data["input_text"]),
                            start=float(tracker.start_t) - lead,
                            duration=float(tracker.duration)))
        return tracker

    def construct() -> None:
        if job.lead_in_frames:
            renderer = scene.renderer
            renderer.update_frame(scene)
            renderer.add_frame(renderer.get_frame(), job.lead_in_frames)
        own_construct()

    scene.set_speech_service = set_speech_service
    scene._add_voiceover_text = add_voiceover_text
    scene.add_sound = lambda *args, **kwargs: None
    scene.construct = construct
    return blocks
