"""Lecture manifests: the shipped ones validate, bad ones fail naming file and field;
ids are found in ./config then among the shipped lectures, and paths inside a manifest
are relative to its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import paths
from pipeline.planning.manifest import (
    InputError,
    available_lectures,
    lecture_files,
    lecture_path,
    load_lecture,
)

GOOD = '''
id = "tiny"
title = "Tiny"
[[segments]]
id = "one"
chapter = "One"
scene = "TitleCard"
narration = "Hello there. This is a test."
'''


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lecture.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_lectures_validate() -> None:
    ids = available_lectures()
    assert {"forward-diffusion", "diffusion-overview"} <= set(ids)
    fwd = load_lecture("forward-diffusion")
    assert [s.id for s in fwd.segments] == [
        "01_00_intro", "01_02_why_matter_intuition", "01_03_setup_packages_data",
        "01_04_visualize_clean_image", "01_05_math_step_by_step_equation",
        "01_07_noise_schedule_implementation", "01_08_noise_schedule_visualization",
        "01_09_step_by_step_intro_func", "01_10_step_by_step_visualization",
        "01_11_closed_form_intro_func", "01_12_closed_form_visualization", "01_13_todo1_intro",
        "01_14_todo1_implementation", "01_15_todo1_verification", "01_16_todo2_intro",
        "01_17_todo2_implementation", "01_18_putting_it_together_class",
        "01_19_batch_visualization", "01_20_statistical_verification",
        "01_21_final_output_visualization", "01_22_closing",
    ]
    assert all(s.narration.strip() for s in fwd.segments)


def test_minimal_manifest_loads(tmp_path: Path) -> None:
    spec = load_lecture(write(tmp_path, GOOD))
    assert spec.id == "tiny" and spec.quality == "1080p" and spec.segments[0].scene == "TitleCard"


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (('scene = "TitleCard"', 'scene = "NoSuchScene"'), "segments[0] (one).scene",
         "unknown scene 'NoSuchScene'"),
        (('id = "tiny"', 'id = "tiny"\nseed = -1'), "seed", "greater than or equal to 0"),
        (('id = "tiny"', 'id = "tiny"\nlead_in = 99'), "lead_in", "less than or equal to 5"),
        (('id = "tiny"', 'id = "tiny"\nquality = "8k"'), "quality", "'preview'"),
        (('narration = "Hello there. This is a test."',
          'narration = "Hi."\ncues = [0.0, 2.0, 1.0]'), "segments[0] (one).cues", "ascending"),
        (('id = "tiny"', 'id = "tiny"\ncolour = "red"'), "colour", "Extra inputs"),
    ],
)
def test_bad_fields_name_file_and_field(tmp_path: Path, edit, field, message) -> None:
    path = write(tmp_path, GOOD.replace(*edit, 1))
    with pytest.raises(InputError) as info:
        load_lecture(path)
    text = str(info.value)
    assert text.startswith(str(path)) and field in text and message in text
    assert "\n" not in text


def test_invalid_toml_and_unknown_lecture(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="invalid TOML"):
        load_lecture(write(tmp_path, "id = [unclosed"))
    with pytest.raises(InputError, match=r"unknown lecture 'nope' \(looked in .*\); "
                       r"available: .*forward-diffusion"):
        load_lecture("nope")


def test_ids_found_in_cwd_config_first_then_shipped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = available_lectures()  # no ./config here: the shipped ones only
    assert {"forward-diffusion", "diffusion-overview"} <= set(shipped)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "mine.toml").write_text(GOOD.replace('"tiny"', '"mine"'))
    # an id in ./config shadows the shipped lecture of that id
    (tmp_path / "config" / "forward-diffusion.toml").write_text(
        GOOD.replace('title = "Tiny"', 'title = "Local"'))
    assert available_lectures() == ["forward-diffusion", "mine"] + [
        i for i in shipped if i != "forward-diffusion"]
    assert lecture_files()["forward-diffusion"] == tmp_path / "config" / "forward-diffusion.toml"
    assert load_lecture("forward-diffusion").title == "Local"
    assert load_lecture("diffusion-overview").source == lecture_path("diffusion-overview")
    assert lecture_path("diffusion-overview").parent == paths.shipped_lectures()


def test_unknown_lecture_is_one_line_naming_where_it_looked(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("nope", "../escape"):
        with pytest.raises(InputError) as info:
            load_lecture(name)
        text = str(info.value)
        assert "\n" not in text and f"unknown lecture {name!r}" in text
        assert str(tmp_path / "config") in text and str(paths.shipped_lectures()) in text


def test_clip_paths_are_relative_to_the_manifest(tmp_path: Path, monkeypatch) -> None:
    import numpy as np

    from audio.clips import decode_clip, write_wav

    lec = tmp_path / "lecture"
    (lec / "takes").mkdir(parents=True)
    write_wav(lec / "takes" / "a.wav", np.full((4800, 2), 0.1, dtype=np.float32))
    toml = write(lec, GOOD.replace('narration = "Hello there. This is a test."',
                                   'narration = "Hello there."\nclip = "takes/a.wav"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in (toml, "../lecture/lecture.toml"):  # absolute, and relative to the cwd
        spec = load_lecture(name)
        assert spec.source == toml
        assert spec.segments[0].clip == lec / "takes" / "a.wav"
        assert decode_clip(spec.segments[0].clip).samples.shape[0] == 4800
        assert spec.resolve_path("scenes/x.py") == lec / "scenes" / "x.py"
    # the source travels with copies; a spec built in code resolves against the cwd
    assert spec.model_copy(update={"title": "T"}).source == toml
    built = type(spec).model_validate(spec.model_dump())
    assert built.source is None and built.resolve_path("x") == elsewhere / "x"


def test_duplicate_segment_ids(tmp_path: Path) -> None:
    seg = GOOD[GOOD.index("[[segments]]"):]
    with pytest.raises(InputError, match="duplicate segment id 'one'"):
        load_lecture(write(tmp_path, GOOD + seg))
