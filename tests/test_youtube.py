"""``lecture publish youtube`` against a local stand-in for YouTube (``helpers.youtube_server``).

The real Google client (discovery documents, resumable uploads, token refresh) talks
over TLS to a server on 127.0.0.1 that speaks the Data API v3 upload protocol and
injects faults. The lecture is a real render (``helpers.youtube_lecture``), made once;
each test publishes a copy of its output folder, in chunks of 256 KiB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import EXIT_INPUT, EXIT_OK, main
from pipeline.lock import FolderLock
from pipeline.records import read_record
from pipeline.youtube import limits
from pipeline.youtube.record import read_publish_record

from helpers.youtube_lecture import make_lecture
from helpers.youtube_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    SCOPES,
    FakeYouTube,
)

ROOT = Path(__file__).resolve().parent.parent
ID = "yt-tiny"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rendered once a run: under xdist the workers share one render (the run's temp
    folder, under a lock), since they may split this module's tests between them."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # pytest-N/, this run's, shared by its workers
    base = root / "yt-lecture"
    with FolderLock(root / "yt-lecture.lock"):
        if not (base / "out" / ID / "manifest.json").is_file():
            shutil.rmtree(base, ignore_errors=True)
            make_lecture(base)
    return base / "out"


@pytest.fixture
def out(rendered: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(rendered, copy, symlinks=True, ignore=shutil.ignore_patterns(".cache"))
    return copy


@pytest.fixture
def yt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    server = FakeYouTube(tmp_path)
    for k, v in {**server.env(), "XDG_CONFIG_HOME": str(tmp_path / "config"),
                 "LECTURE_YOUTUBE_CHUNK": "256K", "LECTURE_YOUTUBE_BACKOFF": "0.02"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("LECTURE_YOUTUBE_CLIENT_SECRETS", raising=False)
    yield server
    server.close()


@pytest.fixture
def signed_in(yt: FakeYouTube, tmp_path: Path) -> Path:
    token = tmp_path / "config" / "diffusion-lectures" / "youtube-token.json"
    token.parent.mkdir(parents=True)
    token.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                 "refresh_token": REFRESH_TOKEN, "scopes": list(SCOPES)}))
    token.chmod(0o600)
    return token


def publish(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> tuple[int, str]:
    code = main(["publish", "youtube", ID, "--out", str(out), *args], prog_name="lecture")
    o, e = capsys.readouterr()
    return code, o + e


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder(out: Path) -> Path:
    return (out / ID).resolve()


def chunk_bytes(yt: FakeYouTube) -> int:
    return sum(len(s.body) for s in yt.log if s.call == "upload.chunk" and s.status in (200, 308))


# ---------------------------------------------------------------- whole runs
def test_publish_sends_what_the_folder_says_despite_faults_then_nothing(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yt.faults.chunk_status = {2: 503}
    yt.faults.expire_token_before = {5}  # the 3rd chunk: 401, a refresh, the chunk again
    yt.faults.drop_chunks = {6, 7}  # twice in a row: the transport's own retry fails too
    code, text = publish(capsys, out, "--playlist", "Diffusion models", "--privacy", "unlisted")
    assert code == EXIT_OK, text
    lec = folder(out)
    rec = read_record(lec / "manifest.json")
    (video_id, data), = yt.uploaded.items()
    assert sha(data) == sha((lec / "lecture.mp4").read_bytes())
    retries = [ln for ln in text.splitlines() if ln.startswith("upload: ")]
    assert retries[0].startswith("upload: 503; trying again") and len(retries) == 2
    assert any(s.call == "upload.chunk" and s.status == 401 for s in yt.log)
    assert sum(1 for s in yt.log if s.call == "token") >= 2  # the expired token was refreshed
    assert yt.calls().count("upload.chunk") >= len(data) // limits.CHUNK_UNIT + 1
    video = yt.videos[video_id]
    assert video["snippet"]["title"] == rec.title
    assert video["snippet"]["description"] == (lec / "description.txt").read_text()
    assert "0:00 " in video["snippet"]["description"]
    assert video["snippet"]["tags"] == [c.title for c in rec.chapters]
    assert video["snippet"]["categoryId"] == "27"
    assert video["snippet"]["defaultLanguage"] == "en"
    assert video["status"] == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}
    assert yt.thumbnails[video_id] == (lec / "thumbnail.png").read_bytes()
    (caption,) = yt.captions.values()
    assert caption["data"] == (lec / "captions.vtt").read_bytes()
    assert caption["snippet"]["language"] == "en"
    assert caption["snippet"]["name"] == "Narration (approximate)"  # the takes' words
    assert rec.captions_approximate
    (playlist,) = yt.playlists.values()
    assert playlist["snippet"]["title"] == "Diffusion models"
    assert [i["snippet"]["resourceId"]["videoId"] for i in yt.items] == [video_id]
    assert f"https://youtu.be/{video_id}" in text
    kept = read_publish_record(out, ID)
    assert kept.video_id == video_id and kept.session is None
    assert kept.assembly_key == rec.assembly_key and kept.video_sha256 == sha(data)

    yt.clear()
    code, text = publish(capsys, out, "--playlist", "Diffusion models", "--privacy", "unlisted")
    assert code == EXIT_OK, text
    assert yt.log == []
    assert "nothing sent" in text


def test_a_caption_change_sends_only_the_caption_update(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish(capsys, out)[0] == EXIT_OK
    vtt = folder(out) / "captions.vtt"
    vtt.write_text(vtt.read_text().replace("Ww", "Vv", 1))
    yt.clear()
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert yt.calls() == ["captions.update"]
    (caption,) = yt.captions.values()
    assert caption["data"] == vtt.read_bytes()

    yt.clear()
    code, text = publish(capsys, out, "--privacy", "unlisted")  # metadata: an update
    assert code == EXIT_OK, text
    assert yt.calls() == ["videos.update"]
    assert len(yt.uploaded) == 1
    (video,) = yt.videos.values()
    assert video["status"]["privacyStatus"] == "unlisted"

    yt.clear()
    thumb = folder(out) / "thumbnail.png"
    thumb.unlink()
    thumb.write_bytes(yt.thumbnails[video["id"]] + b"\0")  # a new picture, the same size
    code, text = publish(capsys, out)  # no --privacy: the video stays unlisted
    assert code == EXIT_OK, text
    assert yt.calls() == ["thumbnails.set"]
    assert yt.thumbnails[video["id"]] == thumb.read_bytes()


def test_a_killed_upload_resumes_and_sends_only_the_rest(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yt.faults.chunk_pause = 0.25
    record = out / f"{ID}.youtube.json"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}"}
    child = subprocess.Popen([sys.executable, "-m", "pipeline", "publish", "youtube", ID,
                              "--out", str(out)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if record.exists() and (read_publish_record(out, ID).session or None) is not None \
                and read_publish_record(out, ID).session.confirmed >= 2 * limits.CHUNK_UNIT:  # type: ignore[union-attr]
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    (session,) = yt.sessions.values()
    held = len(session.data)
    size = (folder(out) / "lecture.mp4").stat().st_size
    assert 0 < held < size and session.video is None
    yt.faults.chunk_pause = 0.0
    yt.clear()
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert f"resuming the upload at byte {held}" in text
    assert yt.calls()[0] == "upload.status"
    assert "videos.insert" not in yt.calls()  # the same session: no new upload
    assert chunk_bytes(yt) == size - held
    (data,) = yt.uploaded.values()
    assert sha(data) == sha((folder(out) / "lecture.mp4").read_bytes())


def test_an_expired_session_starts_over_and_says_so(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yt.faults.expire_session_at = {3}
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert "upload session expired; starting the upload over" in text
    assert len(yt.sessions) == 2
    (data,) = yt.uploaded.values()
    assert sha(data) == sha((folder(out) / "lecture.mp4").read_bytes())


def test_quota_exceeded_is_one_line_and_the_rerun_goes_on(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yt.faults.quota_on = "captions.insert"
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT
    (line,) = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert "quotaExceeded" in line and "after midnight Pacific time" in line
    assert read_publish_record(out, ID).video_id  # what was sent is kept
    yt.faults.quota_on = None
    yt.clear()
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert yt.calls() == ["captions.insert"]


def test_changed_picture_or_sound_needs_replace_and_names_the_old_video(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish(capsys, out)[0] == EXIT_OK
    old = read_publish_record(out, ID).video_id
    mp4 = folder(out) / "lecture.mp4"
    mp4.unlink()  # a hard link into the cache: write a new file, not through it
    mp4.write_bytes(next(iter(yt.uploaded.values())) + b"\0" * 1000)
    yt.clear()
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT and "--replace" in text and old in text
    assert yt.log == []
    code, text = publish(capsys, out, "--replace")
    assert code == EXIT_OK, text
    assert len(yt.uploaded) == 2 and f"replaces video {old}" in text
    assert read_publish_record(out, ID).replaced == [old]


def test_draft_captions_are_held_back_unless_asked(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = folder(out) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["captions_draft"] = ["middle"]
    manifest.unlink()
    manifest.write_text(json.dumps(data))
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert "captions.insert" not in yt.calls() and "recogniser drafts" in text
    yt.clear()
    code, text = publish(capsys, out, "--draft-captions")
    assert code == EXIT_OK, text
    assert yt.calls() == ["captions.insert"]


def test_a_course_keeps_lecture_order_in_one_playlist(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    second = out / ".yt-two.versions" / "v000001"
    shutil.copytree(folder(out), second)
    data = json.loads((second / "manifest.json").read_text())
    data.update(lecture="yt-two", title="The second lecture")
    (second / "manifest.json").write_text(json.dumps(data))
    (out / "yt-two").symlink_to(".yt-two.versions/v000001")
    code = main(["publish", "youtube", "--lectures", "yt-two", ID, "--out", str(out),
                 "--playlist", "Course"], prog_name="lecture")
    text = "".join(capsys.readouterr())
    assert code == EXIT_OK, text
    ids = [read_publish_record(out, i).video_id for i in ("yt-two", ID)]
    assert [i["snippet"]["resourceId"]["videoId"] for i in yt.items] == ids
    assert yt.calls().count("playlists.insert") == 1 and yt.calls().count("playlists.list") == 1
    assert yt.videos[ids[0]]["snippet"]["title"] == "The second lecture"


# ---------------------------------------------------------------- checks and sign-in
def test_dry_run_prints_the_requests_and_sends_nothing(
        yt: FakeYouTube, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["publish", "youtube", ID, "--out", str(out), "--dry-run", "--playlist", "P",
                 "--publish-at", "2030-01-01T09:00:00+01:00"], prog_name="lecture")
    o, e = capsys.readouterr()
    assert code == EXIT_OK, e
    shown = json.loads(o)
    assert [r["call"] for r in shown] == ["videos.insert", "thumbnails.set", "captions.insert",
                                          "playlists.list", "playlists.insert",
                                          "playlistItems.insert"]
    assert shown[0]["body"]["status"]["publishAt"] == "2030-01-01T08:00:00Z"
    assert shown[0]["body"]["snippet"]["description"] == \
        (folder(out) / "description.txt").read_text()
    assert "quota: about 2151 units" in e  # 1600 + 50 + 400 + 1 + 50 + 50
    assert yt.log == []


def test_without_a_sign_in_or_with_a_revoked_one_the_run_says_what_to_do(
        yt: FakeYouTube, out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT and "no YouTube sign-in is stored" in text
    assert "--client-secrets" in text and len(text.strip().splitlines()) == 2  # quota + error
    token = tmp_path / "config" / "diffusion-lectures" / "youtube-token.json"
    token.parent.mkdir(parents=True)
    token.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                 "refresh_token": REFRESH_TOKEN, "scopes": [SCOPES[0]]}))
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT and "lacks the scope youtube.force-ssl" in text
    token.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                 "refresh_token": REFRESH_TOKEN, "scopes": list(SCOPES)}))
    yt.faults.revoked = True
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT and "revoked" in text and "--sign-in" in text
    for secret in (REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in text


def test_the_limits_name_their_field(tmp_path: Path) -> None:
    assert limits.check_title("") and limits.check_title("x" * 101)
    assert limits.check_title("a <b>")[0].startswith("title:")
    assert limits.check_title("x" * 100) == []
    assert limits.check_description("é" * 2501)[0].startswith("description: 5002 bytes")
    assert limits.check_description("a > b")
    assert limits.tags_length(["a b", "cd"]) == 5 + 1 + 2
    assert limits.check_tags(["x" * 250, "y" * 250])[0].startswith("tags: 501")
    assert limits.check_thumbnail(3 * 1024 * 1024, 1280, 720)[0].startswith("thumbnail:")
    assert limits.check_thumbnail(1000, 1280, 1024)[0].endswith("is not 16:9")
    assert limits.check_thumbnail(1000, 1280, 720) == []
    from pipeline.assembly.chapters import Chapter

    lines = limits.check_chapter_lines([Chapter(2, "a"), Chapter(15, "b")], 20.0)
    assert all(ln.startswith("chapters:") for ln in lines) and len(lines) == 3
    assert limits.check_caption_text("WEBVTT\n\n", "vtt") == ["captions: the file has no cues"]
    assert limits.check_caption_text("1\n00:00:01,000 -> x\nHi\n", "srt")[0].startswith(
        "captions: SRT")
    assert limits.check_chunk_size(300 * 1024)
    assert limits.check_chunk_size(512 * 1024) == []


def test_a_lecture_over_the_limits_fails_each_rule_on_one_line(
        yt: FakeYouTube, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lec = folder(out)
    (lec / "description.txt").write_text("a <b> " + "x" * 5000)
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {ID}: description: 5006 bytes; YouTube takes at most 5000",
                      f"error: {ID}: description: contains '<' or '>', which YouTube does "
                      "not allow"]
    code, text = publish(capsys, out, "--chunk-size", "100K")
    assert code == EXIT_INPUT and "--chunk-size" in text
    code, text = publish(capsys, out, "--publish-at", "2030-01-01T00:00:00Z", "--privacy",
                         "public")
    assert code == EXIT_INPUT and "--publish-at" in text


def test_the_sign_in_is_kept_private(yt: FakeYouTube, tmp_path: Path) -> None:
    from google.oauth2.credentials import Credentials

    from pipeline.youtube import auth

    creds = Credentials(token="t", refresh_token=REFRESH_TOKEN, client_id=CLIENT_ID,
                        client_secret=CLIENT_SECRET, scopes=list(SCOPES))
    auth.save(creds)
    path = auth.token_path()
    assert path.is_relative_to(tmp_path / "config")
    assert path.stat().st_mode & 0o777 == 0o600
    kept = json.loads(path.read_text())
    assert kept["refresh_token"] == REFRESH_TOKEN and "token" not in kept


def test_signing_in_without_a_browser_keeps_the_token_and_publishes(
        yt: FakeYouTube, out: Path, tmp_path: Path) -> None:
    import ssl
    import urllib.request

    secrets = tmp_path / "client.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "auth_uri": yt.url + "auth",
        "token_uri": "https://oauth2.example/token", "redirect_uris": ["http://localhost"]}}))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}"}
    child = subprocess.Popen([sys.executable, "-m", "pipeline", "publish", "youtube", ID,
                              "--out", str(out), "--client-secrets", str(secrets),
                              "--no-browser"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        url = next(line.strip() for line in child.stdout if line.startswith("https://"))
        assert url.startswith(yt.url + "auth?") and "redirect_uri=http%3A%2F%2F127.0.0.1" in url
        tls = ssl.create_default_context(cafile=str(yt.cert))
        with urllib.request.urlopen(url, context=tls, timeout=30) as page:  # the browser
            assert page.status == 200
        _out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, err
    token = tmp_path / "config" / "diffusion-lectures" / "youtube-token.json"
    assert token.stat().st_mode & 0o777 == 0o600
    assert json.loads(token.read_text())["refresh_token"] == REFRESH_TOKEN
    assert REFRESH_TOKEN not in err + _out and CLIENT_SECRET not in err + _out
    assert len(yt.uploaded) == 1 and "signed in" in err


def test_a_network_that_stays_down_stops_with_one_line_and_the_rerun_finishes(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.youtube import api

    monkeypatch.setattr(api, "MAX_RETRIES", 2)
    yt.faults.drop_chunks = set(range(3, 40))  # the cable is out from the 3rd chunk on
    code, text = publish(capsys, out)
    assert code == 1
    (line,) = [ln for ln in text.splitlines() if ln.startswith("failed:")]
    assert "no connection to YouTube after 2 retries" in line and "run the same command" in line
    held = read_publish_record(out, ID).session
    assert held is not None and held.confirmed == 2 * limits.CHUNK_UNIT
    yt.faults.drop_chunks = set()
    yt.clear()
    code, text = publish(capsys, out)
    assert code == EXIT_OK, text
    assert yt.calls()[0] == "upload.status" and "videos.insert" not in yt.calls()
    size = (folder(out) / "lecture.mp4").stat().st_size
    assert chunk_bytes(yt) == size - 2 * limits.CHUNK_UNIT
    (data,) = yt.uploaded.values()
    assert sha(data) == sha((folder(out) / "lecture.mp4").read_bytes())


def test_a_4xx_is_not_retried_and_says_what_to_do(
        yt: FakeYouTube, signed_in: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yt.faults.chunk_status = {2: 400}
    code, text = publish(capsys, out)
    assert code == EXIT_INPUT and "trying again" not in text
    assert [ln for ln in text.splitlines() if ln.startswith("error:")] == [
        "error: videos.insert: YouTube answered 400 (backendError: try again)"]
    assert yt.calls().count("upload.chunk") == 2
    yt.faults.chunk_status = {}
    yt.faults.refuse = {"thumbnails.set": (403, "insufficientPermissions")}
    code, text = publish(capsys, out)  # resumes the upload, then the thumbnail is refused
    assert code == EXIT_INPUT
    assert "thumbnails.set: the YouTube sign-in lacks a needed scope" in text
    assert "--sign-in" in text and len(yt.sessions) == 1
