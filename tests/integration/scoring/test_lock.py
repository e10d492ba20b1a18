"""The lock and its seal (R-PUB-1, R-SCORE-3, R-AUDIT-1)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlmodel import Session, select

from examday import keys
from examday.clock import CST
from examday.plans.models import Batch
from scoring.models import BatchSeal
from scoring.seal import SEAL_V1, SEAL_VERSION, seal_digest
from scoring.services.lock import seal_payload, seal_rows, verify_seals
from tests.integration.scoring.test_triggers import _behind_the_triggers
from tests.support import assert_refusal

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)


@pytest.fixture
def published(sw):
    sw.ready_for_publicity()
    sw.publish()
    return sw


# R-PUB-1: not before the publicity, nor before it ends.
def test_lock_refused_before_publicity_and_before_its_end(sw, clock):
    sw.ready_for_publicity()
    assert_refusal(sw.lock(), 409, "publicity_not_over", "R-PUB-1")
    sw.publish()
    clock.at = datetime(2026, 12, 2, 23, 59, tzinfo=CST)  # the last day of publicity is still publicity
    body = assert_refusal(sw.lock(), 409, "publicity_not_over", "R-PUB-1")
    assert body["detail"]["violations"][0]["detail"]["lock_from"] == "2026-12-03"
    assert sw.batch_status() == "publicity"


def test_lock_stores_a_signed_seal(published, clock, engine):
    clock.at = AFTER_END
    r = published.lock()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["locked_at"] == "2026-12-03T08:30:00+08:00"
    seal = body["seal"]
    assert (seal["results"], seal["entries"], seal["trigger"]) == (4, 12, "command")
    assert published.batch_status() == "locked"
    with Session(engine) as db:
        row = db.exec(select(BatchSeal)).one()
        assert row.digest == seal["digest"]
        assert keys.verify(db, row.kid, seal_payload(published.batch_id, row.digest, row.locked_at), row.signature)
        assert verify_seals(db) == []
    # The seal is printed on the exports and the public page.
    csv_text = published.client.get(
        f"/api/v1/batches/{published.batch_id}/results.csv", headers=published.admin
    ).content.decode("utf-8-sig")
    assert seal["digest"] in csv_text and seal["signature"] in csv_text
    public = published.client.get(f"/public/batches/{published.batch_id}/publicity")
    assert public.json()["seal"]["digest"] == seal["digest"]
    html = published.client.get(f"/public/batches/{published.batch_id}/publicity.html").text
    assert seal["digest"] in html


# R-PUB-1: the batch locks itself on the first request after the end.
def test_first_request_after_the_end_locks_the_batch(published, clock):
    clock.at = AFTER_END
    public = published.client.get(f"/public/batches/{published.batch_id}/publicity").json()
    assert public["status"] == "locked" and public["seal"]["trigger"] == "auto"
    assert_refusal(published.lock(), 409, "locked", "R-SCORE-3")


def test_no_automatic_lock_while_an_objection_is_open(published, clock):
    published.client.post(
        f"/api/v1/batches/{published.batch_id}/objections",
        headers=published.admin,
        json={"candidate_id": published.candidates[0], "part": "skill", "reason": "异议"},
    )
    clock.at = AFTER_END
    public = published.client.get(f"/public/batches/{published.batch_id}/publicity").json()
    assert public["status"] == "publicity" and public["seal"] is None


# R-SCORE-3: after the lock, the API refuses every change with `locked`.
def test_after_the_lock_every_change_is_refused(published, clock, engine):
    sw = published
    oid = sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/objections",
        headers=sw.admin,
        json={"candidate_id": sw.candidates[0], "part": "skill", "reason": "异议"},
    ).json()["id"]
    sw.client.post(
        f"/api/v1/objections/{oid}/resolve", headers=sw.admin, json={"decision": "rejected", "reason": "评分有据"}
    )
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    with Session(engine) as db:
        digest = db.exec(select(BatchSeal.digest)).one()
    b, c = sw.batch_id, sw.candidates[0]
    attempts = [
        sw.rubric(),
        sw.panel(),
        sw.enter(1, c, 90),
        sw.theory(),
        sw.client.post(f"/api/v1/batches/{b}/absences", headers=sw.admin, json={"candidate_id": c, "part": "skill"}),
        sw.client.post(f"/api/v1/batches/{b}/publicity", headers=sw.admin),
        sw.client.post(
            f"/api/v1/batches/{b}/objections",
            headers=sw.admin,
            json={"candidate_id": c, "part": "skill", "reason": "x"},
        ),
        sw.client.post(
            f"/api/v1/objections/{oid}/resolve", headers=sw.admin, json={"decision": "upheld", "reason": "x"}
        ),
        sw.client.post(
            f"/api/v1/batches/{b}/arbitrations/{c}/skill",
            headers=sw.scorer(0),
            json={"action": "rescore", "reason": "x"},
        ),
        sw.lock(),
    ]
    for resp in attempts:
        assert_refusal(resp, 409, "locked", "R-SCORE-3")
    with Session(engine) as db:
        assert verify_seals(db) == []
        assert db.exec(select(BatchSeal.digest)).one() == digest


def test_exports_before_the_lock_say_they_are_not_sealed(published):
    text = published.client.get(
        f"/api/v1/batches/{published.batch_id}/results.csv", headers=published.admin
    ).content.decode("utf-8-sig")
    assert "not locked" in text


def test_theory_file_after_the_lock_is_refused_and_nothing_read(published, clock):
    clock.at = AFTER_END
    published.lock()
    r = published.client.post(
        f"/api/v1/batches/{published.batch_id}/theory-scores",
        headers=published.admin,
        files={"file": ("t.csv", io.BytesIO(b"garbage"), "text/csv")},
    )
    assert_refusal(r, 409, "locked")


# Finding 6 (issue #14), R-AUDIT-1: a new seal records its version (v2 added names and keyed ID digests,
# never the numbers; v3, issue #15, the exam day's verdicts: tests/integration/scoring/test_seal_versions.py);
# a seal made before, as v1, still verifies as v1 — and still catches a changed score.
def test_seals_record_their_version_and_old_v1_seals_still_verify(published, clock, engine):
    clock.at = AFTER_END
    assert published.lock().json()["seal"]["version"] == SEAL_VERSION
    with Session(engine) as db:
        row = db.exec(select(BatchSeal)).one()
        assert row.version == SEAL_VERSION
        batch = db.get(Batch, published.batch_id)
        results, entries = seal_rows(db, batch, SEAL_V1)
        assert all("name" not in r and "id_digest" not in r for r in results)
        digest = seal_digest(results, entries, SEAL_V1)
        kid, signature = keys.sign(
            db, batch.institution_id, seal_payload(batch.id, digest, row.locked_at, SEAL_V1), row.locked_at
        )
    # The row as the lock wrote it before versions were recorded (the migration's default is v1).
    _behind_the_triggers(
        engine,
        "UPDATE batch_seal SET version = 'examday-seal/v1', digest = :d, kid = :k, signature = :s WHERE batch_id = :b",
        d=digest,
        k=kid,
        s=signature,
        b=published.batch_id,
    )
    with Session(engine) as db:
        assert verify_seals(db) == []
    csv_text = published.client.get(
        f"/api/v1/batches/{published.batch_id}/results.csv", headers=published.admin
    ).content.decode("utf-8-sig")
    assert SEAL_V1 in csv_text and digest in csv_text
    _behind_the_triggers(engine, "UPDATE part_score SET score_tenths = 990 WHERE batch_id = :b", b=published.batch_id)
    with Session(engine) as db:
        assert verify_seals(db) == [
            f"batch {published.batch_id}: seal broken: results, names, ID numbers or score entries changed since the lock"
        ]
