"""Issue #19: an installation filled through the API — the demo's locked batch, a live batch whose
kiosks check candidates in with photos, cameras sending video segments — is backed up while
check-ins continue, restored into an empty folder on SQLite and on PostgreSQL, and the audit
chain (R-AUDIT-1), the results export, the video coverage and every table's rows are the same."""

from __future__ import annotations

import base64
import io
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

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
