"""A small but real rendered lecture folder for the slide tests, built with ffmpeg.

``make_lecture(root)`` writes ``root/output/demo/`` the way ``pipeline.lecture`` does:
cached silent renders (``root/output/.cache/*.mp4``), narrated segment clips in
``segments/`` and ``manifest.json``. Every frame carries a grey patch whose level
encodes its frame number (``level = 8 + 9 * n``), so a poster PNG tells which frame it
is; the rest of the frame is ffmpeg's ``testsrc2`` pattern, so nothing is blank.

The three clips take the three paths of ``pipeline.slides.build``: segment 1 is already a
slide clip (copied), segment 2 lacks faststart and its cached render is gone
(remuxed; silent clips cut from the segment clip), segment 3 is H.264 4:4:4 (encoded).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline import media
from pipeline.planning.manifest import Quality

PATCH = (8, 8, 48, 48)  # x, y, w, h of the frame-number patch
LEVEL0, LEVEL_STEP = 8, 9


@dataclass(frozen=True)
class FakeSegment:
    id: str
    chapter: str
    beats: dict[str, float]
    sentences: tuple[str, ...]
    tone_hz: int
    slide: dict[str, object]
    clip_kind: str  # "ready" | "no-faststart" | "yuv444"
    expected_poster: int  # frame index the poster must show


SEGMENTS = (
    FakeSegment(
        "intro", "What noise does", {"setup": 0.5, "main": 1.0, "outro": 0.5},
        ("Noise is added step by step.", "The picture fades to static."), 440,
        {"loop": False, "gif": False, "poster": None}, "ready", 14,
    ),
    FakeSegment(
        "noise", 'Noise <b>&</b> "signal"', {"a": 0.6, "b": 1.2, "c": 0.6},
        ('Tags like </script><script>alert("x")</script> stay text & "quoted".',), 660,
        {"loop": False, "gif": False, "poster": 0.75}, "no-faststart", 7,
    ),
    FakeSegment(
        "sample", "Sampling backwards", {"first": 0.9, "second": 1.1},
        ("We run the chain in reverse.", "Each step removes a little noise."), 880,
        {"loop": True, "gif": True, "poster": "first"}, "yuv444", 8,
    ),
)


def level_to_frame(level: float) -> int:
    return round((level - LEVEL0) / LEVEL_STEP)


def _run(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args],
                   check=True)


def _render(dst: Path, seconds: float, q: Quality, hue: int) -> None:
    x, y, w, h = PATCH
    ramp = f"{LEVEL0}+{LEVEL_STEP}*N"
    graph = (
        f"testsrc2=s={q.width}x{q.height}:r={q.fps}:d={seconds},hue=h={hue}[bg];"
        f"color=black:s={w}x{h}:r={q.fps}:d={seconds},format=rgb24,"
        f"geq=r='{ramp}':g='{ramp}':b='{ramp}'[patch];"
        f"[bg][patch]overlay={x}:{y}:shortest=1,format=yuv420p[v]"
    )
    _run("-filter_complex", graph, "-map", "[v]", *media.x264_args(q),
         "-movflags", "+faststart", str(dst))


def make_lecture(root: Path, *, width: int = 192, height: int = 108, fps: int = 10) -> Path:
    q = Quality("test", width, height, fps, 28)
    out = root / "output" / "demo"
    cache = root / "output" / ".cache"
    (out / "segments").mkdir(parents=True)
    cache.mkdir(parents=True)
    entries, start = [], 0
    for index, seg in enumerate(SEGMENTS, start=1):
        frames = round(sum(seg.beats.values()) * fps)
        seconds = frames / fps
        render = cache / f"{seg.id}-key.mp4"
        _render(render, seconds, q, hue=120 * (index - 1))
        wav = root / f"{seg.id}.wav"
        _run("-f", "lavfi", "-i", f"sine=frequency={seg.tone_hz}:sample_rate=48000:d={seconds}",
             "-ac", "2", "-c:a", "pcm_s16le", str(wav))
        clip = out / "segments" / f"{index:02d}_{seg.id}.mp4"
        if seg.clip_kind == "ready":
            media.mux(render, wav, clip)
        elif seg.clip_kind == "no-faststart":
            _run("-i", str(render), "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                 "-c:a", "aac", "-b:a", "128k", str(clip))
            render.unlink()  # cache cleared since: slides must use the segment clip
        else:
            _run("-i", str(render), "-i", str(wav), "-map", "0:v", "-map", "1:a",
                 "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv444p",
                 "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(clip))
        wav.unlink()
        t, sentences = 0.5, []
        for text in seg.sentences:
            sentences.append({"text": text, "start": t, "end": t + 0.6})
            t += 0.7
        entries.append({
            "index": index, "id": seg.id, "chapter": seg.chapter, "scene": "FakeScene",
            "params": {}, "start": start / fps, "start_frame": start,
            "duration": seconds, "frames": frames, "speech_start": start / fps + 0.5,
            "narration": {"source": "clip", "detail": "", "duration": t, "path": None,
                          "cache_key": None, "sentences": sentences},
            "beats": seg.beats, "padding": 0.0, "cache_key": f"{seg.id}-key",
            "render": str(render), "files": {"segment": f"segments/{clip.name}"},
            "slide": seg.slide,
        })
        start += frames
    manifest = {
        "lecture": "demo", "title": "Diffusion <demo> & friends", "quality": "test",
        "width": width, "height": height, "fps": fps, "frames": start,
        "duration": start / fps, "seed": 0, "segments": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out
