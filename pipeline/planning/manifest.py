"""Lecture manifests: TOML files validated into typed specs.

A lecture is named by a ``.toml`` path or by an id, looked up in ``./config`` of the
current folder and then among the shipped lectures (``pipeline.paths.lecture_dirs``).
Relative paths inside a manifest (``clip``) resolve against the manifest's own folder,
so a lecture renders the same from any current folder.

What exists *before* rendering lives here (``LectureSpec``/``SegmentSpec``); what a
render produces (paths, measured durations) lives in ``pipeline.records``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline import paths
from pipeline.planning.scene_ref import is_reference
from scenes.catalog import ParamError
from scenes.catalog import spec as scene_spec
from scenes.registry import SCENES

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class InputError(ValueError):
    """Bad input from the user: reported as one line, exit status 2."""


@dataclass(frozen=True)
class Quality:
    name: str
    width: int
    height: int
    fps: int
    qp: int  # x264 constant quantiser (media.video_encoder_settings)

    @property
    def keyint(self) -> int:
        """Keyframe interval: at most fps/2 frames (docs/publishing.md)."""
        return max(1, self.fps // 2)


QUALITIES: dict[str, Quality] = {
    "tiny": Quality("tiny", 256, 144, 15, 28),  # smoke tests and CI
    "preview": Quality("preview", 854, 480, 15, 23),
    "720p": Quality("720p", 1280, 720, 30, 20),
    "1080p": Quality("1080p", 1920, 1080, 60, 18),
    "4k": Quality("4k", 3840, 2160, 60, 18),
}
QualityName = Literal["tiny", "preview", "720p", "1080p", "4k"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlideOptions(_Strict):
    """How a segment appears in the slide deck."""

    loop: bool = False  # muted autoplay loop in the HTML deck instead of narrated playback
    gif: bool = False  # also write a small palette GIF
    poster: str | float | None = None  # beat name, or seconds into the segment; default: main beat


class SegmentSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=80)
    chapter: str = Field(min_length=1, max_length=100)
    scene: str
    params: dict[str, Any] = Field(default_factory=dict)
    # "" only for a manim-voiceover scene of the lecture's own: it speaks its blocks
    narration: str = ""
    clip: Path | None = None
    cues: list[float] | None = None
    slide: SlideOptions = SlideOptions()

    @field_validator("scene")
    @classmethod
    def _known_scene(cls, v: str) -> str:
        if v not in SCENES and not is_reference(v):
            raise ValueError(f"unknown scene {v!r}; known scenes: {', '.join(SCENES)}; "
                             "or a scene of your own as 'file.py:Class' or 'module:Class'")
        return v

    @model_validator(mode="after")
    def _narrated(self) -> SegmentSpec:
        if not self.narration.strip() and not is_reference(self.scene):
            raise ValueError("narration: missing or empty (only a manim-voiceover scene of "
                             "your own, 'file.py:Class', speaks without it)")
        return self

    @field_validator("clip")
    @classmethod
    def _beside_manifest(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        """A relative clip path is relative to the manifest's folder (validation context
        ``base``, given by :func:`load_lecture`), never to the current folder."""
        base = (info.context or {}).get("base")
        if v is None or base is None:
            return v
        return (Path(base) / v.expanduser()).resolve()

    @field_validator("cues")
    @classmethod
    def _cues_ascending(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("cues must not be empty (omit the field instead)")
        if any(c < 0 for c in v):
            raise ValueError("cues must be >= 0 seconds")
        if any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError("cues must be strictly ascending")
        return v


class ThumbnailSpec(_Strict):
    segment: str | None = None  # segment id; default: the middle segment
    at: float = Field(default=0.85, ge=0.0, le=1.0)  # fraction of that segment's length


class LectureSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=80)
    title: str = Field(min_length=1, max_length=100)
    summary: str = ""
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    quality: QualityName = "1080p"
    lead_in: float = Field(default=0.5, ge=0.0, le=5.0)  # seconds of picture before speech
    tail: float = Field(default=0.8, ge=0.0, le=10.0)  # seconds after speech ends
    # auto (recorded clip, else Piper, else espeak-ng, else silence) | piper[:model.onnx]
    # | espeak[:voice] | silence; see audio.narration.parse_voice
    voice: str = Field(default="auto", pattern=r"^[A-Za-z]+(:[^\s]+)?$")
    wpm: int = Field(default=150, ge=80, le=400)  # a calm lecture pace; keeps captions <= 17 cps
    thumbnail: ThumbnailSpec = ThumbnailSpec()
    segments: list[SegmentSpec] = Field(min_length=1)
    # the manifest file it was read from (not a field: not in dumps, keys or equality)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The manifest file this spec was loaded from (``None`` if built in code)."""
        return self._source

    def resolve_path(self, path: str | Path) -> Path:
        """A path written in the manifest, made absolute against the manifest's folder
        (the current folder for a spec built in code)."""
        p = Path(path).expanduser()
        base = self._source.parent if self._source is not None else Path.cwd()
        return p if p.is_absolute() else (base / p).resolve()

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, v: str) -> str:
        from audio.narration import parse_voice

        parse_voice(v)  # ValueError names the choices
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> LectureSpec:
        seen: set[str] = set()
        for seg in self.segments:
            if seg.id in seen:
                raise ValueError(f"duplicate segment id {seg.id!r}")
            seen.add(seg.id)
        if self.thumbnail.segment is not None and self.thumbnail.segment not in seen:
            raise ValueError(f"thumbnail.segment {self.thumbnail.segment!r} is not a segment id")
        return self

    def segment(self, seg_id: str) -> SegmentSpec:
        for seg in self.segments:
            if seg.id == seg_id:
                return seg
        raise KeyError(seg_id)


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Turn a pydantic error location into ``segments[3] (01_04_x).scene``."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                seg_id = node[item].get("id")
                if seg_id:
                    label += f" ({seg_id})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def _first_error(path: Path, exc: ValidationError, data: dict[str, Any]) -> InputError:
    err = exc.errors()[0]
    where = _loc(tuple(err["loc"]), data) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (+{more} more)" if more else ""
    return InputError(f"{path}: {where}: {msg}{suffix}")


def lecture_files() -> dict[str, Path]:
    """Every lecture found by id, ``id -> manifest``: those in ``./config`` of the current
    folder first, then the shipped ones; an id in ``./config`` shadows a shipped one."""
    found: dict[str, Path] = {}
    for folder in paths.lecture_dirs():
        for p in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            found.setdefault(p.stem, p)
    return found


def available_lectures() -> list[str]:
    """Lecture ids, as :func:`lecture_files` orders them (``./config`` first)."""
    return list(lecture_files())


def _looked_in() -> str:
    where = []
    for folder in paths.lecture_dirs():
        kind = "shipped lectures" if folder == paths.shipped_lectures() else "./config"
        where.append(f"{folder} ({kind})")
    return ", ".join(where) or "nowhere"


def lecture_path(path_or_id: str | Path) -> Path:
    """The manifest a lecture name stands for: a ``.toml`` path as given, else the id's
    file in the first folder of ``pipeline.paths.lecture_dirs`` that has it.

    An unknown id raises ``InputError``, one line naming where it looked.
    """
    path = Path(path_or_id)
    if path.suffix == ".toml":
        return path
    name = str(path_or_id)
    found = lecture_files().get(name) if re.match(ID_PATTERN, name) else None
    if found is None:
        known = ", ".join(available_lectures()) or "none"
        raise InputError(f"unknown lecture {name!r} (looked in {_looked_in()}); "
                         f"available: {known}; or give a path to a .toml file")
    return found


def load_lecture(path_or_id: str | Path) -> LectureSpec:
    """Load and validate a lecture manifest, by ``.toml`` path or by id
    (:func:`lecture_path`); relative paths in it resolve against its folder."""
    path = lecture_path(path_or_id)
    source = Path(os.path.abspath(path))
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    try:
        spec = LectureSpec.model_validate(data, context={"base": source.parent})
    except ValidationError as exc:
        raise _first_error(path, exc, data) from None
    check_params(spec, str(path))  # before placeholders, which read the params
    _prefetch_placeholders(spec)
    segs = [seg.model_copy(update={"narration": _script(path, i, seg)})
            for i, seg in enumerate(spec.segments)]
    loaded = spec.model_copy(update={"segments": segs})
    loaded._source = source
    return loaded


def resolve_params(seg: SegmentSpec, index: int, source: str) -> dict[str, Any]:
    """``seg.params`` checked against its scene's catalog model, completed with defaults.

    Bad parameters (unknown, wrong type, out of range) raise ``InputError`` naming the
    file, the segment and the field, before anything renders. A scene of the lecture's
    own (``pipeline.planning.scene_ref``) gets them as written here: the dry run checks
    them against its ``Params`` model (``pipeline.planning.plan.own_scene``).
    """
    if seg.scene not in SCENES:
        return dict(seg.params)
    try:
        return scene_spec(seg.scene).resolve(seg.params)
    except ParamError as exc:
        field = f".{exc.field}" if exc.field else ""
        raise InputError(
            f"{source}: segments[{index}] ({seg.id}).params{field}: {exc.message}"
        ) from None


def scene_params(seg: SegmentSpec) -> dict[str, Any]:
    """The segment's parameters completed with its scene's defaults (checked before); a
    scene of the lecture's own: as written (its model's defaults are known only after
    the dry run, which planning makes later)."""
    return scene_spec(seg.scene).resolve(seg.params) if seg.scene in SCENES else dict(seg.params)


def check_params(spec: LectureSpec, source: str) -> None:
    """Every segment's parameters against the scene catalog (no manim, no torch)."""
    for index, seg in enumerate(spec.segments):
        resolve_params(seg, index, source)


def _prefetch_placeholders(spec: LectureSpec) -> None:
    """Every segment's placeholder digits the user cache lacks, computed at once in a
    child process (:func:`pipeline.planning.placeholders.prefetch`), so torch stays out of here."""
    items = [(seg.narration, scene_params(seg))
             for seg in spec.segments if "{{" in seg.narration]
    if items:
        from pipeline.planning.placeholders import prefetch

        prefetch(items)


def _script(path: Path, index: int, seg: SegmentSpec) -> str:
    """The segment's narration with placeholders as digits; markers checked for syntax."""
    from audio.script import ScriptError, parse_marks

    where = f"{path}: segments[{index}] ({seg.id}).narration"
    text = seg.narration
    try:
        if "{{" in text or "}}" in text:
            from pipeline.planning.placeholders import expand_placeholders_cached

            # the catalog's defaults completed with the segment's own (no manim import)
            text = expand_placeholders_cached(text, scene_params(seg))
        parse_marks(text)
    except ScriptError as exc:
        raise InputError(f"{where}: {exc}") from None
    return text

