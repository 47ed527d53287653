"""What planning needs of a lecture's own scene before rendering it: its beats, or its
natural length in frames, from a dry run in a child process
(:mod:`pipeline.rendering.author_process`), which also checks that the file imports,
the class is a Manim scene and the segment's ``params`` fit the model it declares as
``Params`` (answering them with the model's defaults filled in).

Answers are kept in the user cache (``pipeline.paths.cache_dir("scene-probes")``) under
the scene's code (:func:`pipeline.rendering.fingerprint.author_fingerprint`), the
class, the params, the quality and the versions of the toolchain, so a warm plan starts
no child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline import files, paths
from pipeline.planning.manifest import Quality
from pipeline.planning.scene_ref import AuthorScene
from pipeline.rendering import fingerprint
from pipeline.voiceover.job import Block
from scenes.timing import Beat

PROBE_FORMAT = 3  # 2: params checked, answered with the model's defaults; 3: voiceover
DRY_RUN_SECONDS = 900  # a scene that never ends must not hang planning
HERE = Path(__file__).resolve().parent


class SceneProblem(Exception):
    """The scene cannot be planned. ``bad_input``: it does not import, is not a scene
    or its ``params`` do not fit its model (exit 2); else its ``construct`` failed
    (exit 1). ``field``: the bad parameter's dotted path ("" for the whole ``params``),
    None when the problem is not the parameters."""

    def __init__(self, message: str, bad_input: bool, field: str | None = None) -> None:
        super().__init__(message)
        self.bad_input = bad_input
        self.field = field


@dataclass(frozen=True)
class SceneInfo:
    beats: tuple[Beat, ...]  # declared by a TimedScene subclass; empty for a plain scene
    frames: int  # a plain scene's natural length at the quality asked for
    params: dict[str, Any]  # the segment's params as the scene gets them (model defaults in)
    blocks: tuple[Block, ...] = ()  # a voiceover segment's blocks (pipeline.voiceover)


def child_sources() -> dict[str, str]:
    """The render child's code, part of every key of an author scene."""
    return {name: fingerprint.file_digest(HERE / name)
            for name in ("scene_process.py", "author_process.py")}


def probe_key(scene: AuthorScene, q: Quality, params: dict[str, Any]) -> str:
    payload = {"params": params,
        "format": PROBE_FORMAT, "scene": scene.name, "quality": asdict(q),
        "code": fingerprint.author_fingerprint(Path(scene.file), Path(scene.root)),
        "child": child_sources(), "toolchain": fingerprint.toolchain(),
        "seed": scene.random_seed,
        "voiceover": scene.voiceover.key_payload() if scene.voiceover else None,
    }
    return fingerprint.digest(json.dumps(payload, sort_keys=True, default=str))[:32]


def probe(scene: AuthorScene, q: Quality, params: dict[str, Any]) -> SceneInfo:
    """The scene's beats or natural length at quality ``q`` with the segment's
    ``params``, and those params checked against the scene's model (remembered; else
    from a dry-run child). The dry run uses the render's own size, not just its frame rate: a
    scene's timing may depend on it (manim's ``Write`` takes its length from the number
    of glyph outlines, and Pango merges glyphs on a very small canvas)."""
    try:
        key = probe_key(scene, q, params)
    except SyntaxError as exc:  # the author's closure is read with ``ast`` first
        raise SceneProblem(f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}", True) from None
    path = paths.cache_dir("scene-probes") / f"{key}.json"
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = _run_child(scene, q, params)
        if "error" not in result:
            try:
                files.write_text_atomic(path, json.dumps(result))
            except OSError:  # a cache that cannot be written only costs a dry run
                pass
    if "error" in result:
        kind = result.get("kind")
        raise SceneProblem(str(result["error"]), kind in ("input", "params"),
                           str(result.get("field") or "") if kind == "params" else None)
    resolved = dict(result.get("params") or {})
    if "beats" in result:
        return SceneInfo(tuple(Beat(str(n), float(s), float(m)) for n, s, m in result["beats"]),
                         0, resolved)
    blocks = tuple(Block.model_validate(b) for b in result.get("voiceover") or ())
    return SceneInfo((), int(result["frames"]), resolved, blocks)


def _run_child(scene: AuthorScene, q: Quality, params: dict[str, Any]) -> dict[str, Any]:
    request = {"scene": scene.model_dump(), "quality": asdict(q), "params": params}
    env = {"OMP_NUM_THREADS": "1", **os.environ, **fingerprint.CHILD_ENV,
           "LECTURE_AUTHOR_PROBE": json.dumps(request)}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(fingerprint.ROOT), env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run([sys.executable, "-m", "pipeline.rendering.author_process"],
                              env=env, cwd=paths.cache_dir("scene-probes"),
                              capture_output=True, text=True, timeout=DRY_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        return {"error": f"{scene.file}: the dry run took longer than {DRY_RUN_SECONDS} s",
                "kind": "run"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                break
    tail = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    why = tail[-1].strip() if tail else f"exit status {proc.returncode}"
    return {"error": f"{scene.file}: the dry run failed: {why}", "kind": "run"}
