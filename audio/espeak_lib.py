"""One sentence through libespeak-ng, run as a script: ``python espeak_lib.py VOICE WPM``.

Reads the sentence (UTF-8) on stdin; writes one JSON line ``{"rate": 22050, "events":
[[text_position, sample], ...]}`` then the audio as 16-bit little-endian mono PCM.
Word events are espeak-ng's own (``espeakEVENT_WORD``): the 1-based character where a
word starts and the sample where it is spoken. Standard library only, so it starts fast
and never imports the project (:mod:`audio.speech` runs it in a fresh process).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys


class EspeakError(RuntimeError):
    """libespeak-ng is missing or failed."""


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character offset of the word
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    """``espeak_VOICE`` of speak_lib.h (to pick a voice by language, as ``-v`` does)."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1


class _Lib:
    """The loaded library, initialised once; collects audio and word events per call."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as exc:
            raise EspeakError(f"libespeak-ng not found ({exc}); install espeak-ng") from exc
        self.rate = int(self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0))
        if self.rate <= 0:
            raise EspeakError("libespeak-ng failed to initialise (espeak-ng-data missing?)")
        self.chunks: list[bytes] = []
        self.events: list[tuple[int, int]] = []  # (text_position, sample)
        self.samples = 0
        self._cb = _CALLBACK(self._collect)  # kept referenced: the library calls it
        self.lib.espeak_SetSynthCallback(self._cb)
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]

    def _collect(
        self, wav: ctypes._Pointer[ctypes.c_short], n: int, events: ctypes._Pointer[_Event]
    ) -> int:
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_WORD:
                # audio_position is ms since the start of this synthesis call
                self.events.append((ev.text_position, round(ev.audio_position * self.rate / 1000)))
            i += 1
        if n > 0 and wav:
            self.chunks.append(ctypes.string_at(wav, 2 * n))
            self.samples += n
        return 0

    def run(self, text: str, voice: str, wpm: int) -> tuple[bytes, list[tuple[int, int]]]:
        self.chunks, self.events, self.samples = [], [], 0
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            # a language code ("en-gb"), as the espeak-ng program falls back to
            lang, _, variant = voice.partition("+")
            spec = _Voice(None, lang.encode(), None, 0, 0, 0, 0, 0, None)
            if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
                raise EspeakError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(_PARAM_RATE, int(wpm), 0)
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if err != 0:
            raise EspeakError(f"libespeak-ng failed on {text[:40]!r} (error {err})")
        return b"".join(self.chunks), list(self.events)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: espeak_lib.py VOICE WPM < sentence", file=sys.stderr)
        return 2
    try:
        lib = _Lib()
        pcm, events = lib.run(sys.stdin.buffer.read().decode("utf-8"), argv[0], int(argv[1]))
    except EspeakError as exc:
        print(exc, file=sys.stderr)
        return 1
    out = sys.stdout.buffer
    out.write(json.dumps({"rate": lib.rate, "events": events}).encode() + b"\n")
    out.write(pcm)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
