"""Alignment that survives the lecturer's wording: takes read from the display text.

A small form of ``bench/bench_takes_align.py``: another voice than the project's (an
espeak-ng variant) reads sentences with numbers and formulas as written on a slide,
some numbers reworded ("a thousand", "point oh two"), with pauses, a lead-in, echo and
room noise, in a real ogg file, through the pipeline's own take path. Every sentence
must start within 250 ms of the voice. (Before readings, onsets and the loose grammar,
the aligner put the second sentence 0.6 s early: it follows a sentence whose numbers
were said otherwise.)
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from audio.align import align_readings, anchor_starts, quiet_stretches
from audio.narration import resolve_narration
from audio.script import mark_time, parse_marks
from audio.textnorm import readings, spoken_words

from helpers.audio import have_espeak, have_ffmpeg, write_audio
from helpers.display_takes import SR, Voice, build_take, human_reading

pytestmark = pytest.mark.skipif(
    not (have_espeak() and have_ffmpeg()), reason="needs espeak-ng and ffmpeg"
)

SENTENCES = [
    "It takes the number of steps, 1000 by default, and the first and last beta, "
    "0.0001 and 0.02.",
    'That is step 259, and at the last <mark name="last"/> step only about 4×10⁻⁵ is left.',
    "Below is the same batch at step 500, where alpha bar is about 0.078.",
]
VOICE = Voice("espeak", "en-us+f3", 175)


@pytest.fixture(scope="module")
def aligned(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    take = build_take(SENTENCES, VOICE, seed=2)
    path = write_audio(tmp_path_factory.mktemp("take") / "take.ogg", take.samples, SR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = resolve_narration(segment_id="take", script=take.script, clip=Path(path),
                              cache_dir=None)
    return take, n


def test_every_sentence_starts_within_250_ms(aligned: tuple) -> None:
    take, n = aligned
    assert n.take is not None and len(n.sentences) == len(SENTENCES)
    assert any("a thousand" in s or "point oh" in s for s in take.said)  # reworded
    starts = np.array([s.start for s in n.sentences]) + n.take.trimmed_start
    errors = starts - np.array(take.sentence_starts)
    assert np.abs(errors).max() <= 0.25, f"sentence start errors {errors.round(3)} s"


def test_bookmark_lands_on_its_word(aligned: tuple) -> None:
    take, n = aligned
    (marker,) = parse_marks(take.script)
    at = mark_time(marker, take.script, n.words, n.sentences)[0] + n.take.trimmed_start
    assert abs(at - take.mark_starts["last"]) <= 0.25


def test_the_recogniser_chooses_the_reading_that_was_said() -> None:
    """ "point oh seven eight" is found as 0.078; the words keep the script's own form."""
    rng = np.random.default_rng(0)
    text = "Alpha bar is about 0.078 here."
    said = human_reading(text, rng, share=1.0)
    assert "point oh seven eight" in said
    take = build_take([said], VOICE, seed=0, human=False)  # the voice says it so
    slots = readings(text)
    a = align_readings(take.samples, slots, sr=SR)
    assert [w.text for w in a.words] == [w.lower() for w in spoken_words(text)]
    starts = [w.start for w in a.words]
    assert starts == sorted(starts)


def test_a_start_in_a_pause_moves_to_the_onset_after_it() -> None:
    """Pure numpy: a tone after silence; a word aligned deep in the silence moves to the
    tone's onset, one aligned just before it (a soft first sound) stays."""
    from audio.align import Alignment
    from audio.sentences import Word

    x = np.zeros(SR * 2, np.float32)
    x[SR : SR + SR // 2] = 0.3 * np.sin(np.arange(SR // 2) * 2 * np.pi * 220 / SR)
    x += np.random.default_rng(0).normal(0, 1e-3, len(x)).astype(np.float32)
    q = quiet_stretches(x, sr=SR)
    assert any(abs(on - 1.0) < 0.02 for on in q.onsets)
    deep = Alignment((Word("a", 0.5, 1.2),), (True,), 1, (0,))
    near = Alignment((Word("a", 0.95, 1.2),), (True,), 1, (0,))
    assert abs(anchor_starts(x, deep, sr=SR).words[0].start - 1.0) < 0.02
    assert anchor_starts(x, near, sr=SR).words[0].start == 0.95


def test_a_late_start_after_a_gap_no_word_reached_moves_to_its_onset() -> None:
    """Pure numpy: two tones with a gap; the second word aligned 0.1 s into its tone
    starts at the tone's onset when the word before ended in the gap, not when that word
    reaches past the onset (the speech there is its own)."""
    from audio.align import Alignment
    from audio.sentences import Word

    x = np.zeros(int(SR * 1.6), np.float32)
    t = np.arange(int(SR * 0.3)) * 2 * np.pi * 220 / SR
    x[int(SR * 0.2) : int(SR * 0.5)] = 0.3 * np.sin(t)
    x[int(SR * 0.8) : int(SR * 1.1)] = 0.3 * np.sin(t)
    x += np.random.default_rng(0).normal(0, 1e-3, len(x)).astype(np.float32)
    late = Alignment((Word("a", 0.2, 0.6), Word("b", 0.9, 1.1)), (True, True), 2, (0, 0))
    reached = Alignment((Word("a", 0.2, 0.85), Word("b", 0.9, 1.1)), (True, True), 2, (0, 0))
    assert abs(anchor_starts(x, late, sr=SR).words[1].start - 0.8) < 0.02
    assert anchor_starts(x, reached, sr=SR).words[1].start == 0.9


@pytest.mark.parametrize(("word", "stop"), [("pat", True), ("sat", False)])
def test_continuous_truth_is_the_word_event_and_its_first_sound(word: str, stop: bool) -> None:
    """A sentence spoken in one piece: the bookmark's word starts at libespeak-ng's word
    event, on the sample scale of the audio; a stop's closure lies between the event and
    the word's first sound (near silent), a fricative sounds at once."""
    from helpers.display_takes import say_whole

    x, [(start, sound)] = say_whole(VOICE, ["Now we", f"{word} down here."])
    a, b = int(start * SR), int(sound * SR)
    assert 0.2 < start < len(x) / SR - 0.3
    assert float(np.abs(x[max(0, a - 480) : a]).max()) > 0.01  # "we" sounds just before
    if stop:
        assert 0.02 < sound - start < 0.2
        assert float(np.sqrt(np.mean(np.square(x[a:b])))) < 10 ** (-45 / 20)
    else:
        assert sound - start < 0.015
