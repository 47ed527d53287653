"""Render from Python (a notebook, a script): the command line's commands as functions.

``render_lecture("forward-diffusion", quality="preview")`` renders a lecture,
``render_segment("forward-diffusion", "01_05_math_step_by_step_equation")`` one of its
segments (both return a :class:`RenderedLecture` with the paths of what was written),
and ``check_lecture("forward-diffusion")`` checks a lecture without rendering.
``narrate_scene(MyScene, "Narration.")`` renders a Manim scene class defined in the
notebook (or any module) as a one-segment narrated lecture.

They call the functions the ``lecture`` commands call (:mod:`pipeline.cli.run`), with
typed arguments, so a notebook sees the same progress bars (rich draws them live in
Jupyter), the same summary and the same errors: bad input raises
``pipeline.planning.manifest.InputError`` with the line the CLI prints after ``error:``,
a failed render its own error.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import linecache
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from pipeline import paths
from pipeline.cli import display, run
from pipeline.cli.reports import CheckedLecture
from pipeline.planning.manifest import InputError


@dataclass(frozen=True)
class RenderedLecture:
    """What one render wrote: the output folder, the lecture video and each segment's clip."""

    out_dir: Path
    video: Path
    captions: Path
    manifest: Path
    segments: dict[str, Path]
    duration: float

    def show(self, segment: str | None = None, width: int = 640) -> Any:
        """The lecture (or one segment) as an inline video for a notebook cell."""
        from IPython.display import Video

        path = self.video if segment is None else self.segments[segment]
        return Video(str(path), embed=True, width=width)  # type: ignore[no-untyped-call]


def render_lecture(
    lecture: str | Path = run.DEFAULT_LECTURE,
    *,
    quality: str | None = None,
    only: Sequence[str] = (),
    narration_dir: str | Path | None = None,
    voice: str | None = None,
    jobs: int | None = None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
    out: str | Path | None = None,
    executor: str = "local",
    cache: str | None = None,
    wait: bool = True,
    cache_max_size: str = run.DEFAULT_CACHE_MAX_SIZE,
    caption_hold_max: float | None = None,
) -> RenderedLecture:
    """Render a lecture (id in ``config/`` or a ``.toml`` path) like ``lecture render``.

    The keywords are the command's flags: ``quality`` (tiny | preview | 720p | 1080p |
    4k), ``only`` (segment ids), ``narration_dir``, ``voice``, ``jobs``, ``strict``,
    ``allow_clipped``, ``allow_unaligned``, ``out`` (output root), ``executor``,
    ``cache``, ``wait`` (False: ``--no-wait``), ``cache_max_size``,
    ``caption_hold_max`` (seconds).
    """
    req = run.RenderRequest(
        lectures=(str(lecture),), quality=quality, only=_ids(only),
        narration_dir=_path(narration_dir), voice=voice, jobs=jobs, strict=strict,
        allow_clipped=allow_clipped, allow_unaligned=allow_unaligned, out=_path(out),
        executor=executor, cache=cache, wait=wait, cache_max_size=cache_max_size,
        caption_hold_max=caption_hold_max)
    console = Console(stderr=True)
    held = display.log_to(console)  # warnings as the CLI prints them
    t0 = time.perf_counter()
    [result] = run.render(req, console)
    display.summary(console, result, time.perf_counter() - t0)
    held.flush_held()
    out_dir = result.out_dir
    return RenderedLecture(
        out_dir=out_dir,
        video=out_dir / "lecture.mp4",
        captions=out_dir / "captions.vtt",
        manifest=out_dir / "manifest.json",
        segments={p.spec.id: out_dir / "segments" / f"{p.name}.mp4" for p in result.plans},
        duration=result.duration,
    )


def render_segment(lecture: str | Path, segment: str, **options: Any) -> RenderedLecture:
    """Render one narrated segment of a lecture (written to ``<out>/<id>/only/``); the
    keywords are :func:`render_lecture`'s."""
    return render_lecture(lecture, only=[segment], **options)


def check_lecture(
    lecture: str | Path = run.DEFAULT_LECTURE,
    *,
    quality: str | None = None,
    only: Sequence[str] = (),
    narration_dir: str | Path | None = None,
    voice: str | None = None,
    strict: bool = False,
    allow_clipped: bool = False,
    allow_unaligned: bool = False,
    caption_hold_max: float | None = None,
) -> CheckedLecture:
    """Check a lecture like ``lecture check``: everything a render checks before its
    first frame, and its plans (narration, timing, keys), without rendering. Prints the
    per-segment table; raises ``InputError`` on bad input."""
    req = run.RenderRequest(
        lectures=(str(lecture),), quality=quality, only=_ids(only),
        narration_dir=_path(narration_dir), voice=voice, strict=strict,
        allow_clipped=allow_clipped, allow_unaligned=allow_unaligned,
        caption_hold_max=caption_hold_max)
    console = Console(stderr=True)
    held = display.log_to(console)
    checked = run.check(req, console)
    display.check_table(display.stdout_console(console), checked)
    held.flush_held()
    return checked


def narrate_scene(
    scene: type,
    narration: str,
    *,
    source: str | None = None,
    title: str | None = None,
    quality: str | None = "preview",
    voice: str | None = None,
    out: str | Path | None = None,
    **options: Any,
) -> RenderedLecture:
    """Render the Manim scene class ``scene`` as a narrated one-segment lecture.

    For a class defined in a notebook cell (or in ``__main__``), the render child gets
    a module made of the import statements the kernel has run (every executed cell's
    top-level ``import``/``from ... import``) followed by the class's own definition,
    read from the cell's code; pass ``source=`` (a module's code defining the class) when
    the class needs more than that (helpers or constants from other cells). A class
    in an importable module's file is rendered from that file. The module and a
    one-segment TOML are written to a folder of the user cache named by their content
    (``notebook-scenes/``), the lecture's id is ``scene-<Class>`` and its segment's id
    the class's name; the render is the normal pipeline's (dry run, narration, timing,
    cache), written to ``<out>/scene-<Class>/``. ``quality``, ``voice``, ``out`` and
    the other keywords are :func:`render_lecture`'s. ``.show()`` on the result plays it.
    """
    if not (isinstance(scene, type) and _is_manim_scene(scene)):
        raise InputError(f"narrate_scene: {scene!r} is not a subclass of manim's Scene")
    if not narration.strip():
        raise InputError("narrate_scene: the narration is empty")
    name = scene.__name__.lstrip("_") or "Scene"  # an id starts with a letter or digit
    module_file = _module_file(scene) if source is None else None
    code = None if module_file is not None else (source or notebook_source(scene))
    lecture_id = f"scene-{name}"
    ref = f"{module_file or 'notebook_scene.py'}:{scene.__name__}"
    lines = [f"id = {json.dumps(lecture_id)}", f"title = {json.dumps(title or name)}",
             'quality = "preview"', "",
             "[[segments]]", f"id = {json.dumps(name)}", f"chapter = {json.dumps(title or name)}",
             f"scene = {json.dumps(ref)}",
             f"narration = {json.dumps(narration)}", ""]
    toml = "\n".join(lines)
    digest = hashlib.sha256(f"{code}\0{toml}".encode()).hexdigest()[:16]
    folder = paths.cache_dir("notebook-scenes", digest)
    if code is not None:
        _write(folder / "notebook_scene.py", code)
    _write(folder / "lecture.toml", toml)
    return render_lecture(folder / "lecture.toml", quality=quality, voice=voice, out=out,
                          **options)


def notebook_source(scene: type) -> str:
    """A module defining ``scene``: the imports the kernel (or the script) has run, then
    the class's definition. Raises ``InputError`` when the class's code is not found."""
    name = scene.__name__
    cell = _cell_of(scene)
    if cell is None:
        raise InputError(f"narrate_scene: the code of {name} is not found (a class without "
                         "methods, or not defined in a cell or file): pass source=")
    text, line = cell
    tree = ast.parse(text)
    found = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
             and node.name == name and node.lineno <= line <= (node.end_lineno or line)]
    if not found or found[0] not in tree.body:
        raise InputError(f"narrate_scene: {name} is not defined at the top level of its "
                         "cell: pass source=")
    node = found[0]
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    definition = "".join(text.splitlines(keepends=True)[first - 1:node.end_lineno])
    imports = _imports([*_history(), text])
    return "\n".join([*imports, "", "", definition.rstrip(), ""])


def _is_manim_scene(cls: type) -> bool:
    return any(f"{c.__module__}.{c.__qualname__}" == "manim.scene.scene.Scene"
               for c in cls.__mro__)


def _module_file(scene: type) -> str | None:
    """The file of the importable module that defines ``scene`` at its top level."""
    module = sys.modules.get(scene.__module__)
    file = getattr(module, "__file__", None)
    if (scene.__module__ == "__main__" or not isinstance(file, str)
            or not file.endswith(".py") or getattr(module, scene.__name__, None) is not scene):
        return None
    return str(Path(file).resolve())


def _cell_of(scene: type) -> tuple[str, int] | None:
    """The code of the cell (or file) that defined ``scene`` and a line inside the
    class: from a method's code object, whose file IPython keeps in ``linecache``."""
    for value in vars(scene).values():
        func = getattr(value, "__func__", value)
        code = getattr(func, "__code__", None)
        if code is None:
            continue
        text = "".join(linecache.getlines(code.co_filename))
        if text:
            return text, code.co_firstlineno
    try:
        lines, start = inspect.getsourcelines(scene)
        whole = "".join(linecache.getlines(inspect.getsourcefile(scene) or ""))
        return (whole, start) if whole else ("".join(lines), 1)
    except (OSError, TypeError):
        return None


def _history() -> list[str]:
    """The code of the cells the IPython kernel has run (empty outside IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return []
    return [str(c) for c in shell.user_ns.get("_ih", [])]


def _imports(sources: Iterable[str]) -> list[str]:
    """The top-level import statements of ``sources``, once each, ``__future__`` first."""
    seen: dict[str, None] = {}
    for text in sources:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                seen.setdefault(ast.unparse(node), None)
    return sorted(seen, key=lambda s: not s.startswith("from __future__"))


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _ids(only: Sequence[str]) -> tuple[str, ...]:
    if isinstance(only, str):
        raise InputError(f"--only: give a list of segment ids, not the string {only!r}")
    return tuple(only)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


__all__ = ["CheckedLecture", "RenderedLecture", "check_lecture", "narrate_scene",
           "render_lecture", "render_segment"]
