"""What the commands do, with typed arguments: the click commands and ``pipeline.api``
both call these functions, so they check, report and fail the same way (bad input is an
``InputError`` whose text is the line the command prints after ``error:``).

Every flag and the manifest are checked before the pipeline (manim, torch) is imported.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from pipeline import paths
from pipeline.cli import display
from pipeline.cli.reports import CacheInfo, CheckedLecture
from pipeline.planning import preflight
from pipeline.planning.manifest import (
    QUALITIES,
    InputError,
    LectureSpec,
    Quality,
    available_lectures,
    load_lecture,
)

if TYPE_CHECKING:
    from pipeline.lecture import LectureResult
    from pipeline.options import RenderOptions
    from pipeline.records import TakeRow
    from pipeline.rendering.executors import LectureRequest

DEFAULT_LECTURE = "forward-diffusion"
DEFAULT_CACHE_MAX_SIZE = "5G"


@dataclass(frozen=True)
class RenderRequest:
    """A render (or check) as asked for: the flags of ``lecture render``, typed."""

    lectures: tuple[str, ...] = (DEFAULT_LECTURE,)  # lecture ids or .toml paths
    quality: str | None = None  # None: each manifest's own
    only: tuple[str, ...] = ()
    narration_dir: Path | None = None
    voice: str | None = None
    jobs: int | None = None  # None: what the cores and the free memory allow
    strict: bool = False
    allow_clipped: bool = False
    allow_unaligned: bool = False
    out: Path | None = None  # None: output/
    executor: str = "local"
    cache: str | None = None  # None: <out>/.cache
    wait: bool = True
    cache_max_size: str = DEFAULT_CACHE_MAX_SIZE
    caption_hold_max: float | None = None  # None: pipeline.options.CAPTION_HOLD_MAX


# ------------------------------------------------------------------ flags
def pick_lectures(positional: str | None, flag: str | None, many: Sequence[str]) -> tuple[str, ...]:
    """The lectures a command names: ``LECTURE``, ``--lecture`` or ``--lectures``."""
    if positional is not None and flag is not None and positional != flag:
        raise InputError(f"--lecture: {flag!r} differs from the LECTURE argument "
                         f"{positional!r}; give one")
    one = positional if positional is not None else flag
    if many and one is not None:
        raise InputError(f"--lectures: give several lectures with --lectures or one with "
                         f"LECTURE/--lecture, not both ({one!r} and {', '.join(many)})")
    return tuple(many) or (one if one is not None else DEFAULT_LECTURE,)


def choice_message(value: str, choices: Sequence[str]) -> str:
    return f"{value!r} is not one of {', '.join(choices)}"


def check_quality(name: str | None) -> str | None:
    if name is not None and name not in QUALITIES:
        raise InputError(f"--quality: {choice_message(name, list(QUALITIES))}")
    return name


def check_flags(req: RenderRequest) -> None:
    """The flags that need no file: quality, jobs, voice, segments."""
    check_quality(req.quality)
    if req.jobs is not None and req.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {req.jobs}")
    hold = req.caption_hold_max
    if hold is not None and not 0 <= hold < float("inf"):
        raise InputError(f"--caption-hold-max must be >= 0 seconds, got {hold:g}")
    if req.voice is not None:
        from audio.narration import parse_voice

        try:
            parse_voice(req.voice)
        except ValueError as exc:
            raise InputError(f"--voice: {exc}") from exc


def load_specs(req: RenderRequest) -> list[tuple[LectureSpec, str]]:
    """Each lecture's manifest (``--voice`` applied) and where it came from."""
    if req.narration_dir is not None:
        preflight.folder_flag("--narration-dir", req.narration_dir)
    loaded = []
    for name in req.lectures:
        spec = load_lecture(name)
        if req.voice is not None:
            spec = spec.model_copy(update={"voice": req.voice})
        source = paths.shown(spec.source) if spec.source is not None else str(name)
        loaded.append((spec, source))
    return loaded


def render_options(req: RenderRequest, quality: Quality, out_root: Path,
                   max_bytes: int) -> RenderOptions:
    from pipeline.options import RenderOptions
    from pipeline.rendering.resources import default_jobs

    opts = RenderOptions(quality=quality, out_root=out_root, narration_dir=req.narration_dir,
                         jobs=req.jobs or default_jobs(quality), strict=req.strict,
                         only=tuple(req.only), allow_clipped=req.allow_clipped,
                         allow_unaligned=req.allow_unaligned, wait=req.wait,
                         cache_max_bytes=max_bytes)
    if req.caption_hold_max is not None:
        opts = replace(opts, caption_hold_max=req.caption_hold_max)
    if req.cache is not None and req.executor == "local":
        opts = replace(opts, cache_root=local_cache(req.cache))
    return opts


def local_cache(url: str) -> Path:
    """``--cache`` for the local executor: a folder, as a path or a ``file://`` URL."""
    if url.startswith("file://"):
        return Path(url.removeprefix("file://")).resolve()
    if "://" in url:
        raise InputError(f"--cache: {url!r} needs a Dask executor; the local executor "
                         "caches in a folder (a path or file:// URL)")
    return Path(url).resolve()


# ------------------------------------------------------------------ render
def prepare(req: RenderRequest) -> list[LectureRequest]:
    """Every check a render makes before it plans: flags, output folder, manifests."""
    out_root = preflight.output_root(req.out, preflight.DEFAULT_OUT)
    max_bytes = preflight.size_flag("--cache-max-size", req.cache_max_size)
    check_flags(req)
    loaded = load_specs(req)
    from pipeline.rendering.executors import LectureRequest

    first = loaded[0][0]
    base = render_options(req, QUALITIES[req.quality or first.quality], out_root, max_bytes)
    return [LectureRequest(spec, source,
                           replace(base, quality=QUALITIES[req.quality or spec.quality]))
            for spec, source in loaded]


def render(req: RenderRequest, console: Console) -> list[LectureResult]:
    """Render the lectures with the progress display on ``console``; one result each."""
    lectures = prepare(req)
    from pipeline.lecture import render_lectures
    from pipeline.rendering.executors import parse_executor

    executor = parse_executor(req.executor, lectures[0].opts, req.cache)
    try:
        with display.live_progress(console) as reporter:
            return render_lectures(lectures, executor, reporter=reporter)
    finally:
        executor.close()


def render_and_report(req: RenderRequest, console: Console) -> list[LectureResult]:
    """``render`` followed by each lecture's summary table."""
    t0 = time.perf_counter()
    results = render(req, console)
    for result in results:
        display.summary(console, result, time.perf_counter() - t0)
    return results


# ------------------------------------------------------------------ check
def check(req: RenderRequest, console: Console) -> CheckedLecture:
    """Everything a render checks before its first frame (manifest, scene parameters,
    placeholders, bookmarks, clips, transcripts, ``--strict``), and the planning it
    would start from (narration synthesised into the speech cache, timing, render and
    assembly keys). No render, no output folder, no lock."""
    if len(req.lectures) != 1:
        raise InputError("check: give one lecture")
    check_flags(req)
    [(spec, source)] = load_specs(req)
    from pipeline.assembly.lecture_record import take_rows
    from pipeline.assembly.parts import assembly_key
    from pipeline.lecture import check_inputs
    from pipeline.options import RenderOptions
    from pipeline.planning.plan import plan_lecture

    q = QUALITIES[req.quality or spec.quality]
    opts = RenderOptions(quality=q, narration_dir=req.narration_dir, strict=req.strict,
                         only=tuple(req.only), allow_clipped=req.allow_clipped,
                         allow_unaligned=req.allow_unaligned)
    if req.caption_hold_max is not None:
        opts = replace(opts, caption_hold_max=req.caption_hold_max)
    spec = check_inputs(spec, opts, source)
    with display.live_progress(console) as reporter:
        reporter.stage("planning")
        plans = plan_lecture(spec, opts, source=source, reporter=reporter)
    return CheckedLecture(spec, source, q, plans, assembly_key(spec, plans, q),
                          take_rows(plans))


# ------------------------------------------------------------------ slides, list
def slides(lecture: str, *, out: Path | None, wait: bool, console: Console) -> Path:
    """Build ``<out>/<id>/slides/`` from the lecture's last render; renders nothing."""
    out_root = preflight.output_root(out, preflight.DEFAULT_OUT)
    spec = load_lecture(lecture)
    if not (out_root / spec.id / "manifest.json").is_file():
        raise InputError(f"{out_root / spec.id}: no rendered lecture (manifest.json "
                         "missing); run render first")
    from pipeline.publish import slides_update
    from pipeline.slides.build import build_slides

    t0 = time.perf_counter()
    on_wait = display.say_waiting(console, out_root / spec.id)
    with slides_update(out_root, spec.id, wait=wait, on_wait=on_wait) as stage:
        build_slides(stage)
    folder = out_root / spec.id / "slides"
    display.say(console, f"slides written to {folder} in {time.perf_counter() - t0:.1f} s")
    return folder


def list_lectures(console: Console, narration_dir: Path | None = None) -> None:
    """Every lecture found (``./config``, then the shipped ones) and its segments; with
    ``narration_dir``, each lecture's takes there, analysed (cached with a render's
    analysis), in the takes table."""
    if narration_dir is not None:
        preflight.folder_flag("--narration-dir", narration_dir)
    for lid in available_lectures():
        spec = load_lecture(lid)
        console.print(f"[bold]{lid}[/]: {spec.title} ({len(spec.segments)} segments)",
                      highlight=False)
        rows = lecture_takes(spec, narration_dir) if narration_dir is not None else []
        off = {r.segment for r in rows if r.off_script}
        for i, s in enumerate(spec.segments, 1):
            mark = "  off-script take" if s.id in off else ""
            display.say(console, f"  {i:02d} {s.id:<40} {s.scene:<20} {s.chapter}{mark}")
        if rows:
            display.takes_table(console, rows)


def lecture_takes(spec: LectureSpec, narration_dir: Path) -> list[TakeRow]:
    """The takes table of the segments of ``spec`` that have a take in ``narration_dir``
    (or a ``clip`` of their own): each take analysed as a render analyses it."""
    from audio.clips import NarrationError, find_clip
    from audio.narration import resolve_narration
    from pipeline.assembly.lecture_record import take_row

    rows = []
    for seg in spec.segments:
        try:
            if seg.clip is None and find_clip(narration_dir, seg.id) is None:
                continue  # a render would synthesise this one: no take to show
            n = resolve_narration(segment_id=seg.id, script=seg.narration, clip=seg.clip,
                                  narration_dir=narration_dir, cache_dir=paths.speech_cache())
        except NarrationError as exc:
            raise InputError(str(exc)) from None
        row = take_row(seg.id, n)
        if row is not None:
            rows.append(row)
    return rows


# ------------------------------------------------------------------ cache
def cache_folder(out: Path | None, cache: str | None, *, create: bool) -> Path:
    """The render cache ``--cache`` names (a folder or ``file://`` URL), else
    ``<out>/.cache``. ``create``: make and prove the output folder (prune writes)."""
    if cache is not None:
        return local_cache(cache)
    if create:
        return preflight.output_root(out, preflight.DEFAULT_OUT) / ".cache"
    root = Path(out if out is not None else preflight.DEFAULT_OUT).resolve()
    if root.exists() and not root.is_dir():
        raise InputError(f"--out: {root} is a file, not a folder")
    return root / ".cache"


def cache_info(out: Path | None, cache: str | None, max_size: str) -> CacheInfo:
    """What the render cache holds; reads only (no lock, no eviction)."""
    from pipeline.rendering.cache import EntryRecord, cache_size

    cap = preflight.size_flag("--cache-max-size", max_size)
    folder = cache_folder(out, cache, create=False)
    renders = folder / "renders"
    files = sorted(renders.iterdir()) if renders.is_dir() else []
    used: list[float] = []
    for rec in (p for p in files if p.suffix == ".json" and not p.name.startswith(".")):
        if not rec.with_suffix(".mp4").is_file():
            continue
        try:
            used.append(EntryRecord.model_validate_json(rec.read_text("utf-8")).last_used)
        except (OSError, ValueError):
            continue
    parts = folder / "parts"
    parts_size = sum(p.stat().st_size for p in parts.rglob("*") if p.is_file()) \
        if parts.is_dir() else 0
    return CacheInfo(location=folder, entries=len(used), size=cache_size(folder), cap=cap,
                     incomplete=len(files) - 2 * len(used), parts_size=parts_size,
                     oldest=min(used, default=None), newest=max(used, default=None))


def cache_prune(out: Path | None, cache: str | None, max_size: str,
                console: Console) -> tuple[int, int, int]:
    """Wait for renders using the cache, clean, evict least recently used entries down
    to the cap. Returns (entries removed, bytes freed, bytes left)."""
    folder = cache_folder(out, cache, create=True)
    max_bytes = preflight.size_flag("--cache-max-size", max_size)
    from pipeline.rendering.housekeeping import prune_now

    n, freed, left = prune_now(folder, max_bytes, on_wait=lambda holder: display.say(
        console, f"waiting for the render (pid {holder}) using the cache"))
    display.say(console, f"cache {folder}: evicted {n} entries ({freed / 1e6:.1f} MB); "
                f"{left / 1e6:.1f} MB kept")
    return n, freed, left
