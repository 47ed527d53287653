"""Rendering on a Dask LocalCluster of 2 worker processes, against the local executor.

A two-segment tiny lecture (one synthesised on a worker, one recorded clip analysed
on a worker) is rendered once by the local executor as the reference. The
Dask renders (plain, and with a worker SIGKILLed mid-render) must decode to the same
frames and the same audio. Two lectures sharing a segment render it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipeline.cli import main as cli_main
from pipeline.lecture import render_lectures
from pipeline.options import RenderOptions
from pipeline.planning.manifest import QUALITIES, InputError, load_lecture
from pipeline.rendering.cluster_tasks import TOPIC
from pipeline.rendering.executors import (
    DaskExecutor,
    LectureRequest,
    LocalExecutor,
)
from pipeline.rendering.scene_render import RenderError
from pipeline.rendering.store import RenderStore

from helpers.audio import have_espeak, speechlike, write_audio

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is needed")

TINY = QUALITIES["tiny"]
HEADER = ['title = "Dask test"', "seed = 5", 'quality = "tiny"', "lead_in = 0.3", "tail = 0.3"]


def segment(sid: str, title: str, narration: str) -> list[str]:
    return ["[[segments]]", f'id = "{sid}"', f'chapter = "{title}"', 'scene = "TitleCard"',
            f'params = {{ title = "{title}" }}', f'narration = "{narration}"', ""]


def write_lecture(folder: Path, lid: str, segments: list[list[str]]) -> Path:
    toml = folder / f"{lid}.toml"
    lines = [f'id = "{lid}"', *HEADER, ""]
    for s in segments:
        lines += s
    toml.write_text("\n".join(lines), encoding="utf-8")
    return toml


SPOKEN = segment("spoken", "Forward", "Noise is added step by step.")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dask")


@pytest.fixture(scope="module")
def lecture(base: Path) -> dict:
    clips = base / "clips"
    clips.mkdir()
    sp = speechlike(2, seed=4, lead=0.0, tail=0.05, amp=0.5)
    write_audio(clips / "recorded.wav", sp.samples, sp.sr)
    toml = write_lecture(base, "dl", [
        SPOKEN, segment("recorded", "Reverse", " ".join(sp.texts)),
    ])
    return {"toml": toml, "clips": clips, "spec": load_lecture(toml)}


def options(base: Path, name: str, clips: Path | None = None) -> RenderOptions:
    return RenderOptions(quality=TINY, out_root=base / name, narration_dir=clips, jobs=2,
                         speech_cache=base / "speech")


@pytest.fixture(scope="module")
def reference(base: Path, lecture: dict) -> Path:
    opts = options(base, "local", lecture["clips"])
    [result] = render_lectures([LectureRequest(lecture["spec"], str(lecture["toml"]), opts)],
                               LocalExecutor())
    return result.out_dir


@pytest.fixture(scope="module")
def cluster():
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as c:
        yield c


def dask_executor(cluster, store: RenderStore) -> DaskExecutor:
    return DaskExecutor(distributed.Client(cluster), store)


def decoded(mp4: Path) -> tuple[str, str]:
    """(hash of every decoded frame, hash of the decoded PCM) of a lecture file."""
    frames = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp4), "-map", "0:v:0",
                             "-f", "framemd5", "-"], capture_output=True, check=True, text=True)
    lines = [ln for ln in frames.stdout.splitlines() if not ln.startswith("#")]
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp4), "-map", "0:a:0",
                          "-f", "s16le", "-"], capture_output=True, check=True)
    assert len(lines) > 10 and len(pcm.stdout) > 48_000
    return (hashlib.sha256("\n".join(ln.split(",")[-1] for ln in lines).encode()).hexdigest(),
            hashlib.sha256(pcm.stdout).hexdigest())


def render_events(client, since: float) -> dict[str, list[dict]]:
    """Render events logged by workers after ``since``, per cache key."""
    out: dict[str, list[dict]] = {}
    for t, msg in client.get_events(TOPIC):
        if t >= since:
            out.setdefault(msg["key"], []).append(msg)
    return out


def assert_clean_store(store_dir: Path) -> None:
    renders = store_dir / "renders"
    assert not [p for p in renders.iterdir() if p.name.startswith(".tmp-")]
    store = RenderStore.for_path(store_dir)
    for rec_file in renders.glob("*.json"):
        key = rec_file.stem
        rec = store.lookup(key, TINY, json.loads(rec_file.read_text())["frames"])
        assert rec is not None
        store.fetch(key, rec, store_dir)  # checksum verified


@pytest.fixture(scope="module")
def dask_run(base: Path, lecture: dict, cluster) -> dict:
    opts = options(base, "dask", lecture["clips"])
    store = RenderStore.for_path(base / "dask-cache")
    since = time.time()
    with dask_executor(cluster, store) as ex:
        [result] = render_lectures(
            [LectureRequest(lecture["spec"], str(lecture["toml"]), opts)], ex)
        events = render_events(ex.client, since)
    return {"result": result, "events": events, "store": store,
            "keys": {p.spec.id: p.job.key for p in result.plans}}


def test_dask_render_matches_local(dask_run: dict, reference: Path) -> None:
    result, events = dask_run["result"], dask_run["events"]
    assert result.rendered == ["spoken", "recorded"] and result.cached == []
    narr = {p.spec.id: p.narration.source for p in result.plans}
    assert narr["recorded"] == "clip" and narr["spoken"] in ("piper", "espeak")
    # each render ran once, on a worker process, reporting frames to the client
    assert set(events) == set(dask_run["keys"].values())
    assert all(msg["worker"].startswith("tcp://") for msgs in events.values() for msg in msgs)
    assert decoded(result.out_dir / "lecture.mp4") == decoded(reference / "lecture.mp4")
    for a, b in zip(sorted((result.out_dir / "segments").glob("*.mp4")),
                    sorted((reference / "segments").glob("*.mp4")), strict=True):
        assert decoded(a) == decoded(b)
    assert_clean_store(Path(dask_run["store"].root))


def test_worker_killed_mid_render(base: Path, lecture: dict, reference: Path, cluster,
                                  dask_run: dict) -> None:
    opts = options(base, "killed", lecture["clips"])
    store_dir = base / "killed-cache"
    # The recorded segment's entry is already there: the one render left is the one killed.
    key = dask_run["keys"]["recorded"]
    (store_dir / "renders").mkdir(parents=True)
    for suffix in (".mp4", ".json"):
        name = f"renders/{key}{suffix}"
        (store_dir / name).write_bytes((Path(dask_run["store"].root) / name).read_bytes())
    store = RenderStore.for_path(store_dir)
    killed: list[str] = []
    watcher = distributed.Client(cluster)
    done = threading.Event()

    def kill_first_render(event) -> None:
        _, msg = event
        # Kill once, after the scene has written frames: manim is mid-render.
        if not killed and msg["frames"] > 0:
            killed.append(msg["worker"])
            threading.Thread(target=kill, args=(msg["worker"],), daemon=True).start()

    def kill(address: str) -> None:
        pid = watcher.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        done.set()

    watcher.subscribe_topic(TOPIC, kill_first_render)
    try:
        with dask_executor(cluster, store) as ex:
            [result] = render_lectures(
                [LectureRequest(lecture["spec"], str(lecture["toml"]), opts)], ex)
    finally:
        watcher.unsubscribe_topic(TOPIC)
    assert done.wait(5) and len(killed) == 1
    assert result.cached == ["recorded"] and result.rendered == ["spoken"]
    assert decoded(result.out_dir / "lecture.mp4") == decoded(reference / "lecture.mp4")
    assert_clean_store(store_dir)
    watcher.wait_for_workers(2, timeout=60)  # the nanny brought the worker back
    watcher.close()


def test_two_lectures_share_a_render(base: Path, cluster, dask_run: dict) -> None:
    shared = segment("shared", "Shared", "Both lectures say this.")
    one = write_lecture(base, "one", [shared])
    two = write_lecture(base, "two", [SPOKEN, shared])
    opts = options(base, "pair")
    since = time.time()
    with dask_executor(cluster, dask_run["store"]) as ex:
        results = render_lectures(
            [LectureRequest(load_lecture(t), str(t), opts) for t in (one, two)], ex)
        events = render_events(ex.client, since)
    one_r, two_r = results
    keys = {(r.out_dir.name, p.spec.id): p.job.key for r in results for p in r.plans}
    shared_key = keys[("one", "shared")]
    assert keys[("two", "shared")] == shared_key
    # "spoken" was in the store already: no task; "shared" is one task for both lectures
    assert keys[("two", "spoken")] == dask_run["keys"]["spoken"]
    assert two_r.cached == ["spoken"]
    assert set(events) == {shared_key}
    assert len([m for m in events[shared_key] if m["frames"] == 0]) == 1
    for r in results:
        assert len(decoded(r.out_dir / "lecture.mp4")) == 2
    assert_clean_store(Path(dask_run["store"].root))


@pytest.mark.slow  # a LaTeX run and a failed render: about 20 s more of the default suite
def test_failing_scene_fails_the_run_once(base: Path, cluster) -> None:
    broken = ["[[segments]]", 'id = "broken"', 'chapter = "Broken"', 'scene = "KeyConcepts"',
              """params = { items = [{ text = "Bad formula", math = '\\frac{' }] }""",
              'narration = "This formula does not compile."', ""]
    toml = write_lecture(base, "broken", [broken])
    store = RenderStore.for_path(base / "broken-cache")
    since = time.time()
    with dask_executor(cluster, store) as ex:
        with pytest.raises((RenderError, InputError), match="segment broken"):
            render_lectures([LectureRequest(load_lecture(toml), str(toml),
                                            options(base, "broken"))], ex)
        events = render_events(ex.client, since)
    [msgs] = events.values()
    assert len([m for m in msgs if m["frames"] == 0]) == 1  # not retried
    assert not list((base / "broken-cache" / "renders").glob("*"))
    assert not (base / "broken" / "broken").exists()


def test_bad_executor_is_bad_input(lecture: dict, tmp_path: Path, capsys) -> None:
    code = cli_main(["--lecture", str(lecture["toml"]), "--executor", "spark://x",
                     "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--executor" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------ own scenes (issue 21)
NEIGHBOUR = 'from manim import Square\n\n\ndef shape():\n    return Square(color="#ff0000")\n'
OWN_SCENE = """\
from pathlib import Path

from manim import Create, FadeIn, Scene, Text

from neighbour import shape


class Plain(Scene):
    def construct(self):
        words = Path("words.txt").read_text().strip()
        self.play(Create(shape()), run_time=0.6)
        self.play(FadeIn(Text(words)), run_time=0.4)
"""


def own_lecture(folder: Path) -> Path:
    """A lecture whose scene imports a neighbour module and reads an asset."""
    (folder / "art").mkdir(parents=True)
    (folder / "art" / "neighbour.py").write_text(NEIGHBOUR)
    (folder / "art" / "scene.py").write_text(OWN_SCENE)
    (folder / "art" / "words.txt").write_text("Shipped\n")
    toml = folder / "own.toml"
    toml.write_text("\n".join([
        'id = "own"', 'title = "Own"', "seed = 3", 'quality = "tiny"', 'voice = "silence"',
        "lead_in = 0.3", "tail = 0.3", "", "[[segments]]", 'id = "p"', 'chapter = "P"',
        'scene = "art/scene.py:Plain"', "narration = 'Hello there.'", ""]))
    return toml


@pytest.fixture(scope="module")
def own(base: Path) -> dict:
    toml = own_lecture(base / "own")
    opts = options(base / "own", "local")
    [result] = render_lectures([LectureRequest(load_lecture(toml), str(toml), opts)],
                               LocalExecutor())
    return {"toml": toml, "local": result, "opts": opts}


def test_own_scene_on_dask_matches_local(base: Path, own: dict, cluster) -> None:
    toml = own["toml"]
    opts = options(base / "own", "dask")
    store = RenderStore.for_path(base / "own-cache")
    since = time.time()
    with dask_executor(cluster, store) as ex:
        [result] = render_lectures([LectureRequest(load_lecture(toml), str(toml), opts)], ex)
        events = render_events(ex.client, since)
    assert result.rendered == ["p"]
    assert [p.job.key for p in result.plans] == [p.job.key for p in own["local"].plans]
    assert all(m["worker"].startswith("tcp://") for msgs in events.values() for m in msgs)
    assert decoded(result.out_dir / "lecture.mp4") == decoded(own["local"].out_dir / "lecture.mp4")


def test_worker_renders_without_the_authors_folder(base: Path, own: dict, cluster) -> None:
    from pipeline.planning.plan import plan_lecture
    from pipeline.rendering.author_files import pack
    from pipeline.rendering.cluster_tasks import render_entry

    toml = own_lecture(base / "moving")
    [plan] = plan_lecture(load_lecture(toml), options(base / "moving", "plan"))
    job = plan.job
    assert job.author is not None and job.key == own["local"].plans[0].job.key
    files = pack(job.author, job.segment_id)
    assert [rel for rel, _ in files.files] == ["neighbour.py", "scene.py", "words.txt"]
    # The author's folder is gone before any worker sees the task.
    (base / "moving").rename(base / "moved")
    store = RenderStore.for_path(base / "moved-cache")
    client = distributed.Client(cluster)
    try:
        with pytest.raises(RenderError, match="segment p: .*cannot read the scene"):
            client.submit(render_entry, job, store.url, key="no-files").result()
        tampered = type(files)(tuple((r, b"Changed\n" if r == "words.txt" else b)
                                     for r, b in files.files))
        with pytest.raises(RenderError, match="segment p: scene art/scene.py:Plain: the files"):
            client.submit(render_entry, job, store.url, tampered, key="tampered").result()
        outcome = client.submit(render_entry, job, store.url, files, key="shipped").result()
    finally:
        client.close()
    assert outcome.rendered and outcome.worker.startswith("tcp://")
    rec = store.lookup(job.key, job.quality, job.expected_frames)
    assert rec is not None
    local = RenderStore.for_path(own["opts"].cache_dir)
    local_rec = local.lookup(job.key, job.quality, job.expected_frames)
    assert local_rec is not None
    assert (store.fetch(job.key, rec, base / "x").read_bytes()
            == local.fetch(job.key, local_rec, base / "y").read_bytes())


def test_a_closure_over_the_limit_is_refused_in_one_line(base: Path) -> None:
    from pipeline.planning.plan import plan_lecture
    from pipeline.rendering.author_files import TooLarge, pack

    toml = own_lecture(base / "big")
    [plan] = plan_lecture(load_lecture(toml), options(base / "big", "plan"))
    assert plan.job.author is not None
    with pytest.raises(TooLarge, match=r"^segment p: scene art/scene.py:Plain: .* \(largest "
                                       r"scene.py, .*over the 0 MB a Dask task carries"):
        pack(plan.job.author, "p", limit=100)


def test_own_scene_with_dask_local_2_from_the_command_line(base: Path, own: dict,
                                                           capsys) -> None:
    toml = own_lecture(base / "cli-own")
    out = base / "cli-own" / "out"
    code = cli_main(["--lecture", str(toml), "--executor", "dask-local:2", "--out", str(out),
                     "--quality", "tiny"])
    assert code == 0, capsys.readouterr().err
    [mp4] = out.glob("*/lecture.mp4")
    assert decoded(mp4) == decoded(own["local"].out_dir / "lecture.mp4")


def test_own_scene_over_the_size_limit_is_bad_input(base: Path, monkeypatch,
                                                    capsys) -> None:
    from pipeline.rendering import author_files

    monkeypatch.setattr(author_files, "MAX_BYTES", 100)
    toml = own_lecture(base / "cli-big")
    code = cli_main(["--lecture", str(toml), "--executor", "dask-local:2",
                     "--out", str(base / "cli-big" / "out"), "--quality", "tiny"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "segment p: scene art/scene.py:Plain:" in err and "largest scene.py" in err
    assert "Traceback" not in err


def test_a_module_scene_ships_its_package_and_not_outside_files(tmp_path: Path) -> None:
    from pipeline.planning.scene_ref import locate
    from pipeline.rendering.author_files import closure_files, pack, relocated, unpack

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "other.py").write_text(
        'from pathlib import Path\nfrom manim import Scene\nfrom pkg import util\n'
        'A = Path("data/a.txt")\nB = Path("../outside.txt")\n'
        'class Other(Scene):\n    pass\n')
    (tmp_path / "pkg" / "util.py").write_text("X = 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a")
    (tmp_path.parent / "outside.txt").write_text("o")
    author = locate("pkg.other:Other", lambda p: tmp_path / p)
    assert list(closure_files(author)) == [
        "data/a.txt", "pkg/__init__.py", "pkg/other.py", "pkg/util.py"]
    files = pack(author, "m")
    folder = unpack(files, str(tmp_path / "work"))
    assert unpack(files, str(tmp_path / "work")) == folder  # reused, by digest
    assert folder.name == files.digest and (folder / "data" / "a.txt").read_text() == "a"
    moved = relocated(author, folder)
    assert moved.file == str(folder / "pkg" / "other.py") and moved.root == str(folder)
