"""The offline deck in headless Chromium, loaded from file:// with no network."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.slides.build import build_slides

from helpers.slides import PATCH, SEGMENTS, level_to_frame, make_lecture

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parent / ".artifacts"
W, H = 192, 108

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Session:
    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _benign(url: str, failure: str | None) -> bool:
    """Chromium's media loader cancels its own range requests (preload changes, enough
    buffered): ERR_ABORTED on a clip is routine. Anything else is a real failure."""
    return failure == "net::ERR_ABORTED" and url.endswith((".webm", ".mp4"))


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    lecture_dir = make_lecture(tmp_path_factory.mktemp("deck"), width=W, height=H, fps=10)
    slides = build_slides(lecture_dir)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser, (slides / "index.html").as_uri()
        browser.close()


@pytest.fixture
def session(deck: tuple[Any, str]) -> Iterator[Session]:
    """A fresh page per test; its console errors and failed requests fail the test."""
    browser, url = deck
    page = browser.new_page(viewport={"width": 960, "height": 540})
    s = Session(page, url)
    page.on("console", lambda m: s.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: s.errors.append(str(e)))
    page.on("requestfailed", lambda r: None if _benign(r.url, r.failure) else s.failed.append(
        f"{r.url} {r.failure}"))
    page.on("request", lambda r: s.requests.append(r.url))
    yield s
    errors, failed = list(s.errors), list(s.failed)
    page.close()
    assert not errors, errors
    assert not failed, failed


def _open(s: Session, slide: int = 1) -> None:
    s.page.goto(f"{s.url}#{slide}")
    s.page.wait_for_function("document.querySelector('section.slide:not([hidden])') !== null")


def _active_video(s: Session, prop: str) -> Any:
    return s.page.evaluate(
        f"document.querySelector('section.slide:not([hidden]) video').{prop}"
    )


def test_every_slide_plays_and_arrows_move(session: Session) -> None:
    page = session.page
    _open(session)
    n = len(SEGMENTS)
    for i, seg in enumerate(SEGMENTS, start=1):
        assert page.locator(f"#slide-{i}").is_visible()
        assert page.locator("#counter").inner_text() == f"{i} / {n}"
        assert page.evaluate("location.hash") == f"#{i}"
        if not seg.slide["loop"]:
            assert _active_video(session, "paused") is True  # narrated: waits for the speaker
            page.keyboard.press("p" if i % 2 else "Enter")
        page.wait_for_function(
            "(() => { const v = document.querySelector('section.slide:not([hidden]) video');"
            " return v.readyState >= 2 && v.currentTime > 0.3; })()",
            timeout=15_000,
        )
        src = _active_video(session, "currentSrc")
        # WebM is listed first, so it is what plays even without H.264.
        assert src.endswith(".webm") and ("-loop." in src) == seg.slide["loop"], src
        muted = _active_video(session, "muted")
        audio_bytes = _active_video(session, "webkitAudioDecodedByteCount")
        if seg.slide["loop"]:
            assert muted and _active_video(session, "loop")
            assert audio_bytes == 0
        else:
            assert not muted and audio_bytes > 0
            assert page.locator(f"#slide-{i} .stage").get_attribute("class") == "stage playing"
        page.keyboard.press("ArrowRight")
        if i < n:  # the slide left behind is hidden and silent
            assert page.locator(f"#slide-{i}").is_hidden()
            assert page.evaluate(f"document.querySelector('#slide-{i} video').paused")
    assert page.locator("#counter").inner_text() == f"{n} / {n}"  # stops at the last
    page.keyboard.press("ArrowLeft")
    assert page.locator("#counter").inner_text() == f"{n - 1} / {n}"
    assert page.locator(f"#slide-{n}").is_hidden()
    page.keyboard.press("PageUp")
    assert page.locator("#counter").inner_text() == f"{n - 2} / {n}"
    page.keyboard.press(" ")
    page.keyboard.press("PageDown")
    assert page.locator("#counter").inner_text() == f"{n} / {n}"
    # every request stayed on disk
    assert session.requests and all(u.startswith(("file:", "data:")) for u in session.requests)


def test_deep_link_shows_only_that_slide(session: Session) -> None:
    page = session.page
    _open(session, 3)
    assert page.locator("section.slide:visible").count() == 1
    assert page.locator("#slide-3").is_visible()
    assert page.locator("#counter").inner_text() == f"3 / {len(SEGMENTS)}"
    page.keyboard.press("Home")
    assert page.locator("section.slide:visible").count() == 1
    assert page.locator("#slide-1").is_visible()


def test_notes_key_shows_the_script(session: Session) -> None:
    page = session.page
    _open(session)
    notes = page.locator("#slide-1 .notes")
    assert notes.is_hidden()
    page.keyboard.press("n")
    assert notes.is_visible()
    assert notes.inner_text().endswith(" ".join(SEGMENTS[0].sentences))
    page.keyboard.press("ArrowRight")
    assert page.locator("#slide-2 .notes").is_visible()  # stays on while moving
    assert 'alert("x")' in page.locator("#slide-2 .notes").inner_text()  # text, not script
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "deck-notes.png"))
    page.keyboard.press("N")
    assert page.locator("#slide-2 .notes").is_hidden()


def _picture(png: Path, box: dict[str, float]) -> np.ndarray:
    """The video's picture inside its element box (object-fit: contain letterboxes it)."""
    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert img.std() > 15, "screenshot is blank"
    scale = min(box["width"] / W, box["height"] / H)
    x0 = round(box["x"] + (box["width"] - W * scale) / 2)
    y0 = round(box["y"] + (box["height"] - H * scale) / 2)
    area = img[y0 : y0 + round(H * scale), x0 : x0 + round(W * scale)]
    assert area.size and area.std() > 30, "video area is uniform"
    colours = np.unique(area.reshape(-1, 3).astype(np.uint8), axis=0)
    assert len(colours) > 100, "video area shows no picture"
    return area


def _patch_frame(area: np.ndarray) -> int:
    """Which frame the picture shows, read from the fixture's grey frame-number patch."""
    scale = area.shape[1] / W
    x, y, w, h = PATCH
    cx, cy, r = (x + w / 2) * scale, (y + h / 2) * scale, w / 4 * scale
    patch = area[round(cy - r) : round(cy + r), round(cx - r) : round(cx + r)]
    assert patch.std() < 6, "patch not found where expected"
    return level_to_frame(patch.mean())


def test_screenshot_shows_poster_and_playing_loop(session: Session) -> None:
    page = session.page
    ARTIFACTS.mkdir(exist_ok=True)
    _open(session, 1)
    # the poster image decoded, then one frame painted
    page.evaluate(
        """() => new Promise((done) => {
             const img = new Image();
             img.onload = () => requestAnimationFrame(() => requestAnimationFrame(done));
             img.src = document.querySelector('#slide-1 video').poster;
           })"""
    )
    assert _active_video(session, "currentTime") == 0  # nothing played: this is the poster
    shot = ARTIFACTS / "deck-slide1.png"
    page.screenshot(path=str(shot))
    area = _picture(shot, page.locator("#slide-1 video").bounding_box())
    assert _patch_frame(area) == SEGMENTS[0].expected_poster

    page.keyboard.press("End")  # the looping slide, playing muted on its own
    assert page.evaluate("location.hash") == "#3"
    page.wait_for_function("document.querySelector('#slide-3 video').currentTime > 0.5")
    shot = ARTIFACTS / "deck-slide3-loop.png"
    page.keyboard.press("p")  # "p" pauses a loop too
    page.wait_for_function("document.querySelector('#slide-3 video').paused")
    # Seek into frame 10 and wait until that frame is on screen.
    page.evaluate(
        """() => new Promise((done) => {
             const v = document.querySelector('#slide-3 video');
             v.requestVideoFrameCallback(() => requestAnimationFrame(() => done()));
             v.currentTime = 1.05;
           })"""
    )
    page.screenshot(path=str(shot))
    area = _picture(shot, page.locator("#slide-3 video").bounding_box())
    assert _patch_frame(area) == 10
