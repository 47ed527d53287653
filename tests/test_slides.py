"""Slides from a rendered lecture: real clips judged by ffprobe, posters by their pixels,
the deck by its HTML, the PPTX by its zip parts (and LibreOffice, when installed)."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import media
from pipeline.planning.manifest import InputError
from pipeline.slides.build import (
    SlideSegment,
    build_slides,
    clip_fix,
    fit_box,
    frame_seek,
    gif_fps,
    main_beat,
    mp4_type,
    poster_frame,
)

from helpers.slides import PATCH, SEGMENTS, level_to_frame, make_lecture

FPS = 10
NAMES = [f"{i:02d}_{s.id}" for i, s in enumerate(SEGMENTS, start=1)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("slides")
    lecture_dir = make_lecture(root, fps=FPS)
    return lecture_dir, build_slides(lecture_dir)


def _frames(seg_index: int) -> int:
    return round(sum(SEGMENTS[seg_index].beats.values()) * FPS)


# ------------------------------------------------------------------ pure rules
def _seg(beats: dict[str, float], poster: str | float | None = None, fps: int = 10) -> SlideSegment:
    frames = round(sum(beats.values()) * fps)
    return SlideSegment(1, "x", "X", fps, frames, tuple(beats.items()), "", False, False, poster,
                        Path("x.mp4"), None)


def test_main_beat_is_longest_first_on_ties() -> None:
    assert main_beat((("a", 1.0), ("b", 2.0), ("c", 2.0))) == "b"
    assert main_beat((("only", 0.1),)) == "only"


def test_poster_frame_rules() -> None:
    beats = {"intro": 0.5, "build": 1.5, "hold": 1.0}
    assert poster_frame(_seg(beats)) == 19  # last frame of "build" (frames 5..19)
    assert poster_frame(_seg(beats, "intro")) == 4
    assert poster_frame(_seg(beats, "hold")) == 29  # clamped to the last frame
    assert poster_frame(_seg(beats, 1.25)) == 12
    assert poster_frame(_seg(beats, 3.0)) == 29
    assert poster_frame(_seg(beats, 0)) == 0
    with pytest.raises(ValueError, match="no beat named 'nope'"):
        poster_frame(_seg(beats, "nope"))
    with pytest.raises(ValueError, match="outside the segment"):
        poster_frame(_seg(beats, 3.5))
    # 60 fps: beats that are not whole tenths still land on the frame grid
    assert poster_frame(_seg({"a": 1 / 3, "b": 0.5}, fps=60)) == 49


def test_frame_seek_lands_inside_the_frame_before() -> None:
    assert frame_seek(0, 30) == 0.0
    assert 28 / 30 < frame_seek(29, 30) < 29 / 30


def test_gif_fps_even_steps() -> None:
    assert [gif_fps(f) for f in (60, 30, 24, 25, 15, 10)] == [12, 10, 12, 12, 12, 10]


def test_mp4_type_and_clip_fix() -> None:
    info = {"streams": [
        {"codec_type": "video", "codec_name": "h264", "profile": "High", "level": 40,
         "pix_fmt": "yuv420p", "width": 1920, "height": 1080},
        {"codec_type": "audio", "codec_name": "aac"},
    ]}
    assert mp4_type(info) == 'video/mp4; codecs="avc1.640028, mp4a.40.2"'
    assert clip_fix(info, True).untouched
    odd = {"streams": [{**info["streams"][0], "pix_fmt": "yuv444p"},
                       {"codec_type": "audio", "codec_name": "mp3"}]}
    fix = clip_fix(odd, False)
    assert (fix.copy_video, fix.copy_audio, fix.faststart) == (False, False, False)
    assert mp4_type({"streams": [{"codec_type": "video", "profile": "High 4:4:4 Predictive",
                                  "level": 30}]}) == "video/mp4"


def test_fit_box_keeps_aspect() -> None:
    assert fit_box(1600, 700, 16 / 9) == (178, 0, 1244, 700)
    assert fit_box(1600, 1000, 16 / 9) == (0, 50, 1600, 900)


# ------------------------------------------------------------------ outputs
def test_folder_holds_exactly_the_slide_files(built: tuple[Path, Path]) -> None:
    lecture_dir, slides = built
    expected = {"index.html", "lecture.pptx"}
    for name, seg in zip(NAMES, SEGMENTS, strict=True):
        expected |= {f"{name}.mp4", f"{name}.webm", f"{name}-loop.mp4", f"{name}-loop.webm",
                     f"{name}.png"}
        if seg.slide["gif"]:
            expected.add(f"{name}.gif")
    assert {p.name for p in slides.iterdir()} == expected
    assert not [p for p in lecture_dir.iterdir() if p.name.startswith(".slides")]


def test_narrated_clips_are_h264_aac_yuv420p_faststart(built: tuple[Path, Path]) -> None:
    lecture_dir, slides = built
    for i, name in enumerate(NAMES):
        path = slides / f"{name}.mp4"
        info = media.probe(path)
        v, a = media.stream(info, "video"), media.stream(info, "audio")
        assert v and v["codec_name"] == "h264" and v["pix_fmt"] == "yuv420p", name
        assert a and a["codec_name"] == "aac" and a["profile"] == "LC", name
        assert v["width"] % 2 == 0 and v["height"] % 2 == 0
        assert media.moov_before_mdat(path), name
        assert media.count_frames(path) == _frames(i)
    src = lecture_dir / "segments"
    # a clip that already qualifies is copied, not re-encoded
    assert filecmp.cmp(src / f"{NAMES[0]}.mp4", slides / f"{NAMES[0]}.mp4", shallow=False)
    # the other two really were different before
    assert not media.moov_before_mdat(src / f"{NAMES[1]}.mp4")
    assert media.stream(media.probe(src / f"{NAMES[2]}.mp4"), "video")["pix_fmt"] == "yuv444p"


def test_loop_clips_have_no_audio_stream(built: tuple[Path, Path]) -> None:
    _, slides = built
    for i, name in enumerate(NAMES):
        for ext, codec in (("mp4", "h264"), ("webm", "vp9")):
            path = slides / f"{name}-loop.{ext}"
            info = media.probe(path)
            assert [s["codec_type"] for s in info["streams"]] == ["video"], path.name
            assert info["streams"][0]["codec_name"] == codec
            assert info["streams"][0]["pix_fmt"] == "yuv420p"
            assert media.count_frames(path) == _frames(i), path.name
        assert media.moov_before_mdat(slides / f"{name}-loop.mp4")


def test_narrated_webm_is_vp9_with_opus(built: tuple[Path, Path]) -> None:
    _, slides = built
    for i, name in enumerate(NAMES):
        info = media.probe(slides / f"{name}.webm")
        kinds = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
        assert kinds == {"video": "vp9", "audio": "opus"}
        assert abs(float(info["format"]["duration"]) - _frames(i) / FPS) < 0.1
        # the tone survives: narrated WebM audio is not silent
        samples, _ = media.read_wav(slides / f"{name}.webm")
        assert np.sqrt(np.mean(samples**2)) > 0.05


def test_posters_show_the_chosen_frame(built: tuple[Path, Path]) -> None:
    _, slides = built
    x, y, w, h = PATCH
    for name, seg in zip(NAMES, SEGMENTS, strict=True):
        img = np.asarray(Image.open(slides / f"{name}.png").convert("RGB"), dtype=float)
        assert img.shape == (108, 192, 3)
        patch = img[y + 8 : y + h - 8, x + 8 : x + w - 8]
        assert patch.std() < 4, "the patch is flat grey"
        assert level_to_frame(patch.mean()) == seg.expected_poster, name
        assert img.std() > 30, "the rest of the frame is the test pattern, not blank"


def test_gif_is_small_palette_and_only_where_asked(built: tuple[Path, Path]) -> None:
    _, slides = built
    gifs = sorted(p.name for p in slides.glob("*.gif"))
    assert gifs == [f"{n}.gif" for n, s in zip(NAMES, SEGMENTS, strict=True) if s.slide["gif"]]
    path = slides / gifs[0]
    with Image.open(path) as im:
        assert im.format == "GIF" and im.mode == "P"
        assert im.width <= 480
        assert im.n_frames == _frames(2)  # 10 fps source: every frame kept
        assert im.info.get("loop") == 0
        assert len(im.getcolors(256) or []) > 8  # a real palette, not a flat image


class _Deck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.slides: list[dict] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self.slides.append({"attrs": a, "sources": [], "video": None})
        elif tag == "video":
            self.slides[-1]["video"] = a
        elif tag == "source":
            self.slides[-1]["sources"].append(a)


def test_index_html_is_offline_and_escaped(built: tuple[Path, Path]) -> None:
    _, slides = built
    text = (slides / "index.html").read_text(encoding="utf-8")
    deck = _Deck()
    deck.feed(text)
    assert len(deck.slides) == len(SEGMENTS)
    for slide, seg in zip(deck.slides, SEGMENTS, strict=True):
        video, sources = slide["video"], slide["sources"]
        assert [Path(s["src"]).suffix for s in sources] == [".webm", ".mp4"]
        for ref in [video["poster"], *(s["src"] for s in sources)]:
            assert "/" not in ref and (slides / ref).is_file(), ref
        if seg.slide["loop"]:
            assert {"autoplay", "muted", "loop", "playsinline"} <= set(video)
            assert all("-loop." in s["src"] for s in sources)
        else:
            assert "autoplay" not in video and "muted" not in video
            assert not any("-loop." in s["src"] for s in sources)
    # nothing reaches the network; scripts and styles are inline
    for tag, attrs in deck.tags:
        for key in ("src", "href", "poster"):
            value = attrs.get(key) or ""
            assert not re.match(r"^[a-z]+://|^//", value), (tag, value)
        if tag == "script":
            assert "src" not in attrs
    # text is escaped: the chapter's tags and the notes' script stay text
    assert "<b>&</b>" not in text and "Noise &lt;b&gt;&amp;&lt;/b&gt;" in text
    assert text.lower().count("<script") == 1 and "alert(&quot;x&quot;)" in text
    assert "<title>Diffusion &lt;demo&gt; &amp; friends</title>" in text


def test_pptx_one_movie_and_notes_per_slide(built: tuple[Path, Path]) -> None:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    _, slides = built
    pptx = slides / "lecture.pptx"
    with zipfile.ZipFile(pptx) as z:
        movies = sorted(n for n in z.namelist() if re.fullmatch(r"ppt/media/[^/]+\.mp4", n))
        assert len(movies) == len(SEGMENTS)
        embedded = sorted(z.read(n) for n in movies)
    assert embedded == sorted((slides / f"{n}.mp4").read_bytes() for n in NAMES)
    prs = Presentation(str(pptx))
    assert (prs.slide_width, prs.slide_height) == (12_192_000, 6_858_000)  # 16:9 widescreen
    assert len(prs.slides) == len(SEGMENTS)
    for slide, seg in zip(prs.slides, SEGMENTS, strict=True):
        assert slide.shapes.title.text == seg.chapter
        assert slide.notes_slide.notes_text_frame.text == " ".join(seg.sentences)
        movie = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.MEDIA]
        assert len(movie) == 1
        box = movie[0]
        assert abs(box.width / box.height - 192 / 108) < 0.01
        assert box.left + box.width <= prs.slide_width and box.top + box.height <= prs.slide_height


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) not installed")
def test_pptx_converts_to_one_pdf_page_per_slide(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, slides = built
    profile = tmp_path / "lo-profile"
    proc = subprocess.run(
        [_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(slides / "lecture.pptx")],
        capture_output=True, text=True, timeout=120,
    )
    pdf = tmp_path / "lecture.pdf"
    assert pdf.is_file(), proc.stderr or proc.stdout
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    else:
        pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
    assert pages == len(SEGMENTS)


# ------------------------------------------------------------------ bad input
def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text
    return text


def test_missing_manifest_is_one_line_input_error(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    with pytest.raises(InputError) as err:
        build_slides(tmp_path / "demo")
    msg = _one_line(err.value)
    assert "demo: no rendered lecture (manifest.json missing); run render first" in msg
    assert not (tmp_path / "demo" / "slides").exists()


def _copy_lecture(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("slides"))
    return dst


def test_missing_clip_and_unknown_poster_beat(built: tuple[Path, Path], tmp_path: Path) -> None:
    lecture_dir, _ = built
    work = _copy_lecture(lecture_dir, tmp_path / "demo")
    (work / "segments" / f"{NAMES[1]}.mp4").unlink()
    with pytest.raises(InputError, match=rf"segments/{NAMES[1]}\.mp4 missing") as err:
        build_slides(work)
    _one_line(err.value)

    work2 = _copy_lecture(lecture_dir, tmp_path / "demo2")
    data = json.loads((work2 / "manifest.json").read_text())
    data["segments"][0]["slide"]["poster"] = "nope"
    (work2 / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"segments \(intro\): slide.poster: no beat named 'nope'"):
        build_slides(work2)
    assert not (work2 / "slides").exists()


def test_failed_build_keeps_the_previous_slides(built: tuple[Path, Path], tmp_path: Path) -> None:
    lecture_dir, slides = built
    work = tmp_path / "demo"
    shutil.copytree(lecture_dir, work)
    before = {p.name: p.read_bytes() for p in (work / "slides").iterdir()}
    (work / "segments" / f"{NAMES[2]}.mp4").write_bytes(b"not a video")  # fails mid-way
    with pytest.raises(media.MediaError):
        build_slides(work)
    assert {p.name: p.read_bytes() for p in (work / "slides").iterdir()} == before
    assert sorted(p.name for p in work.iterdir()) == ["manifest.json", "segments", "slides"]


def test_cli_slides_command(built: tuple[Path, Path], tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """``lecture slides`` builds from the rendered folder, renders nothing."""
    from pipeline.cli import main

    lecture_dir, _ = built
    toml = tmp_path / "demo.toml"
    toml.write_text(
        'id = "demo"\ntitle = "Demo"\n[[segments]]\nid = "intro"\nchapter = "Intro"\n'
        'scene = "TitleCard"\nnarration = "Hello."\n', encoding="utf-8")
    out = tmp_path / "output"
    assert main(["slides", str(toml), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "manifest.json missing" in err
    _copy_lecture(lecture_dir, out / "demo")
    assert main(["slides", "--lecture", str(toml), "--out", str(out)]) == 0
    assert "slides written to" in capsys.readouterr().err
    assert len(list((out / "demo" / "slides").glob("*-loop.webm"))) == len(SEGMENTS)
