"""The contract's command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine

ROOT = Path(__file__).resolve().parents[3]


def run(args, tmp_path, stdin=None):
    env = {
        **os.environ,
        "EXAMDAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "EXAMDAY_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "examday.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_account_add_token_issue_and_audit_verify(tmp_path):
    r = run(["account", "add", "root", "--role", "admin", "--password-stdin"], tmp_path, "a long password\n")
    assert r.returncode == 0, r.stderr
    r = run(["token", "issue", "root"], tmp_path)
    assert r.returncode == 0 and len(r.stdout.strip()) >= 40 and "\n" not in r.stdout.strip()
    ok = run(["audit", "verify"], tmp_path)
    assert ok.returncode == 0 and "holds" in ok.stdout
    eng = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with eng.begin() as c:
        c.execute(text("UPDATE auditentry SET username = 'someone-else' WHERE seq = 1"))
    eng.dispose()
    bad = run(["audit", "verify"], tmp_path)
    assert bad.returncode == 1 and "entry 1" in bad.stdout


def test_unknown_account_and_role_are_refused(tmp_path):
    assert run(["token", "issue", "nobody"], tmp_path).returncode == 2
    r = run(["account", "add", "x", "--role", "proctor"], tmp_path)
    assert r.returncode == 2 and "institution_required" in r.stderr
