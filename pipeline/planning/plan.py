"""Stage 1: every segment's narration (a take, speech or silence), its timing on the frame
grid and its render job, as :class:`SegmentPlan` records.

Scene beats and parameters come from the manim-free catalog (``scenes.catalog``), so
bad input fails here, before any frame renders. A scene of the lecture's own
(``"file.py:Class"``, ``pipeline.planning.scene_ref``) is checked and measured by a dry
run in a child process, remembered under its code (``pipeline.rendering.scene_probe``);
a manim-voiceover scene with no narration speaks the segment itself
(:func:`voiceover_segment`, ``pipeline.voiceover``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audio.clips import find_clip
from audio.narration import Narration, NarrationError, release_voices, resolve_narration
from audio.script import mark_time, parse_marks
from pipeline.assembly.captions import MAX_CPS, min_caption_seconds
from pipeline.options import CAPTION_HOLD_MAX, RenderOptions
from pipeline.planning import preflight
from pipeline.planning.manifest import (
    QUALITIES,
    InputError,
    LectureSpec,
    Quality,
    SegmentSpec,
    resolve_params,
)
from pipeline.planning.scene_ref import AuthorScene, locate, segment_seed
from pipeline.planning.timing import SegmentTiming, hold_for_captions, plan_segment, to_frames
from pipeline.progress import Reporter, SilentReporter
from pipeline.rendering.cache import render_key
from pipeline.rendering.scene_probe import SceneProblem, probe
from pipeline.rendering.scene_render import RenderError, RenderJob
from pipeline.voiceover import segment as vo
from pipeline.voiceover.job import Block, VoiceoverJob
from pipeline.voiceover.voices import engine_for, pinned
from scenes.catalog import spec as scene_spec
from scenes.registry import SCENES
from scenes.timing import Beat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentPlan:
    index: int
    spec: SegmentSpec
    narration: Narration
    timing: SegmentTiming
    job: RenderJob

    @property
    def name(self) -> str:
        return f"{self.index:02d}_{self.spec.id}"

    @property
    def captions_relaxed(self) -> bool:
        """Its captions needed more time than ``--caption-hold-max`` gave: cues may go
        over 17 characters per second."""
        return self.timing.caption_need > self.timing.caption_hold + 1e-9

    def caption_reason(self) -> str:
        """Why the segment was held for its captions (``""`` when it was not)."""
        t = self.timing
        if t.caption_need <= 0:
            return ""
        chars = sum(len(" ".join(s.text.split())) for s in self.narration.sentences)
        given = t.duration - t.caption_hold
        why = (f"{chars} characters of captions need {given + t.caption_need:.1f} s at "
               f"{MAX_CPS:g} characters per second; speech, lead-in and tail give {given:.1f} s")
        if self.captions_relaxed:
            why += (f"; --caption-hold-max allowed {t.caption_hold:.1f} s of the "
                    f"{t.caption_need:.1f} s, so cues may go over {MAX_CPS:g} characters "
                    "per second")
        return why


@dataclass(frozen=True)
class CheckedScene:
    """A segment's scene after its parameters passed the catalog: beats and full params.

    ``author``: a scene of the lecture's own (``pipeline.planning.scene_ref``); ``plain``
    when it declares no beats (one beat, its natural length, then its last frame held).
    """

    beats: tuple[Beat, ...]
    params: dict[str, Any]
    author: AuthorScene | None = None
    plain: bool = False
    blocks: tuple[Block, ...] = ()  # a voiceover scene's blocks (pipeline.voiceover)


def checked_scene(spec: LectureSpec, seg: SegmentSpec, source: str, q: Quality) -> CheckedScene:
    """Validate ``seg``'s parameters against the scene catalog (bad input: ``InputError``);
    a scene of the lecture's own is checked and measured by a dry run (:func:`own_scene`)."""
    index = next(i for i, s in enumerate(spec.segments) if s.id == seg.id)
    if not seg.narration.strip():  # plan_lecture plans it (voiceover_segment)
        raise InputError(f"{source}: segments ({seg.id}): a segment spoken by its "
                         "voiceover scene is planned on this machine only (not with "
                         "--executor dask)")
    params = resolve_params(seg, index, source)
    if seg.scene not in SCENES:
        return own_scene(spec, seg, source, q, index)
    return CheckedScene(tuple(scene_spec(seg.scene).beats), params)


def own_scene(spec: LectureSpec, seg: SegmentSpec, source: str, q: Quality,
              index: int, voiceover: VoiceoverJob | None = None) -> CheckedScene:
    """A scene named by file or module: located, imported, its ``params`` checked
    against the model it declares, and measured in a dry-run child
    (``pipeline.rendering.scene_probe``). A missing file, a class that is not there or
    not a Manim scene, a syntax or import error, a bad parameter is bad input;
    ``construct`` raising is a render failure."""
    where = f"{source}: segments ({seg.id}): scene {seg.scene!r}"
    try:
        scene = locate(seg.scene, spec.resolve_path)
        # the dry run draws the segment's own random numbers: a length may depend on them
        scene = scene.model_copy(update={"random_seed": segment_seed(spec.seed, seg.id),
                                         "voiceover": voiceover})
        info = probe(scene, q, dict(seg.params))
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    except SceneProblem as exc:
        if exc.field is not None:  # worded as a shipped scene's bad parameter
            field = f".{exc.field}" if exc.field else ""
            raise InputError(f"{source}: segments[{index}] ({seg.id}).params{field}: "
                             f"{exc}") from None
        if exc.bad_input:
            raise InputError(f"{where}: {exc}") from None
        raise RenderError(f"segment {seg.id}: scene {seg.scene} failed: {exc}") from None
    if info.beats:
        return CheckedScene(info.beats, info.params, scene)
    seconds = max(info.frames, 1) / q.fps
    return CheckedScene((Beat("scene", seconds, seconds),), info.params, scene, plain=True,
                        blocks=info.blocks)


def bookmark_times(
    seg: SegmentSpec, beats: Sequence[Beat], narration: Narration, source: str
) -> dict[int, float]:
    """Beat index -> seconds into the narration, from the script's ``<mark name=.../>``.

    Bad markers are bad input naming the segment and the marker: a name that is not a
    beat of the scene, markers out of the scene's beat order, a repeated marker, a
    marker on the first beat after the first word, markers together with ``cues``.
    """
    markers = parse_marks(seg.narration)
    if not markers:
        return {}
    where = f"{source}: segments ({seg.id})"
    names = [b.name for b in beats]
    if seg.cues is not None:
        raise InputError(f"{where}: marker {markers[0].name!r}: use markers or cues, not both")
    out: dict[int, float] = {}
    last = 0
    for m in markers:
        if m.name not in names:
            raise InputError(
                f"{where}: marker {m.name!r} is not a beat of {seg.scene} "
                f"(beats: {', '.join(names)})"
            )
        b = names.index(m.name)
        if b in out or (b == 0 and m.word > 0):
            why = "is repeated" if b in out else "marks the first beat, which starts the segment"
            raise InputError(f"{where}: marker {m.name!r} {why}")
        if b < last:
            raise InputError(
                f"{where}: marker {m.name!r} is out of order: beat {m.name!r} plays before "
                f"{names[last]!r} in {seg.scene}"
            )
        last = b
        if b > 0:
            out[b] = mark_time(m, seg.narration, narration.words, narration.sentences)[0]
    return out


def plan_lecture(
    spec: LectureSpec,
    opts: RenderOptions,
    *,
    source: str = "config",
    reporter: Reporter | None = None,
    keep_voices: bool = False,
) -> list[SegmentPlan]:
    """Every segment's plan. ``keep_voices``: keep the voice model loaded afterwards (a
    process that plans again soon, such as ``lecture studio``)."""
    reporter = reporter or SilentReporter()
    q = opts.quality
    plans = []
    for index, seg in enumerate(spec.segments, start=1):
        if not seg.narration.strip():  # a manim-voiceover scene speaks the segment
            reporter.segment(seg.id, "narration")
            scene, narration = voiceover_segment(spec, seg, source, opts, index - 1)
            plans.append(plan_one(spec, index, seg, scene, narration, q, source,
                                  caption_hold_max=opts.caption_hold_max))
            continue
        scene = checked_scene(spec, seg, source, q)  # bad input fails before any render
        reporter.segment(seg.id, "narration")
        narration = resolve_narration(
            segment_id=seg.id, script=seg.narration, clip=seg.clip,
            narration_dir=opts.narration_dir, strict=opts.strict,
            cache_dir=opts.speech_cache, voice=spec.voice, wpm=spec.wpm,
            allow_clipped=opts.allow_clipped, allow_unaligned=opts.allow_unaligned,
        )
        plans.append(plan_one(spec, index, seg, scene, narration, q, source,
                              caption_hold_max=opts.caption_hold_max))
    if not keep_voices:
        release_voices()  # the voice model's memory is not needed while rendering
    return plans


def voiceover_segment(spec: LectureSpec, seg: SegmentSpec, source: str, opts: RenderOptions,
                      index: int) -> tuple[CheckedScene, Narration]:
    """A segment whose manim-voiceover scene speaks it: a dry run with the lecture's
    voice gives its blocks; with a recorded take, the take is cut between the blocks
    and a second dry run times the scene by it (``pipeline.voiceover.segment``)."""
    where = f"{source}: segments ({seg.id})"
    q = opts.quality
    try:
        engine = engine_for(spec.voice, spec.wpm, f"segment {seg.id!r}")
        job = VoiceoverJob(segment=seg.id, voice=pinned(engine), wpm=spec.wpm,
                           identity=json.dumps(engine.identity(), sort_keys=True),
                           speech_cache=str(opts.speech_cache),
                           lead_in_frames=to_frames(spec.lead_in, q.fps))
        scene = own_scene(spec, seg, source, q, index, job)
        take_path = seg.clip or find_clip(opts.narration_dir, seg.id)
        if take_path is None:
            if opts.strict:
                raise InputError(f"segment {seg.id!r}: strict mode needs a recorded take "
                                 f"({opts.narration_dir}/{seg.id}.wav)")
            parts = vo.synthetic_parts(seg.id, scene.blocks, engine, opts.speech_cache)
            return scene, vo.place(seg.id, scene.blocks, parts, fps=q.fps, source=engine.source,
                                   detail=f"{engine.describe()}; voiceover blocks")
        take = resolve_narration(
            segment_id=seg.id, script=vo.block_script(scene.blocks), clip=take_path,
            strict=opts.strict, cache_dir=opts.speech_cache,
            allow_clipped=opts.allow_clipped, allow_unaligned=opts.allow_unaligned)
        takes, parts = vo.split_take(seg.id, take, scene.blocks,
                                     Path(opts.speech_cache) / "voiceover-takes")
        job = job.model_copy(update={"take": takes, "take_key": take.cache_key})
        scene = own_scene(spec, seg, source, q, index, job)
        vo.check_lengths(seg.id, scene.blocks, parts)
        return scene, vo.place(seg.id, scene.blocks, parts, fps=q.fps, source="clip",
                               detail=f"{take.detail}; cut into voiceover blocks",
                               path=take.path, take=take)
    except NarrationError as exc:
        raise InputError(f"{where}: {exc}") from None


def plan_one(
    spec: LectureSpec, index: int, seg: SegmentSpec, scene: CheckedScene,
    narration: Narration, q: Quality, source: str, *,
    caption_hold_max: float = CAPTION_HOLD_MAX,
) -> SegmentPlan:
    """One segment's timing on the frame grid and its render job, from its narration;
    held longer when its captions need it (at most ``caption_hold_max`` seconds)."""
    preflight.check_clip(seg.id, narration)
    markers = parse_marks(seg.narration)
    if scene.plain and markers:
        raise InputError(f"{source}: segments ({seg.id}): marker {markers[0].name!r}: scene "
                         f"{seg.scene} has no beats (a plain Manim scene plays whole)")
    marks = bookmark_times(seg, scene.beats, narration, source)
    try:
        timing = plan_segment(
            beats=scene.beats, narration_seconds=narration.duration,
            sentence_starts=[s.start for s in narration.sentences], cues=seg.cues,
            marks=marks, lead_in=spec.lead_in, tail=spec.tail, fps=q.fps,
        )
    except ValueError as exc:
        raise InputError(f"{source}: segments ({seg.id}): {exc}") from None
    timing = caption_timing(seg.id, narration, timing, caption_hold_max)
    plan = timing.beat_seconds()
    author = scene.author
    if author is not None and scene.plain:  # its last frame held to the segment's end
        author = author.model_copy(update={"hold_to": timing.frames})
    key = render_key(scene=seg.scene, params=scene.params, plan=plan, quality=q,
                     seed=spec.seed, author=author)
    # The beat starts are forced keyframes in every render of the job, whichever
    # executor runs it (and where a long one may be split).
    job = RenderJob(seg.id, seg.scene, dict(scene.params), plan, spec.seed, q, timing.frames,
                    key, tuple(timing.beat_frames), author)
    return SegmentPlan(index, seg, narration, timing, job)


def caption_timing(seg_id: str, narration: Narration, timing: SegmentTiming,
                   hold_max: float) -> SegmentTiming:
    """``timing`` held long enough for its captions to meet every limit
    (``captions.min_caption_seconds``), at most ``hold_max`` seconds longer; past that
    the segment's cues may go over 17 characters per second, with a warning."""
    need = min_caption_seconds(narration.sentences, offset=timing.speech_offset,
                               fps=timing.fps, seconds=timing.duration)
    want = round(need * timing.fps) - timing.frames
    if want <= 0:
        return timing
    frames = min(want, math.floor(max(hold_max, 0.0) * timing.fps + 1e-9))
    if frames < want:
        log.warning("segment %s: its captions need %.1f s more than its speech; "
                    "--caption-hold-max allows %.1f s, so its cues may go over %g characters "
                    "per second", seg_id, want / timing.fps, frames / timing.fps, MAX_CPS)
    return hold_for_captions(timing, frames, want / timing.fps)


def select_segments(spec: LectureSpec, only: Sequence[str], source: str) -> LectureSpec:
    """The lecture cut down to the ``--only`` segments (all when ``only`` is empty)."""
    if not only:
        return spec
    unknown = [s for s in only if s not in {seg.id for seg in spec.segments}]
    if unknown:
        raise InputError(f"--only: unknown segment id(s) {unknown} in {source}")
    return spec.model_copy(update={"segments": [s for s in spec.segments if s.id in only]})


def quality(name: str) -> Quality:
    if name not in QUALITIES:
        raise InputError(f"--quality: {name!r} is not one of {', '.join(QUALITIES)}")
    return QUALITIES[name]
