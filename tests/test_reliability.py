"""Reliability, with real processes and real files at tiny resolution.

One module-scoped tiny lecture (two TitleCard segments, generated tone-burst clips)
lives under a folder whose name has a space, an apostrophe and a non-ASCII letter.
Two narration variants (A and B: segment ``b``'s take differs in length, so its render
differs) give two different lecture sets to publish over each other.

* kill tests: SIGKILL the renderer (its whole process group) at 20 seeded moments spread
  over planning, rendering, assembly and publishing; after each kill the published set
  is untouched (or is the complete new set), and the next run completes with the same
  decoded frames and PCM as an uninterrupted run;
* two runs at once on one folder; cold-render determinism; a truncated cache entry.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from pipeline.rendering import housekeeping

from helpers.reliability import Lecture, av, cli, tree_digest

KILL_SEED = 20261201
KILLS_PER_STAGE = int(os.environ.get("KILLS_PER_STAGE", "5"))  # 4 stages x 5 = 20 kills
ASSEMBLY_MARKERS = ("assembling", "narration track", "lecture and segment clips",
                    "captions and chapters", "thumbnail")
PUBLISH_MARKERS = ("publishing", "switching", "published")
MAX_ATTEMPTS = 4  # per kill: the drawn moment, a quarter of it, a sixteenth, the marker


def published_version(lec: Lecture) -> Path:
    assert lec.link.is_symlink()
    return lec.link.resolve()


def assert_clean(lec: Lecture) -> None:
    store = lec.out / ".tiny.versions"
    assert not list(store.glob(".staging-*"))
    assert len([p for p in store.iterdir() if p.is_dir()]) <= 2
    assert not list(lec.out.glob(".tiny.link-*"))
    work = housekeeping.work_root(lec.out / ".cache")  # in /tmp: the path has an apostrophe
    if work.is_dir():
        pids = [int(d.name.split("-")[1]) for d in work.iterdir()]
        assert all(housekeeping._alive(p) for p in pids), pids


def wait_for_marker(status: Path, marker: str, proc: subprocess.Popen,
                    timeout: float = 120) -> bool:
    def seen() -> bool:
        return status.exists() and marker in status.read_text(encoding="utf-8").splitlines()

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if seen():
            return True
        if proc.poll() is not None:  # it may have written the marker just before exiting
            return seen()
        time.sleep(0.003)
    return False


def test_kill_at_20_random_moments(reliability_lecture: Lecture, tmp_path: Path) -> None:
    lec = reliability_lecture
    rng = random.Random(KILL_SEED)
    stages = [s for s in ("planning", "rendering", "assembling", "publishing")
              for _ in range(KILLS_PER_STAGE)]
    rng.shuffle(stages)
    state = {"current": "A", "runs": 0}
    survived, log = 0, []
    for i, stage in enumerate(stages):
        marker, offset = stage, 0.0
        if stage == "planning":
            offset = rng.uniform(0.0, 1.0)
        elif stage == "rendering":
            offset = rng.uniform(0.2, 2.0)
        elif stage == "assembling":
            marker, offset = rng.choice(ASSEMBLY_MARKERS), rng.uniform(0.0, 0.3)
        else:  # the publish steps take milliseconds: start from one of its markers
            marker, offset = rng.choice(PUBLISH_MARKERS), rng.uniform(0.0, 0.004)
        # A moment drawn past the end of the run (a fast machine finishes the thumbnail
        # in under 0.2 s) is no kill: that run must have published the whole new set,
        # and the same kill is tried again sooner, down to the marker itself.
        for attempt in range(MAX_ATTEMPTS):
            at = offset * 0.25 ** attempt if attempt < MAX_ATTEMPTS - 1 else 0.0
            killed = _kill_once(lec, state, stage, marker, at, tmp_path, log, i)
            if killed:
                survived += 1
                break
    print("\n".join(log))
    print(f"kills survived: {survived}/{len(stages)}")
    assert survived == len(stages), "\n".join(log)


def _kill_once(lec: Lecture, state: dict, stage: str, marker: str, offset: float,
               tmp_path: Path, log: list[str], i: int) -> bool:
    """Start a run towards the other variant, SIGKILL it ``offset`` s after ``marker``,
    check what is published, then finish the job with a clean run. True if it was
    killed (False: it had already finished, and published the complete new set)."""
    current = state["current"]
    target = "B" if current == "A" else "A"
    before_dir = published_version(lec)
    before = tree_digest(before_dir)
    if stage == "rendering":
        lec.drop_cache(target, "b")
    status = tmp_path / f"status-{state['runs']}"
    state["runs"] += 1
    proc = cli(*lec.args(target), status=status, popen=True)
    reached = wait_for_marker(status, marker, proc)
    time.sleep(offset)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate()
    last = status.read_text().splitlines()[-1] if status.exists() else "-"
    log.append(f"{i:2d} {stage:<10} {marker:<28} +{offset:.3f}s reached={reached} "
               f"killed={killed} last={last}")
    assert reached, log[-1] + "\n" + (err or "")
    if not killed:
        assert proc.returncode == 0, log[-1] + "\n" + (err or "")

    # The published set is the old one, byte for byte, or the complete new one.
    now_dir = published_version(lec)
    if now_dir == before_dir:
        assert killed, log[-1]
        assert tree_digest(now_dir) == before, log[-1]
        assert av(now_dir) == lec.ref[current], log[-1]
    else:
        assert av(now_dir) == lec.ref[target], log[-1]
        json.loads((now_dir / "manifest.json").read_text())
    # The next run completes and gives the uninterrupted run's frames and sound.
    lec.run(target)
    assert av(lec.link) == lec.ref[target], log[-1]
    assert_clean(lec)
    state["current"] = target
    return killed


def test_two_runs_at_once(reliability_lecture: Lecture) -> None:
    lec = reliability_lecture
    published = published_version(lec)
    variant = "A" if lec.ref["A"] == av(published) else "B"
    other = "B" if variant == "A" else "A"
    lec.drop_cache(other, "b")  # the first run renders, so it holds the lock a while
    status = lec.base / "status-two"
    first = cli(*lec.args(other), status=status, popen=True)
    try:
        assert wait_for_marker(status, "rendering", first)  # it holds the lock from here
        os.killpg(first.pid, signal.SIGSTOP)  # and keeps holding it until we continue it
        busy = cli(*lec.args(variant), "--no-wait")
        assert busy.returncode == 3, busy.stderr
        # planning (and its takes table) comes before the lock; the refusal is one line
        lines = [ln for ln in busy.stderr.splitlines() if ln.strip()]
        said = [ln for ln in lines if ln.startswith(("busy:", "error:"))]
        assert said == lines[-1:] and f"pid {first.pid}" in said[0], busy.stderr
        second = cli(*lec.args(variant), popen=True)
        assert second.stderr is not None
        said = []
        for line in second.stderr:  # plans, then waits for the lock and says so
            said.append(line)
            if "waiting" in line:
                break
        os.killpg(first.pid, signal.SIGCONT)
        out1, err1 = first.communicate(timeout=300)
        out2, err2 = second.communicate(timeout=300)
        err2 = "".join(said) + err2
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "waiting" in err2 and f"pid {first.pid}" in err2
    # the waiting run finished last: its set is the one published, whole
    m = lec.manifest()
    assert av(lec.link) == lec.ref[variant]
    for seg in m["segments"]:
        assert (lec.link / seg["files"]["segment"]).is_file()
    assert_clean(lec)


def test_cold_renders_are_deterministic(reliability_lecture: Lecture) -> None:
    lecture = reliability_lecture
    other = lecture.base / "second cache"
    lecture.run("A", other)
    assert lecture.manifest(other)["rendered"] == ["a", "b"]  # cold: nothing from a cache
    frames, pcm = av(other / "tiny")
    assert (frames, pcm) == lecture.ref["A"]
    print(f"determinism: decoded frames {frames}, PCM {pcm}: identical across cold caches")
    # and the second cache can be emptied from the command line
    renders = other / ".cache" / "renders"
    assert len(list(renders.glob("*.mp4"))) == 2
    proc = cli("cache", "prune", "--cache-max-size", "0", "--out", str(other))
    assert proc.returncode == 0 and "evicted 2 entries" in proc.stderr, proc.stderr
    assert not list(renders.iterdir())


def test_truncated_cache_entry_is_rendered_again(reliability_lecture: Lecture) -> None:
    lec = reliability_lecture
    lec.run("A")
    entry = lec.out / ".cache" / "renders" / f"{lec.keys['A']['a']}.mp4"
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    # Published A is up to date and needs no render; B shares segment a's render, so
    # publishing B has to read the damaged entry.
    proc = lec.run("B")
    assert "cache entry" in proc.stderr and "discarded" in proc.stderr, proc.stderr
    assert "a" in lec.manifest()["rendered"]
    assert entry.stat().st_size == len(data)
    assert av(lec.link) == lec.ref["B"]
