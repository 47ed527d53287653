"""Shared by the reliability tests: a tiny two-segment lecture under an odd folder name,
with two narration variants, driven through the real command line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import media

from helpers.audio import speechlike, write_audio

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout (tests/helpers/..)

TOML = """id = "tiny"
title = "Tiny lecture"
seed = 5
quality = "tiny"
lead_in = 0.2
tail = 0.3

[[segments]]
id = "a"
chapter = "First"
scene = "TitleCard"
params = { title = "First" }
narration = "One. Two."

[[segments]]
id = "b"
chapter = "Second"
scene = "TitleCard"
params = { title = "Second" }
narration = "Three. Four."
"""


def cli(*args: str, status: Path | None = None, popen: bool = False, **kw):  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if status is not None:
        env["LECTURE_STATUS_FILE"] = str(status)
    cmd = [sys.executable, str(ROOT / "render.py"), *args]
    if popen:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, **kw)


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def av(folder: Path) -> tuple[str, str]:
    """Decoded-frame and PCM hashes of a published lecture (raises if it does not decode)."""
    mp4 = folder / "lecture.mp4"
    return media.decoded_md5(mp4, "v"), media.decoded_md5(mp4, "a")


class Lecture:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.toml = base / "tiny.toml"
        self.toml.write_text(TOML, encoding="utf-8")
        self.clips = {v: base / f"takes {v}" for v in "AB"}
        for v, folder in self.clips.items():
            folder.mkdir()
            write_audio(folder / "a.wav", speechlike(2, seed=1, lead=0.0, tail=0.05).samples)
            b = speechlike(2, seed=2 if v == "A" else 7, lead=0.0, tail=0.05,
                           pause=(0.35, 0.7) if v == "A" else (0.9, 1.2))
            write_audio(folder / "b.wav", b.samples)
        self.out = base / "out"
        self.ref: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, dict[str, str]] = {}

    @property
    def link(self) -> Path:
        return self.out / "tiny"

    def args(self, variant: str, out: Path | None = None) -> list[str]:
        return ["--lecture", str(self.toml), "--out", str(out or self.out),
                "--narration-dir", str(self.clips[variant]), "--jobs", "2"]

    def run(self, variant: str, out: Path | None = None, *extra: str):  # type: ignore[no-untyped-def]
        proc = cli(*self.args(variant, out), *extra)
        assert proc.returncode == 0, proc.stderr
        return proc

    def manifest(self, out: Path | None = None) -> dict:
        return json.loads(((out or self.out) / "tiny" / "manifest.json").read_text())

    def drop_cache(self, variant: str, seg: str) -> None:
        key = self.keys[variant][seg]
        for suffix in (".mp4", ".json"):
            (self.out / ".cache" / "renders" / f"{key}{suffix}").unlink(missing_ok=True)


def make_lecture(tmp_path_factory: pytest.TempPathFactory) -> Lecture:
    base = tmp_path_factory.mktemp("reliability") / "it's a tëst folder"
    base.mkdir()
    lec = Lecture(base)
    for v in "BA":  # A is published last
        lec.run(v)
        lec.ref[v] = av(lec.link)
        lec.keys[v] = {s["id"]: s["cache_key"] for s in lec.manifest()["segments"]}
    assert lec.keys["A"]["a"] == lec.keys["B"]["a"] and lec.keys["A"]["b"] != lec.keys["B"]["b"]
    assert lec.ref["A"] != lec.ref["B"]
    return lec
