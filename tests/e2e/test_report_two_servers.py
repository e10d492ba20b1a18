"""The report to the centre between two real server processes (issue #17, R-PUB-2, R-AUDIT-1).

One process is the institution (the test's database, a batch locked and approved by the centre's
account there), the other the provincial centre (its own SQLite database). The centre registers
the institution's public keys and issues it a report token over HTTP; the institution's process,
configured with the centre's URL and the token, pushes the package by itself, and the centre
verifies and acknowledges it. Packages with one byte changed, signed by an unknown key, or whose
counts disagree with their files are each refused with their reason.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from examday import keys
from examday.accounts.services.accounts import Passwords, create_account, issue_token
from examday.actor import SYSTEM
from examday.registry.models import Institution
from scoring.report_models import ReportPush
from tests.conftest import empty_database
from tests.e2e.live import free_port
from tests.faults.support import ROOT
from tests.integration.scoring.scoring_world import build
from tests.integration.scoring.test_exports import AFTER_END

PROVINCE = "吉林"


class Proc:
    def __init__(self, db_url: str, data_dir: Path, at, *centre: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "tests.e2e.report_server", db_url, str(data_dir), str(self.port)]
        cmd += [at.isoformat(), repr(time.time()), *centre]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})

    def wait_up(self, timeout: float = 60) -> Proc:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode}"
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def approved(client, world, engine, clock):
    sw = build(client, world, engine, clock)
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()
    return sw


@pytest.fixture
def centre(tmp_path, clock):
    """The centre's own installation: its own database, its own account of 吉林."""
    folder = tmp_path / "centre"
    folder.mkdir()
    url = empty_database("sqlite", folder, None)
    from storage.db import make_engine

    eng = make_engine(url)
    with Session(eng) as db:
        acc = create_account(db, SYSTEM, clock.now(), Passwords(1, 1024), "jl-centre", "centre", None, PROVINCE)
        token = issue_token(db, acc, clock.now(), by=SYSTEM)
        db.commit()
    eng.dispose()
    proc = Proc(url, folder / "data", clock.now()).wait_up()
    yield proc, {"Authorization": f"Bearer {token}"}
    proc.stop()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files.items():
            z.writestr(n, d)
    return buf.getvalue()


def test_r_pub_2_locked_pushed_verified_acknowledged_and_broken_ones_refused(
    approved, centre, settings, engine, clock, db_url
):
    proc, centre_auth = centre
    with Session(engine) as db:
        uscc = db.get(Institution, approved.institution_id).uscc
    listed = approved.client.get(f"/api/v1/institutions/{approved.institution_id}/ticket-keys", headers=approved.admin)
    body = {"uscc": uscc, "province": PROVINCE, "name": "机构", "keys": listed.json()["keys"]}
    r = httpx.post(f"{proc.url}/api/v1/centre/institution-keys", json=body, headers=centre_auth)
    assert r.status_code == 201, r.text
    r = httpx.post(f"{proc.url}/api/v1/centre/report-tokens", json={"uscc": uscc}, headers=centre_auth)
    token = r.json()["report_token"]

    institution = Proc(db_url, settings.data_dir, clock.now(), proc.url, token).wait_up()
    try:
        deadline, push = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            with Session(engine) as db:
                push = db.exec(select(ReportPush).where(ReportPush.batch_id == approved.batch_id)).first()
            if push is not None and push.state != "pending" and push.state != "sent":
                break
            time.sleep(0.5)
        assert push is not None and push.state == "acknowledged", push
        received = httpx.get(f"{proc.url}/api/v1/centre/received-reports", headers=centre_auth).json()
        assert [(r["uscc"], r["batch_ref"], r["status"], r["sha256"]) for r in received] == [
            (uscc, approved.batch_id, "accepted", push.sha256)
        ]
        held = httpx.get(f"{proc.url}/api/v1/centre/checkpoints", params={"uscc": uscc}, headers=centre_auth).json()
        assert any(c["reason"] == "lock" for c in held)

        started = time.monotonic()
        r = httpx.get(f"{institution.url}/api/v1/batches/{approved.batch_id}/report.zip", headers=approved.admin)
        print(f"package: {len(r.content)} bytes in {time.monotonic() - started:.2f} s over HTTP")
        assert r.status_code == 200
        package = r.content
    finally:
        institution.stop()

    def send(data: bytes) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/zip"}
        return httpx.post(f"{proc.url}/api/v1/centre/reports", content=data, headers=headers)

    # One byte changed.
    files = members(package)
    files["results.csv"] = files["results.csv"].replace("合格".encode(), "不合格".encode(), 1)
    r = send(rezip(files))
    assert (r.status_code, r.json()["code"], r.json()["rule"]) == (422, "package_file_mismatch", "R-PUB-2")

    # Signed by a key the centre never registered.
    files = members(package)
    stranger = Ed25519PrivateKey.generate()
    sig = {"kid": "f" * 8, "signature": base64.urlsafe_b64encode(stranger.sign(files["manifest.json"])).decode()}
    files["manifest.sig"] = json.dumps(sig).encode()
    r = send(rezip(files))
    assert (r.status_code, r.json()["code"]) == (422, "unknown_institution_key")

    # Counts that disagree with the files, signed by the institution itself.
    files = members(package)
    manifest = json.loads(files["manifest.json"])
    manifest["counts"]["candidates"] += 1
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with Session(engine) as db:
        kid, signature = keys.sign(db, approved.institution_id, raw, clock.now())
        db.commit()
    files["manifest.json"], files["manifest.sig"] = raw, json.dumps({"kid": kid, "signature": signature}).encode()
    r = send(rezip(files))
    assert (r.status_code, r.json()["code"]) == (422, "package_counts_mismatch")

    received = httpx.get(f"{proc.url}/api/v1/centre/received-reports", headers=centre_auth).json()
    assert sorted(r["code"] for r in received if r["status"] == "refused") == [
        "package_counts_mismatch",
        "package_file_mismatch",
        "unknown_institution_key",
    ]
