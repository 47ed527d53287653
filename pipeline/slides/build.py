"""Slide decks from a rendered lecture: clips, posters, an offline HTML deck and a PPTX.

``build_slides(output/<lecture>)`` reads ``manifest.json`` and reuses what the render
left behind (the cached silent segment renders and the narrated segment clips); it
never renders a scene. It writes ``slides/`` through a staging folder that replaces
the old one only when everything succeeded:

=========================  ================================================================
``<nn>_<id>.mp4``          narrated H.264/AAC, yuv420p, ``moov`` first (the segment clip,
                           copied byte for byte when it already is all that)
``<nn>_<id>.webm``         narrated VP9/Opus: the same picture for browsers without H.264
``<nn>_<id>-loop.mp4``     silent H.264, no audio stream (muted autoplay loops)
``<nn>_<id>-loop.webm``    silent VP9, no audio stream
``<nn>_<id>.png``          poster frame (see ``poster_frame``)
``<nn>_<id>.gif``          only with ``slide.gif``: palette GIF, at most 480 px wide
``index.html``             offline deck, inline CSS/JS, media by relative path
``lecture.pptx``           one 16:9 slide per segment: title, narrated movie, notes
=========================  ================================================================

The poster is the last frame of the segment's *main beat*, the longest beat (the
first of equally long ones), where the scene has finished building its picture.
``slide.poster`` overrides it with a beat name (that beat's last frame) or a number
of seconds into the segment.
"""

from __future__ import annotations

import html
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline import media
from pipeline.planning.manifest import InputError, Quality
from pipeline.planning.timing import to_frames
from pipeline.records import RecordError, SegmentRecord, read_record

DECK_ASSETS = Path(__file__).resolve().parent / "deck"
GIF_MAX_WIDTH = 480
GIF_MAX_FPS = 12
SLIDE_W_EMU, SLIDE_H_EMU = 12_192_000, 6_858_000  # PowerPoint's 16:9 widescreen, 13.33 x 7.5 in


# ------------------------------------------------------------------ model
@dataclass(frozen=True)
class SlideSegment:
    """One segment as the slides need it (read from ``manifest.json``)."""

    index: int
    id: str
    chapter: str
    fps: int
    frames: int
    beats: tuple[tuple[str, float], ...]  # ordered (name, seconds)
    notes: str  # the narration script
    loop: bool
    gif: bool
    poster: str | float | None
    clip: Path  # narrated segment clip
    render: Path | None  # cached silent render, when it is still there

    @property
    def name(self) -> str:
        return f"{self.index:02d}_{self.id}"

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def picture(self) -> Path:
        """The video to cut silent clips, posters and GIFs from."""
        return self.render if self.render is not None else self.clip


@dataclass(frozen=True)
class Lecture:
    id: str
    title: str
    width: int
    height: int
    fps: int
    segments: tuple[SlideSegment, ...]


@dataclass(frozen=True)
class SlideFiles:
    """What ``slides/`` holds for one segment: names relative to the folder, MIME types."""

    mp4: str
    webm: str
    loop_mp4: str
    loop_webm: str
    poster: str
    gif: str | None
    mp4_type: str
    webm_type: str
    loop_mp4_type: str
    loop_webm_type: str = 'video/webm; codecs="vp9"'


@dataclass(frozen=True)
class ClipFix:
    """What a narrated segment clip needs to become a slide clip."""

    copy_video: bool
    copy_audio: bool
    faststart: bool

    @property
    def untouched(self) -> bool:
        return self.copy_video and self.copy_audio and self.faststart


# ------------------------------------------------------------------ pure rules
def main_beat(beats: Sequence[tuple[str, float]]) -> str:
    """The longest beat; the first one wins a tie."""
    if not beats:
        raise ValueError("no beats")
    best = max(range(len(beats)), key=lambda i: (beats[i][1], -i))
    return beats[best][0]


def beat_frames(beats: Sequence[tuple[str, float]], fps: int) -> dict[str, tuple[int, int]]:
    """Each beat's ``[start, end)`` frame range, on the frame grid (beats start at 0)."""
    out: dict[str, tuple[int, int]] = {}
    acc = 0.0
    for name, seconds in beats:
        start = to_frames(acc, fps)
        acc += seconds
        out[name] = (start, to_frames(acc, fps))
    return out


def poster_frame(seg: SlideSegment) -> int:
    """Index of the poster frame in the segment (0-based). ValueError on a bad override."""
    last = seg.frames - 1
    choice = seg.poster
    if isinstance(choice, bool):
        raise ValueError(f"slide.poster: expected a beat name or seconds, got {choice}")
    if isinstance(choice, (int, float)):
        if not 0 <= choice <= seg.duration:
            raise ValueError(
                f"slide.poster: {choice:g} s is outside the segment (0..{seg.duration:g} s)"
            )
        return min(last, math.floor(choice * seg.fps + 1e-6))
    name = main_beat(seg.beats) if choice is None else choice
    ranges = beat_frames(seg.beats, seg.fps)
    if name not in ranges:
        known = ", ".join(ranges)
        raise ValueError(f"slide.poster: no beat named {name!r}; beats: {known}")
    return max(0, min(last, ranges[name][1] - 1))


def frame_seek(frame: int, fps: int) -> float:
    """A seek time that lands on ``frame``: a quarter frame early, since ffmpeg keeps
    the first frame whose timestamp is at or after the seek point."""
    return max(0.0, (frame - 0.25) / fps)


def gif_fps(fps: int) -> float:
    """GIF frame rate: an even step of the source rate at or under 12 fps when one is
    at least 10 fps (60→12, 30→10, 24→12), else 12 (or the source's when lower)."""
    if fps <= GIF_MAX_FPS:
        return float(fps)
    even = fps / math.ceil(fps / GIF_MAX_FPS)
    return even if even >= 10 else float(GIF_MAX_FPS)


def _video_conforms(info: Mapping[str, Any]) -> bool:
    v = media.stream(dict(info), "video")
    return (
        v is not None
        and v.get("codec_name") == "h264"
        and v.get("pix_fmt") == "yuv420p"
        and int(v.get("width", 1)) % 2 == 0
        and int(v.get("height", 1)) % 2 == 0
    )


def clip_fix(info: Mapping[str, Any], faststart: bool) -> ClipFix:
    """Which streams of a narrated clip can be copied (H.264 yuv420p even size; AAC)."""
    a = media.stream(dict(info), "audio")
    return ClipFix(
        copy_video=_video_conforms(info),
        copy_audio=a is None or a.get("codec_name") == "aac",
        faststart=faststart,
    )


_AVC_PROFILES = {"Baseline": "4200", "Constrained Baseline": "42E0", "Main": "4D00",
                 "Extended": "5800", "High": "6400"}


def mp4_type(info: Mapping[str, Any]) -> str:
    """``video/mp4; codecs="avc1.PPCCLL[, mp4a.40.2]"`` (RFC 6381) from ffprobe output."""
    v = media.stream(dict(info), "video")
    a = media.stream(dict(info), "audio")
    codecs = []
    prof = _AVC_PROFILES.get(str(v.get("profile"))) if v else None
    level = v.get("level") if v else None
    if prof and isinstance(level, int) and 0 < level < 256:
        codecs.append(f"avc1.{prof}{level:02X}")
    if a is not None and a.get("codec_name") == "aac":
        codecs.append("mp4a.40.2")
    if not codecs or (v is not None and not prof):
        return "video/mp4"
    return f'video/mp4; codecs="{", ".join(codecs)}"'


def fit_box(area_w: int, area_h: int, aspect: float) -> tuple[int, int, int, int]:
    """The largest ``aspect`` (w/h) box centred in an area: (left, top, width, height)."""
    w, h = area_w, round(area_w / aspect)
    if h > area_h:
        w, h = round(area_h * aspect), area_h
    return (area_w - w) // 2, (area_h - h) // 2, w, h


# ------------------------------------------------------------------ HTML
def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _url(name: str) -> str:
    return _e(quote(name))


def _slide_html(seg: SlideSegment, f: SlideFiles, n: int, lecture: Lecture) -> str:
    if seg.loop:
        attrs = "autoplay muted loop playsinline preload=\"auto\""
        sources = [(f.loop_webm, f.loop_webm_type), (f.loop_mp4, f.loop_mp4_type)]
        mode, hint = "loop", "muted loop · click to pause"
        play = ""
    else:
        attrs = "playsinline preload=\"metadata\""
        sources = [(f.webm, f.webm_type), (f.mp4, f.mp4_type)]
        mode, hint = "narrated", "P or click to play"
        play = '<div class="play" aria-hidden="true"></div>'
    source_tags = "".join(
        f'\n        <source src="{_url(src)}" type="{_e(kind)}">' for src, kind in sources
    )
    hidden = "" if seg.index == 1 else " hidden"
    return f"""
  <section class="slide" id="slide-{seg.index}" data-mode="{mode}" aria-label="Slide {seg.index} of {n}: {_e(seg.chapter)}"{hidden}>
    <header><span class="num">{seg.index:02d}</span><h2>{_e(seg.chapter)}</h2><span class="hint">{_e(hint)}</span></header>
    <figure class="stage">
      <video {attrs} width="{lecture.width}" height="{lecture.height}" poster="{_url(f.poster)}">{source_tags}
        <a href="{_url(f.mp4)}">{_e(seg.chapter)} (MP4)</a>
      </video>
      {play}<div class="bar"><span></span></div>
    </figure>
    <aside class="notes"><h3>Speaker notes</h3><p>{_e(seg.notes)}</p></aside>
  </section>"""  # noqa: E501


def deck_html(lecture: Lecture, files: Sequence[SlideFiles], css: str, js: str) -> str:
    """The whole offline deck as one HTML page (CSS and JS inline, media by relative path)."""
    if "</script" in js.lower() or "</style" in css.lower():
        raise ValueError("deck assets must not close their own element")
    n = len(lecture.segments)
    pairs = zip(lecture.segments, files, strict=True)
    body = "".join(_slide_html(seg, f, n, lecture) for seg, f in pairs)
    title = _e(lecture.title)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="diffusion-lectures pipeline.slides.build">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
{css}
</style>
</head>
<body>
<main id="deck" aria-live="polite">{body}
</main>
<footer>
  <span class="title">{title}</span>
  <button id="prev" type="button" aria-label="Previous slide">&#8249;</button>
  <span id="counter">1 / {n}</span>
  <button id="next" type="button" aria-label="Next slide">&#8250;</button>
  <span class="keys"><kbd>&larr;</kbd> <kbd>&rarr;</kbd> <kbd>space</kbd> move &middot; <kbd>P</kbd>/<kbd>Enter</kbd> play &middot; <kbd>N</kbd> notes</span>
</footer>
<script>
{js}
</script>
</body>
</html>
"""  # noqa: E501


# ------------------------------------------------------------------ reading
def _where(lecture_dir: Path) -> str:
    """``output/<id>`` relative to the working folder when possible."""
    try:
        return str(lecture_dir.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(lecture_dir)


def _segment(rec: SegmentRecord, fps: int, lecture_dir: Path, where: str) -> SlideSegment:
    ctx = f"{where}/manifest.json: segments ({rec.id})"
    beats = tuple(rec.beats.items())
    if not beats:
        raise InputError(f"{ctx}: no beats")
    clip = lecture_dir / rec.files.segment
    if not clip.is_file():
        raise InputError(f"{where}: {rec.files.segment} missing; run render again")
    render: Path | None = Path(rec.render) if rec.render else None
    if render is not None and not render.is_absolute():
        render = render if render.is_file() else lecture_dir / render
    if render is not None and not render.is_file():
        render = None  # cache cleared: the segment clip carries the same picture
    seg = SlideSegment(
        index=rec.index,
        id=rec.id,
        chapter=rec.chapter,
        fps=fps,
        frames=rec.frames,
        beats=beats,
        notes=" ".join(s.text.strip() for s in rec.narration.sentences if s.text.strip()),
        loop=rec.slide.loop,
        gif=rec.slide.gif,
        poster=rec.slide.poster,
        clip=clip,
        render=render,
    )
    try:
        poster_frame(seg)
    except ValueError as exc:
        raise InputError(f"{ctx}: {exc}") from None
    return seg


def read_lecture(lecture_dir: Path) -> Lecture:
    """Read ``manifest.json`` (a ``LectureRecord``); InputError (one line) when unusable."""
    where = _where(lecture_dir)
    path = lecture_dir / "manifest.json"
    if not path.is_file():
        raise InputError(f"{where}: no rendered lecture (manifest.json missing); run render first")
    try:
        record = read_record(path)
    except RecordError as exc:
        raise InputError(f"{where}/manifest.json: {exc}; run render again") from None
    segments = tuple(_segment(s, record.fps, lecture_dir, where) for s in record.segments)
    return Lecture(
        id=record.lecture, title=record.title, width=record.width, height=record.height,
        fps=record.fps, segments=segments,
    )


# ------------------------------------------------------------------ writing
def _segment_files(seg: SlideSegment, lecture: Lecture, out: Path) -> SlideFiles:
    """Write one segment's clips, poster and GIF into ``out``."""
    q = Quality("slides", lecture.width, lecture.height, lecture.fps, media.NARRATED_CRF)
    base = seg.name
    mp4, webm, poster = f"{base}.mp4", f"{base}.webm", f"{base}.png"
    loop_mp4, loop_webm = f"{base}-loop.mp4", f"{base}-loop.webm"
    gif = f"{base}.gif" if seg.gif else None

    fix = clip_fix(media.probe(seg.clip), media.moov_before_mdat(seg.clip))
    if fix.untouched:
        shutil.copyfile(seg.clip, out / mp4)
    else:
        media.conform_mp4(seg.clip, out / mp4, copy_video=fix.copy_video,
                          copy_audio=fix.copy_audio, q=q)
    narrated_info = media.probe(out / mp4)

    picture = seg.picture
    picture_info = narrated_info if picture == seg.clip and fix.untouched else media.probe(picture)
    media.silent_mp4(picture, out / loop_mp4, copy_video=_video_conforms(picture_info), q=q)
    media.vp9_webm(picture, out / loop_webm)
    if media.stream(narrated_info, "audio") is not None:
        media.add_opus(out / loop_webm, out / mp4, out / webm)
        webm_type = 'video/webm; codecs="vp9, opus"'
    else:  # a clip without sound: the narrated slide shows the silent picture
        webm, webm_type = loop_webm, 'video/webm; codecs="vp9"'

    media.extract_frame(picture, frame_seek(poster_frame(seg), seg.fps), out / poster)
    if gif is not None:
        width = min(GIF_MAX_WIDTH, lecture.width) // 2 * 2
        media.palette_gif(picture, out / gif, width=width, fps=gif_fps(seg.fps))

    return SlideFiles(
        mp4=mp4, webm=webm, loop_mp4=loop_mp4, loop_webm=loop_webm, poster=poster, gif=gif,
        mp4_type=mp4_type(narrated_info), webm_type=webm_type,
        loop_mp4_type=mp4_type(media.probe(out / loop_mp4)),
    )


def write_pptx(lecture: Lecture, files: Sequence[SlideFiles], folder: Path, dst: Path) -> None:
    """One 16:9 slide per segment: chapter title, narrated movie with its poster, notes."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    slide_w, slide_h = Emu(SLIDE_W_EMU), Emu(SLIDE_H_EMU)
    prs.slide_width, prs.slide_height = slide_w, slide_h
    prs.core_properties.title = lecture.title
    layout = prs.slide_layouts[5]  # "Title Only"
    margin, title_h, gap = Inches(0.45), Inches(0.95), Inches(0.15)
    area_w = slide_w - 2 * margin
    area_top = margin + title_h + gap
    area_h = slide_h - area_top - margin
    left, top, width, height = fit_box(area_w, area_h, lecture.width / lecture.height)
    for seg, f in zip(lecture.segments, files, strict=True):
        slide = prs.slides.add_slide(layout)
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = margin, margin, area_w, title_h
        title.text_frame.word_wrap = True
        title.text = seg.chapter
        for run in title.text_frame.paragraphs[0].runs:
            run.font.size = Pt(30)
        slide.shapes.add_movie(
            str(folder / f.mp4), margin + left, area_top + top, width, height,
            poster_frame_image=str(folder / f.poster), mime_type="video/mp4",
        )
        slide.notes_slide.notes_text_frame.text = seg.notes
    prs.save(str(dst))


def _deck_assets() -> tuple[str, str]:
    return (
        (DECK_ASSETS / "deck.css").read_text(encoding="utf-8"),
        (DECK_ASSETS / "deck.js").read_text(encoding="utf-8"),
    )


def _swap_in(stage: Path, final: Path) -> None:
    """Replace ``final`` by ``stage`` with two renames; the old folder goes last."""
    old = final.with_name(f".slides-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    try:
        os.replace(stage, final)
    except BaseException:
        if old.exists() and not final.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_slides(lecture_dir: Path) -> Path:
    """Write ``lecture_dir/slides/`` from a rendered lecture and return its path."""
    lecture_dir = Path(lecture_dir)
    lecture = read_lecture(lecture_dir)
    media.require_tools()
    css, js = _deck_assets()
    final = lecture_dir / "slides"
    stage = lecture_dir / f".slides-staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        files = [_segment_files(seg, lecture, stage) for seg in lecture.segments]
        (stage / "index.html").write_text(deck_html(lecture, files, css, js), encoding="utf-8")
        write_pptx(lecture, files, stage, stage / "lecture.pptx")
        _swap_in(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return final
