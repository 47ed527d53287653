"""A small real lecture to publish: three chapters of about 11 s (YouTube's chapter
rules hold), narrated by recorded takes with a noise floor and a transcript beside each,
so its ``lecture.mp4`` is some 1.5 MB: several 256 KiB chunks. Rendered once through the
real command line."""

from __future__ import annotations

from pathlib import Path

from helpers.audio import speechlike, write_audio
from helpers.reliability import cli

SEGMENTS = ("intro", "middle", "end")
TOML = """id = "yt-tiny"
title = "Noise, step by step"
summary = "A tiny lecture for the publishing tests."
seed = 3
quality = "tiny"
lead_in = 0.2
tail = 0.3
"""


def segment_toml(i: int, seg: str, text: str) -> str:
    return (f'\n[[segments]]\nid = "{seg}"\nchapter = "Part {i + 1}: {seg}"\n'
            f'scene = "TitleCard"\nparams = {{ title = "{seg.title()}" }}\n'
            f'narration = "{text}"\n')


def make_lecture(base: Path) -> tuple[Path, Path]:
    """(the output root, the manifest) of the rendered lecture."""
    takes = base / "takes"
    takes.mkdir(parents=True)
    toml = TOML
    for i, seg in enumerate(SEGMENTS):
        take = speechlike(4, seed=10 + i, lead=0.1, tail=0.1, pause=(0.5, 0.8),
                          noise_dbfs=-38.0)
        write_audio(takes / f"{seg}.wav", take.samples)
        # the takes are speech-like noise: a transcript beside each keeps the recogniser
        # (and so draft captions, which publishing holds back) out of these tests
        (takes / f"{seg}.txt").write_text("\n".join(take.texts) + "\n", encoding="utf-8")
        toml += segment_toml(i, seg, " ".join(take.texts))
    manifest = base / "yt-tiny.toml"
    manifest.write_text(toml, encoding="utf-8")
    out = base / "out"
    done = cli(str(manifest), "--narration-dir", str(takes), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, manifest
