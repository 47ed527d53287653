"""Shared by the studio tests and the studio bench: a ``lecture studio`` process on a
small lecture, its URL and token, and plain HTTP requests to it."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]

TOML = """id = "studio-test"
title = "Studio test"
seed = 3
quality = "tiny"
voice = "espeak"

[[segments]]
id = "a"
chapter = "Opening"
scene = "TitleCard"
params = { title = "First" }
narration = "The first sentence is here. The second one <mark name=\\"chapter\\"/>follows it."

[[segments]]
id = "b"
chapter = "Closing"
scene = "TitleCard"
params = { title = "Second" }
narration = "Three little words. Four more words here."
"""


class Studio:
    """A running ``lecture studio`` (its own process group) and its output lines."""

    def __init__(self, folder: Path, toml: Path, *args: str, quality: str = "tiny",
                 name: str | None = None) -> None:
        """``name``: the lecture as given on the command line (default: ``toml``)."""
        self.folder, self.toml = folder, toml
        self.out = folder / "out"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "studio", name or str(toml), "--out", str(self.out),
             "--no-browser", "--quality", quality, *args],
            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_for_url()
        parts = urlsplit(self.url)
        self.port = int(parts.port or 0)
        self.token = parts.query.removeprefix("token=")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for_url(self, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines:
                m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
                if m:
                    return m.group(1)
            if self.proc.poll() is not None:
                raise AssertionError("studio exited: " + "\n".join(self.lines))
            time.sleep(0.05)
        raise AssertionError("studio printed no URL: " + "\n".join(self.lines))

    def request(self, method: str, path: str, *, token: bool = True,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sep = "&" if "?" in path else "?"
        conn.putrequest(method, path + (f"{sep}token={self.token}" if token else ""),
                        skip_host=True)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        for k, v in sent.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body

    def state(self) -> dict[str, Any]:
        status, body = self.request("GET", "/api/state")
        assert status == 200, body
        data: dict[str, Any] = json.loads(body)
        return data

    def wait(self, test: Callable[[dict[str, Any]], bool],
             timeout: float = 120.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.state()
            if test(s):
                return s
            time.sleep(0.1)
        raise AssertionError(f"studio state never matched; last: {s}\n" + "\n".join(self.lines))

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT, as Ctrl-C
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code


def idle_after(studio: Studio, finished: float) -> Callable[[dict[str, Any]], bool]:
    """A state test: a job ended after ``finished`` and nothing runs or waits."""
    def test(s: dict[str, Any]) -> bool:
        last = s["last"]
        return bool(last and last["finished"] > finished and s["job"] is None
                    and not s["pending"])
    return test


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
