"""Issue #19: an installation filled through the API — the demo's locked batch, a live batch whose
kiosks check candidates in with photos, cameras sending video segments — is backed up while
check-ins continue, restored into an empty folder on SQLite and on PostgreSQL, and the audit
chain (R-AUDIT-1), the results export, the video coverage and every table's rows are the same."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import actor_of
from examday.app import create_app
from examday.cli_backup import blob_root, installation_checks
from examday.demo.live import DemoDay
from examday.demo.seed import seed_demo
from examday.plans.models import Batch
from proctor.services.video import batch_coverage
from scoring.exports import results_csv
from storage import backup_facts as facts
from storage.backup import last_backup, take_backup
from storage.backup_restore import restore, verify_backup
from storage.db import make_engine, migrate
from tests.e2e.live import live
from tests.integration.storage.backup_support import BACKENDS, installation, new_database


class PhotoDay(DemoDay):
    """The demo's kiosks, each check-in with the photo a kiosk takes (a JPEG's bytes)."""

    def _arrive(self, a) -> None:
        photo = base64.b64encode(b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes * 8).decode()
        r = self.client.post(
            "/api/v1/checkins",
            json={"ticket": a.qr, "id_number": a.id_number, "kiosk_nonce": uuid.uuid4().hex, "photo": photo},
            headers={"Authorization": f"Bearer {self.tokens[a.kiosk]}"},
        )
        self.results.append((a, "accepted" if r.status_code == 200 else str(r.json().get("code"))))


def play(sim: DemoDay, clock, until, step: float = 20.0) -> None:
    while clock.now() < until:
        clock.advance(seconds=step)
        sim.run_due(clock.now())


def checkins(engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT COUNT(*) FROM checkin")).scalar_one())


def snapshot_of(url: str, clock) -> dict:
    """What must survive a restore: every table's rows, the audit head, the locked batch's results
    export and the live batch's video coverage, as the office reads them."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            counts, head = facts.row_counts(c), facts.audit_head(c)
        with Session(engine) as db:
            office = actor_of(db.exec(select(Account).where(Account.username == "office")).one())
            batches = db.exec(select(Batch).order_by(Batch.id)).all()
            locked = [b.id for b in batches if b.status == "locked"]
            live_batch = next(b.id for b in batches if b.status != "locked")
            exports = {bid: results_csv(db, office, bid) for bid in locked}
            coverage = batch_coverage(db, office, live_batch, clock.now())
    finally:
        engine.dispose()
    return {"counts": counts, "head": head, "exports": exports, "coverage": coverage}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_taken_during_check_ins_restores_into_an_empty_folder_identical(backend, tmp_path, clock):
    with (
        new_database(backend, tmp_path / "src") as src_url,
        new_database(backend, tmp_path / "during") as during_url,
        new_database(backend, tmp_path / "after") as after_url,
    ):
        migrate(src_url)
        settings = installation(src_url, tmp_path / "src")
        app = create_app(settings, clock)
        engine = app.state.engine
        made = seed_demo(engine, settings, clock, io.StringIO())
        assert made and made["live"]
        with live(app) as url:
            sim = PhotoDay(settings, url, engine=engine, now=clock.now(), segment_seconds=120)
            play(sim, clock, made["start"] - timedelta(minutes=20))
            before = checkins(engine)
            assert before > 0

            # The door keeps going in another thread while the backup is taken.
            done = threading.Event()

            def door() -> None:
                play(sim, clock, made["start"] + timedelta(minutes=18), step=5.0)
                done.set()

            t = threading.Thread(target=door)
            t.start()
            deadline = time.monotonic() + 30
            while checkins(engine) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            at_start = checkins(engine)
            during = take_backup(settings.database_url, settings.data_dir, blob_root=blob_root(settings))
            at_end = checkins(engine)
            t.join(120)
            assert done.is_set()
            sim.client.close()
        after_door = checkins(engine)
        assert before < at_start <= during.manifest["tables"]["checkin"] <= at_end < after_door
        assert during.manifest["blobs"]["copied"] > 0 and during.manifest["video"]["segments"] > 0

        # 1. The backup taken mid-stream restores whole: its counts, its head, a prefix of the live chain.
        target = installation(during_url, tmp_path / "during")
        v, copied = restore(during.path, during_url, blob_root(target), [installation_checks])
        assert v.ok, v.problems
        assert copied == during.manifest["blobs"]["copied"]
        assert installation_checks(during_url) == []  # `examday audit verify` holds (R-AUDIT-1)
        restored = make_engine(during_url)
        with restored.connect() as c:
            assert facts.row_counts(c) == during.manifest["tables"]
            heads = facts.audit_heads(c)
        restored.dispose()
        assert heads == during.manifest["audit_heads"] and len(heads) > 1  # issue #18: a chain per institution
        with engine.connect() as c:
            for chain, head in heads.items():  # each chain of the backup is a prefix of the live one
                live_hash = c.execute(
                    text("SELECT hash FROM auditentry WHERE chain = :c AND chain_seq = :s"),
                    {"c": int(chain), "s": head["seq"]},
                ).scalar_one()
                assert live_hash == head["hash"]

        # 2. Once the door is quiet, a backup restored elsewhere is the installation itself.
        engine.dispose()
        final = take_backup(settings.database_url, settings.data_dir, blob_root=blob_root(settings))
        other = installation(after_url, tmp_path / "after")
        v2, _ = restore(final.path, after_url, blob_root(other), [installation_checks])
        assert v2.ok, v2.problems
        source, copy = snapshot_of(src_url, clock), snapshot_of(after_url, clock)
        assert copy["counts"] == source["counts"] and copy["head"] == source["head"]
        assert copy["exports"] == source["exports"] and source["exports"]
        assert copy["coverage"] == source["coverage"]
        photos = sorted(
            p.relative_to(settings.data_dir / "blobs") for p in (settings.data_dir / "blobs").rglob("*.jp*g")
        )
        assert photos and photos == sorted(
            p.relative_to(other.data_dir / "blobs") for p in (other.data_dir / "blobs").rglob("*.jp*g")
        )
        when, path, ok = last_backup(settings.data_dir)  # what the office page will show
        assert path == final.path and ok and when.isoformat() == final.manifest["created_at"]

        # `backup verify` says the same of both.
        assert verify_backup(during.path, [installation_checks], src_url).ok
        assert verify_backup(final.path, [installation_checks], src_url).ok


def test_restore_refuses_an_installation_in_use_and_changes_nothing(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'a' / 'examday.db'}"
    (tmp_path / "a").mkdir()
    migrate(url)
    settings = installation(url, tmp_path / "a")
    engine = make_engine(url)
    seed_demo(engine, settings, clock, io.StringIO())
    made = take_backup(url, settings.data_dir, blob_root=blob_root(settings))
    with engine.begin() as c:
        c.execute(text("UPDATE institution SET name = 'changed since' WHERE id = 1"))
    engine.dispose()
    from storage.backup_archive import BackupDamaged

    with pytest.raises(BackupDamaged, match="in use"):
        restore(made.path, url, blob_root(settings), [installation_checks])
    engine = make_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM institution WHERE id = 1")).scalar_one() == "changed since"
    engine.dispose()
    v, _ = restore(made.path, url, blob_root(settings), [installation_checks], force=True)
    assert v.ok, v.problems
    engine = make_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT name FROM institution WHERE id = 1")).scalar_one() != "changed since"
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_lists_the_video_segments_and_public_keys_as_the_installation_holds_them(backend, tmp_path, clock):
    """R-AUDIT-1 / issue #19: what a backup keeps by reference is the installation's own record. Its
    ``video/segments.json`` lists every stored segment with the path and SHA-256 the recorder hooks
    gave (and each file on disk still has that SHA-256); its ``keys/public-keys.json`` holds the
    public keys the installation serves to kiosks, a revoked one marked so, with which every admission
    ticket and every lock's seal verifies — and no private half."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from litestar.testing import TestClient

    from examday import ticket_token
    from examday.accounts.services.accounts import find_account, issue_token
    from examday.actor import SYSTEM
    from proctor.video_models import Segment
    from scoring.models import BatchSeal
    from scoring.services.lock import seal_payload

    with new_database(backend, tmp_path / "src") as url:
        migrate(url)
        settings = installation(url, tmp_path / "src")
        app = create_app(settings, clock)
        engine = app.state.engine
        made = seed_demo(engine, settings, clock, io.StringIO())
        assert made and made["live"]
        with TestClient(app) as client:
            sim = DemoDay(settings, "", engine=engine, now=clock.now(), segment_seconds=120, client=client)
            play(sim, clock, made["start"], step=60.0)  # the theory rooms' cameras from 08:00 to the start
            with Session(engine) as db:
                office = issue_token(db, find_account(db, "office"), clock.now(), by=SYSTEM)
                iid = db.exec(select(Batch)).first().institution_id  # type: ignore[union-attr]
                db.commit()
            # A key rotated in and revoked through the office's API: listed in the backup as revoked.
            admin = {"Authorization": f"Bearer {office}"}
            new = client.post(f"/api/v1/institutions/{iid}/ticket-keys/rotate", headers=admin)
            assert new.status_code == 200, new.text
            gone = client.post(f"/api/v1/institutions/{iid}/ticket-keys/{new.json()['kid']}/revoke", headers=admin)
            assert gone.status_code == 200, gone.text
            served = client.get(f"/api/v1/institutions/{iid}/ticket-keys", headers=admin).json()

        result = take_backup(settings.database_url, settings.data_dir, blob_root=blob_root(settings))
        with tarfile.open(result.path, "r:gz") as tar:
            raw_segments = tar.extractfile("video/segments.json").read()  # type: ignore[union-attr]
            raw_keys = tar.extractfile("keys/public-keys.json").read()  # type: ignore[union-attr]
        listed, listed_keys = json.loads(raw_segments), json.loads(raw_keys)

        with Session(engine) as db:
            stored = db.exec(
                select(Segment).where(col(Segment.purged_at).is_(None), Segment.path != "").order_by(col(Segment.id))
            ).all()
            seals = db.exec(select(BatchSeal)).all()
        engine.dispose()

        # The segments: one entry per stored segment, its path and SHA-256 the row's, the file still that.
        finished = [s for s in stored if s.sha256]
        assert len(finished) >= 10 and len(listed) == len(stored) == result.manifest["video"]["segments"]
        assert [(s["id"], s["camera_id"], s["path"], s["sha256"], s["size"], s["state"]) for s in listed] == [
            (s.id, s.camera_id, s.path, s.sha256, s.size, s.state) for s in stored
        ]
        assert result.manifest["video"]["bytes"] == sum(s.size or 0 for s in stored)
        for s in listed:
            if s["sha256"]:
                data = Path(s["path"]).read_bytes()
                assert Path(s["path"]).is_relative_to(settings.data_dir / "video")
                assert (hashlib.sha256(data).hexdigest(), len(data)) == (s["sha256"], s["size"])

        # The keys: those the installation serves, the revoked one marked, no private half.
        assert b"PRIVATE" not in raw_keys and all("private_key_pem" not in k for k in listed_keys)
        assert len(listed_keys) == result.manifest["public_keys"] >= 2
        assert {k["kid"]: k["public_key"] for k in listed_keys if k["revoked_at"] is None} == {
            k["kid"]: k["public_key"] for k in served["keys"]
        }
        assert [k["kid"] for k in listed_keys if k["revoked_at"] is not None] == served["revoked_kids"]
        assert served["revoked_kids"] == [new.json()["kid"]]
        revoked = next(k for k in listed_keys if k["revoked_at"] is not None)
        assert revoked["public_key"] == new.json()["public_key"] and revoked["institution_id"] == iid
        public = {k["kid"]: k["public_key"] for k in listed_keys if k["revoked_at"] is None}
        revoked_kids = {k["kid"] for k in listed_keys if k["revoked_at"] is not None}
        for a in sim.arrivals:  # every admission ticket of the day verifies offline with the backup's keys
            assert ticket_token.verify(a.qr, public, revoked_kids).ticket_number == a.ticket_number
        assert seals  # every lock's seal verifies with the backup's key of its kid (R-SCORE-3)
        for seal in seals:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public[seal.kid]))
            signature = base64.urlsafe_b64decode(seal.signature + "=" * (-len(seal.signature) % 4))
            key.verify(signature, seal_payload(seal.batch_id, seal.digest, seal.locked_at, seal.version))
