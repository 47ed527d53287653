"""What a render produced: ``output/<lecture>/manifest.json`` as one typed record.

``pipeline.planning.manifest`` holds what exists *before* rendering (the specs); this module
holds what exists *after* it: real paths, measured durations and loudness, and the keys
that say what the outputs were made from. Assembly writes a ``LectureRecord``; slides
(``pipeline.slides.build``), the benchmark and the next render (to decide whether anything
needs redoing) read the same model back. Nothing reads ``manifest.json`` as a dict.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.planning.manifest import SlideOptions

RECORD_FORMAT = 2  # bump when a field changes meaning


class _Record(BaseModel):
    # A silent lecture's loudness is -inf: written as JSON's -Infinity (as Python's json
    # module does), so the record reads back; the default would write null and fail.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


class SentenceRecord(_Record):
    text: str
    start: float  # seconds into the narration
    end: float


class TakeRecord(_Record):
    """A recorded take's level and alignment (``audio.level`` and ``audio.align``)."""

    speech_lufs: float | None = None
    gain_db: float = 0.0
    limited_db: float = 0.0
    true_peak_dbtp: float | None = None
    floor_dbfs: float | None = None
    clipped: bool = False
    clipped_share: float = 0.0
    noisy: bool = False
    trimmed_start: float = 0.0
    words_found: int = 0
    words_expected: int = 0
    approximate: bool = False
    transcript: str | None = None
    # where the captions' words come from: "script" (the TOML's text), "transcript" (a
    # <segment-id>.txt beside the take) or "recogniser" (a draft transcribed offline)
    transcript_source: str = "script"


class TakeRow(_Record):
    """One recorded take as the takes table shows it (``lecture check``, the start of a
    render, its summary): what it is, how loud, how much of its text was found, and
    where its captions' words come from."""

    segment: str
    file: str
    format: str = ""  # e.g. "clip 44.1 kHz mono mp3"
    duration: float = 0.0  # seconds, after trimming
    speech_lufs: float | None = None  # before levelling
    levelled_lufs: float | None = None  # after levelling
    words_found: int = 0
    words_expected: int = 0
    off_script: bool = False
    clipped: bool = False
    noisy: bool = False
    transcript_source: str = "script"  # "script" | "transcript" | "recogniser"
    draft: str | None = None  # the recogniser's draft transcript, to correct and save


class NarrationRecord(_Record):
    source: str  # "clip" | "espeak" | "silence"
    detail: str = ""
    duration: float = Field(ge=0.0)
    path: str | None = None
    cache_key: str | None = None  # content hash of what produced the audio
    sentences: list[SentenceRecord] = Field(default_factory=list)
    take: TakeRecord | None = None  # recorded takes only


class SegmentFiles(_Record):
    segment: str  # the narrated clip, relative to the lecture folder


class SegmentRecord(_Record):
    index: int = Field(ge=1)
    id: str
    chapter: str
    scene: str
    params: dict[str, object] = Field(default_factory=dict)
    start: float  # seconds into the lecture
    start_frame: int = Field(ge=0)
    duration: float
    frames: int = Field(ge=1)
    speech_start: float
    narration: NarrationRecord
    beats: dict[str, float]  # ordered beat name -> planned seconds
    padding: float = 0.0
    cache_key: str  # the silent render's key
    render: str | None = None  # the cached silent render (may be cleared since)
    files: SegmentFiles
    slide: SlideOptions = SlideOptions()
    clip_key: str = ""  # content key of the narrated segment clip (picture + its audio)
    captions_approximate: bool = False  # a take's words could not all be aligned
    captions_draft: bool = False  # captions from the offline recogniser: a draft to correct
    caption_hold: float = 0.0  # seconds held after the speech so the captions can be read
    caption_hold_reason: str = ""  # why (and, when capped, what the cap left out)
    captions_relaxed: bool = False  # the cap left too little time: cues over 17 chars/s

    @property
    def name(self) -> str:
        return f"{self.index:02d}_{self.id}"


class LoudnessRecord(_Record):
    integrated_lufs: float  # of the final PCM track, ITU-R BS.1770 (pyloudnorm)
    true_peak_dbtp: float  # 4x oversampled peak of the final PCM track
    gain_db: float = 0.0  # the one gain applied before the limiter
    limited_ms: float = 0.0  # time the true-peak limiter reduced the gain


class ChapterRecord(_Record):
    start: float
    title: str


class LectureRecord(_Record):
    """The whole rendered lecture."""

    format: int = RECORD_FORMAT
    lecture: str
    title: str
    quality: str
    width: int
    height: int
    fps: int
    frames: int
    duration: float
    seed: int = 0
    language: str = "en"  # BCP-47 of the narration and captions (every voice here is English)
    versions: dict[str, str] = Field(default_factory=dict)
    assembly_key: str = ""  # hash of everything that shapes the outputs (pipeline.assembly.parts)
    loudness: LoudnessRecord | None = None
    captions: int = 0  # number of caption cues
    captions_approximate: list[str] = Field(default_factory=list)  # segment ids
    captions_draft: list[str] = Field(default_factory=list)  # segment ids, recogniser drafts
    takes: list[TakeRow] = Field(default_factory=list)  # the takes table, one row a take
    chapters: list[ChapterRecord] = Field(default_factory=list)
    segments: list[SegmentRecord] = Field(min_length=1)
    created: str = ""  # UTC time the outputs were assembled
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per stage of that run
    rendered: list[str] = Field(default_factory=list)  # segment ids rendered by that run
    cached: list[str] = Field(default_factory=list)  # segment ids taken from the render cache
    clips_made: list[str] = Field(default_factory=list)  # segment clips encoded by that run

    def files(self) -> list[str]:
        """Every output file the record promises, relative to the lecture folder."""
        fixed = ["lecture.mp4", "captions.srt", "captions.vtt", "chapters.txt",
                 "description.txt", "thumbnail.png"]
        return fixed + [s.files.segment for s in self.segments]

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


class RecordError(ValueError):
    """``manifest.json`` is missing, unreadable or not a ``LectureRecord``; one line."""


def read_record(path: Path) -> LectureRecord:
    """Read ``manifest.json``; ``RecordError`` naming the first bad field."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"unreadable ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"unreadable ({exc})") from None
    try:
        return LectureRecord.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise RecordError(f"{where}: {err['msg']}") from None
