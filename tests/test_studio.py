"""``lecture studio`` end to end: a real studio process on a tiny lecture, driven by
headless Chromium (as the deck tests are) and by plain HTTP requests.

Screenshots of the page at each state go to ``tests/.artifacts/studio/``
(``STUDIO_SHOTS=results``: to ``bench/results/studio/``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.lock import FolderLock, try_exclusive
from pipeline.planning.manifest import load_lecture
from pipeline.publish import lock_of, store_of
from pipeline.studio.guard import Guard, confined
from pipeline.studio.sources import lecture_sources

from helpers.studio import ROOT, TOML, Studio, idle_after, rewrite

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--autoplay-policy=no-user-gesture-required"]
# Screenshots: tests/.artifacts/studio/, or bench/results/studio/ (kept in the repository)
# with STUDIO_SHOTS=results, so an ordinary run leaves the tree as it was.
SHOTS = ROOT / "bench" / "results" / "studio" if os.environ.get("STUDIO_SHOTS") == "results" \
    else Path(__file__).resolve().parent / ".artifacts" / "studio"
LECTURE = "studio-test"


def _lecture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "takes").mkdir(exist_ok=True)
    toml = folder / "lecture.toml"
    toml.write_text(TOML, encoding="utf-8")
    return toml


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    folder = tmp_path_factory.mktemp("studio")
    s = Studio(folder, _lecture(folder), name="lecture.toml")  # messages name it so
    s.wait(lambda st: st["preview"] is not None and st["waveform"] is not None)
    yield s
    assert s.stop() == 130  # Ctrl-C (the last test may have sent it already)
    assert not list(store_of(s.out / ".studio", LECTURE).glob(".staging-*"))


# ---------------------------------------------------------------- who gets in
def test_guard_refuses_strangers_and_traversal(studio: Studio) -> None:
    version = studio.state()["preview"]["version"]
    media = f"/media/{version}/lecture.mp4"
    assert studio.request("GET", media)[0] == 200
    assert studio.request("GET", media, token=False)[0] == 403
    assert studio.request("GET", "/api/state", token=False)[0] == 403
    assert studio.request("GET", "/", headers={"Host": f"evil.example:{studio.port}"})[0] == 403
    assert studio.request("GET", "/api/state",
                          headers={"Origin": "http://evil.example"})[0] == 403
    # a change needs this page's Origin, and a foreign one is refused
    assert studio.request("POST", "/api/run/check")[0] == 403
    assert studio.request("POST", "/api/run/check",
                          headers={"Origin": "http://evil.example"})[0] == 403
    for path in (f"/media/{version}/../../lecture.toml", "/assets/../session.py",
                 f"/media/{version}/%2e%2e/%2e%2e/lecture.toml", "/media/../.cache/x"):
        status, _ = studio.request("GET", path)
        assert status == 400, path
    assert studio.request("GET", f"/media/{version}/nothing.mp4")[0] == 404
    assert studio.request("GET", "/media/v999999/lecture.mp4")[0] == 404
    # the cookie the page gets from the URL is the token
    status, _ = studio.request("GET", "/api/state", token=False,
                               headers={"Cookie": f"lecture_studio_token={studio.token}"})
    assert status == 200


def test_confined_and_guard_rules(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    (tmp_path / "secret").write_text("s")
    (tmp_path / "a" / "link").symlink_to(tmp_path / "secret")
    assert confined(tmp_path / "a", "f.txt") == (tmp_path / "a" / "f.txt").resolve()
    for bad in ("../secret", "link", "", "/etc/passwd", "./f.txt", "x\\..\\secret", "f.txt/"):
        assert confined(tmp_path / "a", bad) is None, bad
    g = Guard(8000, token="t0k")
    ok = {"Host": "127.0.0.1:8000"}
    assert g.check("GET", "token=t0k", ok) is None
    assert g.check("GET", "token=t0k", {"Host": "localhost:8000"}) is None
    assert g.check("GET", "token=nope", ok) is not None
    assert g.check("GET", "token=t0k", {"Host": "127.0.0.1:8001"}) is not None
    assert g.check("POST", "token=t0k", {**ok, "Origin": "http://127.0.0.1:8000"}) is None


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    toml = _lecture(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline", "studio", str(toml), "--no-browser",
             "--port", str(port), "--out", str(tmp_path / "out")],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
            timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"error: --port {port}: 127.0.0.1:{port} is already in use; give "
                     "another port, or leave --port out for a free one"], proc.stderr


# ---------------------------------------------------------------- the page
if CHROMIUM.exists():
    sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A page of the studio; its console errors fail the test."""

    def __init__(self, browser: Any, studio: Studio) -> None:
        # Playwright's waits evaluate strings, which the page's CSP forbids to itself.
        self.page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(studio.url)
        self.playable()

    def playable(self, other_than: str | None = None) -> str:
        self.page.wait_for_function(
            "v => window.studio && studio.playable && studio.playable.version !== v",
            arg=other_than, timeout=120_000)
        version: str = self.page.evaluate("studio.playable.version")
        return version

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_function("(v => !v.seeking && v.readyState >= 3)"
                                    "(document.getElementById('video'))")
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                           "requestAnimationFrame(() => r())))")
        self.page.screenshot(path=str(SHOTS / name))

    def close(self) -> None:
        errors = list(self.errors)
        self.page.close()
        assert not errors, errors


@pytest.mark.browser
def test_page_loads_and_plays(studio: Studio, browser: Any) -> None:
    p = Page(browser, studio)
    page = p.page
    assert page.locator("#segments tbody tr").count() == 2
    assert page.locator("#error").is_hidden()
    page.evaluate("document.getElementById('video').play()")
    page.wait_for_function("document.getElementById('video').currentTime > 0.6")
    assert page.evaluate("document.getElementById('video').webkitAudioDecodedByteCount") > 0
    page.wait_for_function("document.getElementById('video').textTracks[0].cues.length > 0")
    page.wait_for_function("document.querySelector('.sentence.now') !== null")
    assert page.evaluate("studio.waveform.peaks.length") > 10
    p.shot("playing.png")
    p.close()


@pytest.mark.browser
def test_seek_from_script_beat_and_segment(studio: Studio, browser: Any) -> None:
    p = Page(browser, studio)
    page = p.page
    second = page.locator("#script .sentence").nth(1)
    start = float(second.get_attribute("data-start") or "nan")
    second.click()
    assert abs(page.evaluate("document.getElementById('video').currentTime") - start) < 0.05
    page.wait_for_function("document.querySelectorAll('.sentence')[1].classList.contains('now')")
    # the bookmark sits in the sentence where it was written and seeks to its beat
    chip = page.locator("#script .sentence").nth(1).locator(".mark")
    assert chip.inner_text() == "chapter"
    assert page.locator("#script .sentence").nth(1).inner_text().startswith("The second one")
    beat = page.evaluate("studio.preview.segments[0].beats.find(b => b.name === 'chapter')")
    chip.click()
    assert abs(page.evaluate("document.getElementById('video').currentTime")
               - beat["start"]) < 0.05
    page.locator("#segments tbody tr").nth(1).click()
    seg_b = page.evaluate("studio.preview.segments[1]")
    assert abs(page.evaluate("document.getElementById('video').currentTime")
               - seg_b["start"]) < 0.05
    page.wait_for_function("document.getElementById('script-title').textContent.endsWith('b')")
    assert page.locator("#segments tbody tr.playing").get_attribute("data-id") == "b"
    page.locator("#script .sentence").nth(1).click()  # the title is up by then
    page.wait_for_function("document.querySelectorAll('.sentence')[1].classList.contains('now')")
    p.shot("seeked.png")
    p.close()


@pytest.mark.browser
def test_edit_break_and_fix_the_toml_with_two_pages(studio: Studio, browser: Any) -> None:
    one, two = Page(browser, studio), Page(browser, studio)
    old = one.page.evaluate("studio.version")
    one.page.locator("#segments tbody tr").nth(1).click()  # play segment b
    t0 = time.time()
    rewrite(studio.toml, "Four more words here.", "Five brand new words arrive.")
    new = one.playable(other_than=old)
    assert two.playable(other_than=old) == new
    for p in (one, two):
        p.page.wait_for_function(
            "document.getElementById('script').textContent.includes('Five brand new words')")
    last = studio.state()["last"]
    assert last["ok"] and last["rendered"] == ["b"], last  # only the changed segment
    # the player stayed on the changed segment
    pos = one.page.evaluate("document.getElementById('video').currentTime")
    seg_b = one.page.evaluate("studio.preview.segments[1]")
    assert seg_b["start"] - 0.05 <= pos <= seg_b["start"] + seg_b["duration"]
    one.page.wait_for_function(
        "[...document.getElementById('video').textTracks[0].cues]"
        ".some(c => c.text.includes('Five brand new'))")
    one.page.locator("#script .sentence").nth(1).click()  # the new sentence
    one.shot("edited.png")
    assert time.time() - t0 < 120

    # a broken TOML: the CLI's line in the page, the last preview still plays
    finished = studio.state()["last"]["finished"]
    studio.toml.write_text(studio.toml.read_text() + "\n[[segments]\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "pipeline", "check", "lecture.toml"],
                         cwd=studio.folder, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2
    [line] = [ln for ln in cli.stderr.splitlines() if ln.strip()]
    for p in (one, two):
        p.page.wait_for_function("s => studio.error === s", arg=line, timeout=60_000)
        assert p.page.locator("#error").inner_text() == line
    assert studio.wait(idle_after(studio, finished))["error"] == line
    assert one.page.evaluate("studio.version") == new
    one.page.evaluate("document.getElementById('video').play()")
    one.page.wait_for_function("!document.getElementById('video').paused && "
                               "document.getElementById('video').readyState >= 3")
    one.shot("broken.png")

    # fixed: the error goes, a preview is there again (nothing to render: same inputs)
    finished = studio.state()["last"]["finished"]
    studio.toml.write_text(studio.toml.read_text().replace("\n[[segments]\n", ""),
                           encoding="utf-8")
    studio.wait(idle_after(studio, finished))
    for p in (one, two):
        p.page.wait_for_function("studio.error === null")
        assert p.page.locator("#error").is_hidden()
    assert studio.state()["last"]["rendered"] == []
    one.shot("fixed.png")
    one.close()
    two.close()


def test_state_json_shape(studio: Studio) -> None:
    st = studio.state()
    seg = st["preview"]["segments"][0]
    assert {"id", "chapter", "duration", "source", "cache", "warnings", "sentences",
            "beats"} <= seg.keys()
    assert seg["source"] == "espeak"
    assert json.dumps(st)  # all JSON
    assert set(st["waveform"]["loudness"]) == {"a", "b"}


# ---------------------------------------------------------------- bad input, buttons
def _cli_line(studio: Studio, *args: str) -> str:
    """The one line ``lecture check`` prints for the lecture as it is on disk."""
    cli = subprocess.run([sys.executable, "-m", "pipeline", "check", "lecture.toml", *args],
                         cwd=studio.folder, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2, cli.stderr
    [line] = [ln for ln in cli.stderr.splitlines() if ln.strip()]
    return line


def test_unknown_beat_and_broken_take_show_the_cli_line(studio: Studio) -> None:
    version = studio.state()["preview"]["version"]
    finished = studio.state()["last"]["finished"]
    text = studio.toml.read_text(encoding="utf-8")
    rewrite(studio.toml, "The second one", '<mark name=\\"nope\\"/>The second one')
    line = _cli_line(studio)
    assert "nope" in line
    assert studio.wait(idle_after(studio, finished))["error"] == line
    finished = studio.state()["last"]["finished"]
    studio.toml.write_text(text, encoding="utf-8")
    state = studio.wait(idle_after(studio, finished))
    assert state["error"] is None and state["preview"]["version"] == version

    take = studio.folder / "takes" / "b.wav"
    take.write_bytes(b"RIFF\0\0\0\0WAVEnot audio at all")
    line = _cli_line(studio, "--narration-dir", "takes")
    assert "b.wav" in line
    state = studio.wait(lambda st: st["error"] == line and st["job"] is None)
    assert state["preview"]["version"] == version  # the last good preview stays
    finished = state["last"]["finished"]
    take.unlink()
    state = studio.wait(idle_after(studio, finished))
    assert state["error"] is None and state["last"]["rendered"] == []


@pytest.mark.browser
def test_buttons_check_render_and_slides(studio: Studio, browser: Any) -> None:
    p = Page(browser, studio)
    page = p.page

    def run(button: str, job: str) -> dict[str, Any]:
        before = page.evaluate("studio.lastDone ? studio.lastDone.at : 0")
        page.locator(button).click()
        page.wait_for_function(
            "([t, j]) => studio.lastDone && studio.lastDone.at > t && studio.lastDone.job === j",
            arg=[before, job], timeout=120_000)
        done: dict[str, Any] = page.evaluate("studio.lastDone")
        return done

    done = run("#run-check", "check")
    assert done["ok"], done
    log = page.locator("#log").inner_text()
    assert "inputs are valid" in log and "espeak" in log
    # a CLI render holding the lecture: the full render waits for it; Stop stops it,
    # and once the other run is done a full render runs
    held = FolderLock(lock_of(studio.out, LECTURE)).acquire()
    try:
        page.locator("#run-render").click()
        page.wait_for_function("document.getElementById('status').textContent"
                               ".includes('waiting')", timeout=60_000)
        p.shot("waiting.png")
        before = page.evaluate("studio.lastDone ? studio.lastDone.at : 0")
        page.locator("#stop").click()
        page.wait_for_function("t => studio.lastDone && studio.lastDone.at > t", arg=before)
        assert page.evaluate("studio.lastDone").get("stopped"), page.evaluate("studio.lastDone")
        assert not (studio.out / LECTURE).exists()
        before = page.evaluate("studio.lastDone.at")
        page.locator("#run-render").click()
        page.wait_for_function("document.getElementById('status').textContent"
                               ".includes('waiting')", timeout=60_000)
    finally:
        held.release()
    page.wait_for_function("t => studio.lastDone.at > t && studio.lastDone.job === 'render'",
                           arg=before, timeout=120_000)
    assert page.evaluate("studio.lastDone.ok")
    assert (studio.out / LECTURE / "manifest.json").is_file()
    done = run("#run-slides", "slides")
    assert done["ok"], done
    assert (studio.out / LECTURE / "slides" / "index.html").is_file()
    assert "slides written to" in page.locator("#status").inner_text()
    p.shot("buttons.png")
    p.close()


def test_sources_cover_the_scene_and_its_local_imports(tmp_path: Path) -> None:
    (tmp_path / "takes").mkdir()
    (tmp_path / "helper.py").write_text("SIZE = 2\n")
    (tmp_path / "scenes.py").write_text(
        "from manim import Scene, Square\nfrom helper import SIZE\n\n\n"
        "class Box(Scene):\n    def construct(self):\n        self.add(Square(SIZE))\n")
    toml = tmp_path / "lecture.toml"
    toml.write_text(TOML.replace('scene = "TitleCard"\nparams = { title = "Second" }',
                                 'scene = "scenes.py:Box"'), encoding="utf-8")
    spec = load_lecture(toml)
    src = lecture_sources(toml, spec, tmp_path / "takes")
    assert {toml, tmp_path / "scenes.py", tmp_path / "helper.py"} <= src.files
    assert src.roots == {tmp_path, tmp_path / "takes"}
    assert src.matters(tmp_path / "takes" / "b.wav")
    assert src.matters(tmp_path / "helper.py")
    assert not src.matters(tmp_path / "notes.md")
    assert not src.matters(tmp_path / ".lecture.toml.swp")
    assert not src.matters(tmp_path / "takes" / "b.wav~")


# ---------------------------------------------------------------- stopping mid-render
def test_client_gone_mid_render_and_ctrl_c_mid_render(studio: Studio) -> None:
    """Last in this file: it stops the module's studio."""
    s = studio
    try:
        first = s.wait(lambda st: st["last"] is not None and st["job"] is None
                       and not st["pending"])
        assert first["last"]["ok"], first
        # a page that goes away while a segment renders changes nothing for the build
        finished = first["last"]["finished"]
        sock = _events_until_change(s, "The first sentence is here.", "A first line, changed.")
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        done = s.wait(idle_after(s, finished))["last"]
        assert done["ok"] and done["rendered"] == ["a"], done
        # Ctrl-C (SIGINT to the studio) while the next render runs
        _events_until_change(s, "A first line, changed.", "Another first line.")
        os.kill(s.proc.pid, signal.SIGINT)
        assert s.proc.wait(60) == 130
    finally:
        if s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGKILL)
    preview = s.out / ".studio"
    assert not list(store_of(preview, LECTURE).glob(".staging-*"))
    assert [v.name for v in store_of(preview, LECTURE).glob("v*")] and \
        (preview / LECTURE / "manifest.json").is_file()
    held = try_exclusive(lock_of(preview, LECTURE))
    assert held is not None, "the lecture's lock is still held"
    held.release()
    assert not [p for p in (s.out / ".cache").rglob("*") if "work" in p.parts and p.is_file()]
    assert "interrupted: earlier outputs are untouched" in s.lines[-1]
    # the stopped build published nothing: the preview is the one before it
    published = json.loads((preview / LECTURE / "manifest.json").read_text())
    said = " ".join(x["text"] for x in published["segments"][0]["narration"]["sentences"])
    assert "A first line, changed." in said and "Another" not in said


def _events_until_change(s: Studio, old: str, new: str) -> socket.socket:
    """Listen to the events, make the change, return the stream's socket once a segment
    renders."""
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=90)
    sock.sendall(f"GET /api/events?token={s.token} HTTP/1.0\r\n"
                 f"Host: 127.0.0.1:{s.port}\r\n\r\n".encode())
    stream = sock.makefile("rb")
    assert b" 200 " in stream.readline()
    rewrite(s.toml, old, new)
    end = time.monotonic() + 90
    while time.monotonic() < end:
        line = stream.readline().decode()
        if line.startswith("data:") and '"state": "rendering"' in line:
            stream.close()
            return sock
    raise AssertionError("no render started")


@pytest.mark.slow
def test_own_scene_error_and_fix_from_the_scene_file(tmp_path: Path) -> None:
    """An exception in a lecture's own scene: the line ``lecture render`` prints; the
    scene file fixed (the watcher sees it): a new preview."""
    (tmp_path / "takes").mkdir()
    scene = tmp_path / "boxes.py"  # not scenes.py: python -m in this folder would import it
    scene.write_text("from manim import Scene, Square\n\n\nclass Box(Scene):\n"
                     "    def construct(self):\n        raise RuntimeError('box is broken')\n")
    toml = tmp_path / "lecture.toml"
    toml.write_text(TOML.replace('scene = "TitleCard"\nparams = { title = "Second" }',
                                 'scene = "boxes.py:Box"'), encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "pipeline", "render", str(toml), "--out",
                          str(tmp_path / "cli-out")], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=300)
    assert cli.returncode in (1, 2), cli.stderr
    line = [ln for ln in cli.stderr.splitlines() if ln.startswith(("error:", "failed:"))][-1]
    assert "box is broken" in line
    s = Studio(tmp_path, toml)
    try:
        state = s.wait(lambda st: st["last"] is not None and st["job"] is None, timeout=300)
        assert state["error"] == line and state["preview"] is None
        finished = state["last"]["finished"]
        scene.write_text(scene.read_text().replace(
            "raise RuntimeError('box is broken')", "self.play(Create(Square()), run_time=1)")
            .replace("import Scene, Square", "import Create, Scene, Square"))
        state = s.wait(idle_after(s, finished), timeout=300)
        assert state["error"] is None and state["preview"] is not None, state
        assert "b" in state["last"]["rendered"]  # (a too if the failed run cut it short)
    finally:
        assert s.stop() == 130


def test_remembered_sentences_are_not_spoken_again(tmp_path: Path) -> None:
    """The studio keeps sentences in memory: a script with one sentence changed speaks
    only that one, and the narration is the same as one spoken from scratch."""
    import numpy as np

    from audio.sources import remember_sentences, synthesize
    from audio.speech import EspeakEngine

    class Counting(EspeakEngine):
        calls: list[str] = []

        def say(self, text: str, words: Any) -> Any:
            self.calls.append(text)
            return super().say(text, words)

    engine = Counting("en-us", 160)
    remember_sentences(8)
    try:
        synthesize(engine, "One sentence here. Two more words.", cache_dir=tmp_path / "a")
        edited = synthesize(engine, "One sentence here. Three new words.",
                            cache_dir=tmp_path / "a")
        assert len(engine.calls) == 3, engine.calls
    finally:
        remember_sentences(0)
    fresh = synthesize(engine, "One sentence here. Three new words.", cache_dir=tmp_path / "b")
    assert len(engine.calls) == 5
    np.testing.assert_array_equal(np.asarray(edited.samples), np.asarray(fresh.samples))


def test_segment_warnings_name_what_to_look_at() -> None:
    from pipeline.records import NarrationRecord, SegmentFiles, SegmentRecord, TakeRecord
    from pipeline.studio.view import segment_warnings

    take = TakeRecord(clipped=True, clipped_share=0.0123, approximate=True, words_found=7,
                      words_expected=12, noisy=True)
    seg = SegmentRecord(
        index=1, id="a", chapter="A", scene="TitleCard", start=0.0, start_frame=0,
        duration=3.0, frames=45, speech_start=0.2,
        narration=NarrationRecord(source="clip", duration=2.0, take=take),
        beats={"title": 3.0}, padding=0.5, cache_key="k", files=SegmentFiles(segment="s.mp4"),
        caption_hold=1.25, caption_hold_reason="captions need 4.2 s", captions_relaxed=True)
    assert segment_warnings(seg) == [
        "clipped take (1.23% of samples at full scale)",
        "off-script take: 7 of 12 words aligned", "noisy take", "scene padded by 0.50 s",
        "caption hold 1.25 s: captions need 4.2 s", "captions over 17 characters per second"]
    plain = seg.model_copy(update={"narration": NarrationRecord(source="piper", duration=2.0),
                                   "padding": 0.0, "caption_hold": 0.0,
                                   "captions_relaxed": False})
    assert segment_warnings(plain) == []


def test_publish_button_runs_the_youtube_dry_run(tmp_path: Path) -> None:
    import click

    from pipeline.cli import cli
    from pipeline.cli.studio import _publish_command

    toml, out = tmp_path / "lecture.toml", tmp_path / "out"
    with click.Context(cli):  # this version has `lecture publish youtube --dry-run`
        assert _publish_command(toml, out) == [
            sys.executable, "-m", "pipeline", "publish", "youtube", str(toml),
            "--out", str(out), "--dry-run"]

    @click.group()
    def root() -> None: ...

    @root.group("publish")
    def publish() -> None: ...

    @publish.command("youtube")
    def youtube() -> None: ...

    with click.Context(root):  # a publish command without a dry run: no button
        assert _publish_command(toml, out) is None
