"""bench/morning.py stays working: a small exam morning on PostgreSQL and Redis with two server
processes, and nothing lost, doubled or failed (the full-size run is the lead's, on a quiet machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("EXAMDAY_TEST_REDIS_URL")


@pytest.mark.slow
@pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs EXAMDAY_TEST_POSTGRES_URL and EXAMDAY_TEST_REDIS_URL")
def test_a_small_morning_runs_without_errors(tmp_path):
    out = tmp_path / "morning.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.morning",
            "--candidates",
            "60",
            "--minutes",
            "0.2",
            "--kiosks",
            "2",
            "--screens",
            "4",
            "--offices",
            "1",
            "--cameras",
            "2",
            "--hook-every",
            "2",
            "--segment-kb",
            "16",
            "--postgres",
            PG_URL,
            "--redis",
            REDIS_URL,
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    r = json.loads(out.read_text())
    assert r["errors"] == dict.fromkeys(r["errors"], 0)
    assert r["db"]["attendance"] == 60 and r["checkin"]["outcomes"]["accepted"] == 60
    assert r["feed"]["pairs"] == 60 + 3 * 30  # the office sees every check-in, three proctors their room's 30
    assert r["hooks"]["segments"].get("valid", 0) > 0
