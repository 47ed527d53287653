"""Every ffmpeg and ffprobe call of the pipeline lives here.

Each function reads or writes files and returns plain values; the logic that decides
what to write lives elsewhere. Encoder settings follow ``docs/publishing.md``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audio.pcm import SAMPLE_RATE
from pipeline.planning.manifest import Quality
from pipeline.records import LoudnessRecord

AAC_BITRATE = "384k"


class MediaError(RuntimeError):
    """An ffmpeg/ffprobe call failed."""


def require_tools() -> None:
    missing = [t for t in ("ffmpeg", "ffprobe") if shutil.which(t) is None]
    if missing:
        raise MediaError(f"{' and '.join(missing)} not found on PATH (see README: setup)")


def _run(args: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True)
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()][-3:]
        raise MediaError(f"{what} failed: {' | '.join(tail) or 'exit ' + str(proc.returncode)}")
    return proc


def ffmpeg(*args: str, what: str = "ffmpeg") -> subprocess.CompletedProcess[str]:
    return _run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], what)


# ------------------------------------------------------------------ probing
def probe(path: Path) -> dict[str, Any]:
    proc = _run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        f"ffprobe {path.name}",
    )
    info: dict[str, Any] = json.loads(proc.stdout)
    return info


def count_frames(path: Path) -> int:
    proc = _run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        f"ffprobe frame count of {path.name}",
    )
    return int(proc.stdout.strip().splitlines()[0])


def decode_errors(path: Path) -> str | None:
    """The first error ffmpeg reports while decoding the whole file (a truncated or
    damaged file), or None when it decodes cleanly."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror",
                           "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    if proc.returncode == 0 and not lines:
        return None
    return (lines[0] if lines else f"exit {proc.returncode}").replace(str(path), path.name)


def decoded_md5(path: Path, kind: str) -> str:
    """MD5 of a file's decoded first video (``"v"``) or audio (``"a"``) stream: raw
    frames or PCM, so two encodes compare by what a viewer sees and hears."""
    proc = _run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", str(path),
                 "-map", f"0:{kind}:0", "-f", "md5", "-"], f"decoding {path.name}")
    return proc.stdout.strip().removeprefix("MD5=")


def stream(info: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((s for s in info["streams"] if s["codec_type"] == kind), None)


def moov_before_mdat(path: Path) -> bool:
    """True when the MP4's ``moov`` box precedes ``mdat`` (faststart)."""
    with open(path, "rb") as fh:
        pos = 0
        size_total = path.stat().st_size
        while pos < size_total:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:
                break
            size = int.from_bytes(head[:4], "big")
            kind = head[4:8]
            if size == 1:
                size = int.from_bytes(head[8:16], "big")
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 0:
                break
            pos += size
    return False


# ------------------------------------------------------------------- video
def video_encoder_settings(q: Quality) -> dict[str, str]:
    """Every encoder setting that shapes a rendered frame's bytes.

    The thread count is one of them: x264's frame threads change its motion search, so
    the same frames encoded with 1 or 3 threads decode differently. It is fixed here
    (one thread per encoder; renders already run one job per core) so a render is the
    same on every machine, executor and ``--jobs``: the cache key can then name it.

    Rate control is a constant quantiser (``-qp``): each closed GOP is then encoded
    from its own frames alone, so a segment rendered in chunks that start on keyframes
    decodes to exactly the frames of an unsplit render (CRF carries rate-control state
    from one GOP into the next). For flat vector graphics QP ``q.qp`` looks the same as
    CRF at that value (bench/results/engine-1080p.md). The render cache key includes this.

    The preset is ``veryfast``: about half the encoder time of ``medium`` at the same
    QP, with frames still far past visually lossless, for somewhat more bytes
    (bench/results/encoder-notes.md).
    """
    return {
        "codec": "libx264", "profile": "high", "pix_fmt": "yuv420p", "preset": "veryfast",
        "tune": "animation", "qp": str(q.qp), "keyint": str(q.keyint), "bframes": "2",
        "open_gop": "0", "fps": str(q.fps), "timescale": str(q.fps * 1000),
        "threads": "1",
    }


def x264_args(q: Quality) -> list[str]:
    """H.264 High, yuv420p, CFR, closed GOP, keyframe every fps/2, at most 2 B-frames."""
    s = video_encoder_settings(q)
    return [
        "-c:v", s["codec"], "-profile:v", s["profile"], "-pix_fmt", s["pix_fmt"],
        "-preset", s["preset"], "-qp", s["qp"], "-tune", s["tune"],
        "-g", s["keyint"], "-keyint_min", s["keyint"], "-sc_threshold", "0",
        "-bf", s["bframes"], "-x264-params", f"open-gop={s['open_gop']}",
        "-threads", s["threads"],
        "-r", s["fps"], "-fps_mode", "cfr", "-video_track_timescale", s["timescale"],
    ]


def header_frame_count(path: Path) -> int:
    """Frames of the first video stream as the MP4 index records them (no decoding)."""
    v = stream(probe(path), "video")
    if v is None or "nb_frames" not in v:
        raise MediaError(f"{path.name}: no video stream frame count")
    return int(v["nb_frames"])


class FrameEncoder:
    """One ffmpeg/x264 process fed raw RGBA frames through a pipe.

    ``write`` blocks while the encoder is busy (the pipe and ffmpeg's small input queue
    are the only buffers), so a renderer can never run more than a few frames ahead:
    memory stays flat however long the video. ``keyframes`` are frame numbers (counted
    from this file's first frame) that must start a GOP, besides every ``q.keyint``-th.
    """

    def __init__(self, q: Quality, dst: Path, *, keyframes: Sequence[int] = ()) -> None:
        self.dst = dst
        self.frames = 0
        self._frame_bytes = q.width * q.height * 4
        forced = [f"eq(n,{k})" for k in sorted(set(keyframes)) if k > 0]
        force = ["-force_key_frames", "expr:" + "+".join(forced)] if forced else []
        self._log = open(dst.with_suffix(".ffmpeg.log"), "w+b")  # noqa: SIM115
        self._proc = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
             "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{q.width}x{q.height}",
             "-framerate", str(q.fps), "-i", "pipe:0", "-an", "-vf", "setsar=1",
             *force, *x264_args(q), "-movflags", "+faststart", str(dst)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
        )

    def write(self, rgba: np.ndarray, repeat: int = 1) -> None:
        """Append ``repeat`` copies of one ``uint8 [h, w, 4]`` frame."""
        if rgba.nbytes != self._frame_bytes:
            raise MediaError(f"frame has {rgba.nbytes} bytes, encoder expects "
                             f"{self._frame_bytes}")
        data = np.ascontiguousarray(rgba).data.cast("B")
        assert self._proc.stdin is not None
        try:
            for _ in range(repeat):
                self._proc.stdin.write(data)
        except BrokenPipeError:
            self._proc.wait()
            raise MediaError(f"encoding {self.dst.name} failed: {self._tail()}") from None
        self.frames += repeat

    def close(self) -> int:
        """Finish the file; return the number of frames written."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self._proc.wait()
        tail = self._tail()
        self._log.close()
        self.dst.with_suffix(".ffmpeg.log").unlink(missing_ok=True)
        if code != 0:
            raise MediaError(f"encoding {self.dst.name} failed: {tail or f'exit {code}'}")
        return self.frames

    def abort(self) -> None:
        """Stop the encoder and remove the partial file."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._log.close()
        self.dst.with_suffix(".ffmpeg.log").unlink(missing_ok=True)
        self.dst.unlink(missing_ok=True)

    def _tail(self) -> str:
        self._log.seek(0)
        lines = [ln for ln in self._log.read().decode(errors="replace").splitlines() if ln]
        return " | ".join(lines[-3:])


def concat_copy(parts: Sequence[tuple[Path, int]], fps: int, dst: Path, *,
                faststart: bool = False) -> None:
    """Join same-format MP4s without re-encoding (concat demuxer, ``-c copy``).

    ``parts`` pairs each file with its frame count. Each file's exact duration is given
    to the demuxer: left to itself it offsets every join by a third of a millisecond,
    which adds up over a long lecture.
    """
    listing = write_concat_list(parts, fps, dst.with_suffix(".txt"))
    try:
        ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-an",
               *(["-movflags", "+faststart"] if faststart else []), str(dst),
               what="joining segment videos")
    finally:
        listing.unlink(missing_ok=True)


def write_concat_list(parts: Sequence[tuple[Path, int]], fps: int, listing: Path) -> Path:
    """The concat demuxer's list: each file (quoted) with its exact duration."""
    listing.write_text(
        "".join(f"file {concat_quote(p.resolve())}\nduration {n / fps:.9f}\n" for p, n in parts),
        encoding="utf-8",
    )
    return listing


def concat_quote(path: Path) -> str:
    """A path quoted for the concat demuxer's list: ``'`` becomes ``'\\''``."""
    return "'" + str(path).replace("'", "'\\''") + "'"


def mux(video: Path, audio_wav: Path | None, dst: Path, *, start: float = 0.0,
        duration: float | None = None) -> None:
    """Copy the video stream and encode ``audio_wav`` (or a slice of it) once as AAC-LC."""
    args = ["-i", str(video)]
    if audio_wav is not None:
        trim = ["-ss", f"{start:.6f}"] if start else []
        if duration is not None:
            trim += ["-t", f"{duration:.6f}"]
        args += [*trim, "-i", str(audio_wav), "-map", "0:v:0", "-map", "1:a:0",
                 "-c:a", "aac", "-profile:a", "aac_low", "-aac_coder", "fast", "-b:a", AAC_BITRATE,
                 "-ar", str(SAMPLE_RATE), "-ac", "2"]
    else:
        args += ["-map", "0:v:0", "-an"]
    ffmpeg(*args, "-c:v", "copy", "-movflags", "+faststart", str(dst),
           what=f"muxing {dst.name}")


def aac_args() -> list[str]:
    """AAC-LC 48 kHz stereo at the publishing bitrate (docs/publishing.md).

    Mid/side coding is off: ffmpeg's encoder spends most of its time searching M/S
    decisions at this bitrate, and without them it reaches the full bitrate at a quality
    far past audible for speech (bench/results/encoder-notes.md). The lecture's one AAC
    encode is the floor of its assembly.
    """
    return ["-c:a", "aac", "-profile:a", "aac_low", "-aac_coder", "fast", "-aac_ms", "0",
            "-b:a", AAC_BITRATE, "-ar", str(SAMPLE_RATE), "-ac", "2"]


def stereo_f32le(pcm: np.ndarray, piece: int = 1 << 19) -> Iterator[memoryview]:
    """``pcm`` as interleaved little-endian float32 stereo bytes, ``piece`` samples at a
    time: a ``[n, 1]`` (or dual-mono view) track is widened to two channels one piece at
    a time, so the full stereo track is never made."""
    x = pcm if pcm.ndim == 2 else pcm[:, None]
    if x.shape[1] not in (1, 2):
        raise ValueError(f"PCM must be [n, 1] or [n, 2], got {pcm.shape}")
    for a in range(0, len(x), piece):
        part = x[a: a + piece]
        if part.shape[1] == 1:
            part = np.repeat(part, 2, axis=1)
        yield np.ascontiguousarray(part, dtype="<f4").reshape(-1).data.cast("B")


def mux_pcm(parts: Sequence[tuple[Path, int]], fps: int, pcm: np.ndarray, dst: Path) -> None:
    """One ffmpeg call: ``parts`` joined by stream copy, ``pcm`` encoded once, moov first.

    ``parts`` pairs each same-format MP4 with its frame count (the concat demuxer is
    given each exact duration, see :func:`concat_copy`); ``pcm`` is the 48 kHz float32
    track for the whole result (``[n, 2]``, or ``[n, 1]`` for the same on both channels),
    streamed to ffmpeg's stdin as stereo and encoded as AAC-LC in the same pass that
    writes the file with ``+faststart``.
    """
    listing = write_concat_list(parts, fps, dst.with_name(f".{dst.stem}-parts.txt"))
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-f", "concat", "-safe", "0", "-i", str(listing),
            "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2", "-i", "pipe:0",
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *aac_args(),
            "-movflags", "+faststart", str(dst)]
    try:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=err)
            assert proc.stdin is not None
            try:
                for chunk in stereo_f32le(pcm):
                    proc.stdin.write(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg stopped early: its exit status and stderr say why
            code = proc.wait()
            err.seek(0)
            stderr = err.read().decode(errors="replace")
    finally:
        listing.unlink(missing_ok=True)
    if code != 0:
        tail = [ln for ln in stderr.strip().splitlines() if ln.strip()][-3:]
        raise MediaError(f"muxing {dst.name} failed: {' | '.join(tail) or 'exit ' + str(code)}")


def extract_frame(video: Path, seconds: float, png: Path) -> None:
    ffmpeg("-ss", f"{max(0.0, seconds):.3f}", "-i", str(video), "-frames:v", "1", str(png),
           what=f"extracting a frame of {video.name}")


# ------------------------------------------------------------------- audio
def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Decode any audio file ffmpeg reads into float32 [n, 2] at 48 kHz."""
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
         "-f", "f32le", "-ac", "2", "-ar", str(SAMPLE_RATE), "-"],
        capture_output=True,
    )
    if proc.returncode != 0:
        why = proc.stderr.decode(errors="replace").strip()[-200:]
        raise MediaError(f"decoding {path.name} failed: {why}")
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2), SAMPLE_RATE


def measure_loudness(path: Path) -> LoudnessRecord:
    """Integrated loudness and true peak per ITU-R BS.1770, measured by ffmpeg's ``ebur128``
    (an independent check of the pipeline's own measurement; no gain applied)."""
    proc = _run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        f"loudness of {path.name}",
    )
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not (i and tp):
        raise MediaError(f"ebur128 printed no summary for {path.name}")

    def num(s: str) -> float:
        return float("-inf") if s == "-inf" else float(s)

    return LoudnessRecord(integrated_lufs=num(i.group(1)), true_peak_dbtp=num(tp.group(1)))


# --- slides ---
# Clips for slide decks (pipeline.slides.build). Every function reads one file, writes one.
VP9_CRF = 33  # constant quality; flat vector graphics stay clean well above 30
VP9_CPU_USED = 8  # libvpx "realtime" speed step (bench/results/encoder-notes.md)
OPUS_BITRATE = "128k"
NARRATED_CRF = 18  # only used when a segment clip must be re-encoded


def conform_mp4(src: Path, dst: Path, *, copy_video: bool, copy_audio: bool, q: Quality) -> None:
    """Write ``src`` as H.264 (yuv420p, even size) + AAC-LC MP4 with ``moov`` first.

    Streams that already conform are copied; the others are encoded once. With both
    copied this is a plain faststart remux.
    """
    video = ["-c:v", "copy"] if copy_video else [
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1", *x264_args(q)]
    audio = ["-c:a", "copy"] if copy_audio else [
        "-c:a", "aac", "-profile:a", "aac_low", "-b:a", AAC_BITRATE, "-ar", str(SAMPLE_RATE),
        "-ac", "2"]
    ffmpeg("-i", str(src), "-map", "0:v:0", "-map", "0:a:0?", *video, *audio, "-sn", "-dn",
           "-movflags", "+faststart", str(dst), what=f"conforming {src.name}")


def silent_mp4(src: Path, dst: Path, *, copy_video: bool, q: Quality) -> None:
    """The video stream alone (no audio stream at all), H.264 yuv420p, faststart."""
    video = ["-c:v", "copy"] if copy_video else [
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1", *x264_args(q)]
    ffmpeg("-i", str(src), "-map", "0:v:0", *video, "-an", "-sn", "-dn",
           "-movflags", "+faststart", str(dst), what=f"silent MP4 of {src.name}")


def vp9_webm(src: Path, dst: Path, *, crf: int = VP9_CRF, cpu_used: int = VP9_CPU_USED) -> None:
    """Silent VP9 WebM (constant quality, no audio stream) of ``src``'s video."""
    ffmpeg("-i", str(src), "-map", "0:v:0", "-an", "-sn", "-dn",
           "-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-crf", str(crf), "-b:v", "0",
           "-deadline", "realtime", "-cpu-used", str(cpu_used), "-row-mt", "1",
           "-tile-columns", "2",
           "-f", "webm", str(dst), what=f"VP9 encode of {src.name}")


def add_opus(webm: Path, audio_src: Path, dst: Path) -> None:
    """``webm``'s VP9 stream (copied) with ``audio_src``'s first audio stream as Opus."""
    ffmpeg("-i", str(webm), "-i", str(audio_src), "-map", "0:v:0", "-map", "1:a:0",
           "-c:v", "copy", "-c:a", "libopus", "-b:a", OPUS_BITRATE, "-ar", str(SAMPLE_RATE),
           "-ac", "2", "-f", "webm", str(dst), what=f"Opus narration for {dst.name}")


def palette_gif(src: Path, dst: Path, *, width: int, fps: float) -> None:
    """A small looping GIF with a palette computed from the clip itself."""
    graph = (
        f"fps={fps:g},scale={width}:-2:flags=lanczos,split[a][b];"
        "[a]palettegen=max_colors=128:stats_mode=diff[p];"
        "[b][p]paletteuse=dither=bayer:bayer_scale=4:diff_mode=rectangle"
    )
    ffmpeg("-i", str(src), "-map", "0:v:0", "-an", "-vf", graph, "-loop", "0", "-f", "gif",
           str(dst), what=f"GIF of {src.name}")
