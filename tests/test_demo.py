"""The README's demo, end to end, as a new user runs it: real HTTP, real Whisper, real site.

``poddarkiv demo --no-serve`` serves the bundled feed on loopback, ingests it through the real
fetch path, transcribes three episodes with the bundled model (the fourth has a publisher
transcript), and indexes them. A second run fetches the feed once and transcribes nothing.
Then ``poddarkiv serve`` answers a search for ``upphandling`` with timestamped hits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

DEMO_TIMEOUT_S = 1800


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _poddarkiv(cwd: Path, *args: str, timeout: float = DEMO_TIMEOUT_S) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODDARKIV_")}
    done = subprocess.run([sys.executable, "-m", "poddarkiv", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_demo_ingests_transcribes_and_serves_the_sample(tmp_path: Path) -> None:
    feed_port = str(_free_port())
    first = _poddarkiv(tmp_path, "demo", "--no-serve", "--feed-port", feed_port)
    assert "1 new" in first and "1 publisher" in first and "3 transcribed" in first
    assert "ETA" in first  # the progress bar was shown

    second = _poddarkiv(tmp_path, "demo", "--no-serve", "--feed-port", feed_port)
    assert "1 unchanged" in second and "Episodes: none" in second
    assert "transcribing" not in second

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODDARKIV_")}
    server = subprocess.Popen([sys.executable, "-m", "poddarkiv", "serve", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        page = _wait_for_json(f"http://127.0.0.1:{port}/sok.json?q=upphandling")
        assert page["hits"], page
        passages = [p for hit in page["hits"] for p in hit["passages"]]
        assert passages and all(p["end"] >= p["start"] >= 0 for p in passages)
        first_hit = page["hits"][0]
        html = httpx.get(f"http://127.0.0.1:{port}{first_hit['url']}", timeout=10).text
        assert "<audio" in html
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_for_json(url: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while True:
        try:
            response = httpx.get(url, timeout=10)
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
