"""The suite runs on several processes (pytest-xdist, ``./dev test``): tests that share a module-
or package-scoped fixture run on one worker, one after another (tests/conftest.py, shared_group).
Without that, the security world and the journeys' story would be built on every worker, and a
journey's steps would run on different live servers, each step failing for the one before it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests/unit/examday/test_ticket_token.py"  # a module-scoped key, cheap to run


@pytest.mark.slow
def test_a_modules_shared_fixture_keeps_its_tests_on_one_worker():
    pytest.importorskip("xdist")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider", MODULE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = re.findall(r"^\[(gw\d+)\] .*PASSED (\S+)", done.stdout, re.M)
    grouped = {worker for worker, nodeid in ran if nodeid.endswith(f"@{MODULE}")}
    assert len(ran) >= 10 and len(grouped) == 1, done.stdout[-3000:]
