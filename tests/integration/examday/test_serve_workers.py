"""``examday serve --workers N`` (issue #18): N server processes behind one address, each on the
shared Redis bus; without Redis the command refuses, since a check-in served by one process would
never reach a screen on another (R-DAY-3)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("EXAMDAY_TEST_REDIS_URL")
CLI = [sys.executable, "-c", "import sys; from examday.cli import main; sys.exit(main())"]


def _env(tmp_path: Path, redis_url: str | None) -> dict[str, str]:
    env = {**os.environ, "EXAMDAY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "EXAMDAY_DATA_DIR": str(tmp_path)}
    env.pop("EXAMDAY_REDIS_URL", None)
    if redis_url:
        env["EXAMDAY_REDIS_URL"] = redis_url
    return env


def test_workers_without_redis_are_refused(tmp_path):
    done = subprocess.run(
        [*CLI, "serve", "--workers", "2"], cwd=ROOT, env=_env(tmp_path, None), capture_output=True, text=True
    )
    assert done.returncode == 2 and "EXAMDAY_REDIS_URL" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(not REDIS_URL, reason="needs EXAMDAY_TEST_REDIS_URL")
def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes (spawned), not multiprocessing's resource tracker."""
    kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]


def test_two_workers_share_one_port(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=_env(tmp_path, REDIS_URL),
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        kids: list[int] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, "examday serve --workers 2 exited"
            kids = _workers(proc.pid)
            try:
                if len(kids) == 2 and httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert len(kids) == 2
        # Four workers of 30 connections would pass PostgreSQL's 100: each is given its share of 90.
        for kid in kids:
            assert b"EXAMDAY_DB_CONNECTIONS=45\x00" in Path(f"/proc/{kid}/environ").read_bytes()
        assert all(httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200 for _ in range(10))
    finally:
        proc.terminate()
        proc.wait(30)
