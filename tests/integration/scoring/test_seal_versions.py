"""Seals keep verifying under the rules they were made with (封存版本): R-AUDIT-1, R-SCORE-3, R-ID-1.

Issue #15 made the exam day decide results (a candidate never admitted is absent, R-ID-1; an
incident voids, R-DISC-1). A batch sealed before that (seal v2, commit 6f9ff67) sealed results
computed from the stored scores alone; ``examday audit verify`` recomputed them under the new
rules and called an untouched seal broken wherever a candidate had no check-in on record —
every batch scored before the door's records counted. Now a seal records its version, and the
version names its rules: v1 and v2 are recomputed as the earlier code computed them, v3 (what a
lock seals now) under the exam day's rules, covering each part's verdict and its reason. The
check is never skipped: a changed score under an old seal still breaks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from examday import keys
from examday.clock import CST, iso
from examday.identity import id_digest
from examday.plans.models import Batch
from scoring.aggregate import ABSENT, candidate_result
from scoring.models import BatchSeal, ScoreEntry
from scoring.points import from_tenths, text
from scoring.results import batch_results
from scoring.seal import SEAL_V2, SEAL_VERSION, seal_digest
from scoring.services.entries import entry_items
from scoring.services.lock import _id_key, seal_payload, verify_seals
from tests.integration.scoring.test_triggers import _behind_the_triggers

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)
BROKEN = "seal broken: results, names, ID numbers or score entries changed since the lock"


@pytest.fixture
def locked(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    r = sw.lock()
    assert r.status_code == 200, r.text
    return sw


def earlier_v2_rows(db: Session, batch: Batch, id_key: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The seal rows exactly as the lock computed them before issue #15 (``seal_rows`` of commit
    6f9ff67): the result from the stored part scores alone, nothing of attendance or incidents."""

    def value(ps):
        if ps is None:
            return None
        if ps.status == "absent":
            return ABSENT
        return from_tenths(ps.score_tenths) if ps.status == "final" and ps.score_tenths is not None else None

    parts = batch.part_list()
    results: list[dict[str, Any]] = [
        {
            "batch": batch.id,
            "institution_id": batch.institution_id,
            "occupation": batch.occupation_code,
            "level": batch.level,
            "exam_date": batch.exam_date,
            "parts": parts,
            "config": batch.config,
        }
    ]
    for r in batch_results(db, batch):
        results.append(
            {
                "candidate_id": r.candidate.id,
                "ticket_number": r.candidate.ticket_number,
                "result": candidate_result({p: value(r.parts.get(p)) for p in parts}, parts),
                "parts": {
                    p: {
                        "status": ps.status if ps else None,
                        "score": text(ps.score_tenths) if ps else "",
                        "method": ps.method if ps else None,
                        "round": ps.round if ps else 0,
                    }
                    for p, ps in r.parts.items()
                },
                "name": r.candidate.name,
                "id_digest": id_digest(r.candidate.id_number, id_key),
            }
        )
    entries = [
        {
            "id": e.id,
            "candidate_id": e.candidate_id,
            "part": e.part,
            "examiner_id": e.examiner_staff_id,
            "version": e.version,
            "round": e.round,
            "items": entry_items(e),
            "total": text(e.total_tenths),
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "signature": e.signature,
            "at": iso(e.created_at),
        }
        for e in db.exec(select(ScoreEntry).where(ScoreEntry.batch_id == batch.id)).all()
    ]
    return results, entries


def sealed_before_issue_15(sw, engine) -> None:
    """The locked batch as one sealed before issue #15: the first candidate has no check-in on record
    (scoring did not read the door then), and its seal is v2 over the earlier rows, signed."""
    _behind_the_triggers(engine, "DELETE FROM attendance WHERE candidate_id = :c", c=sw.candidates[0])
    with Session(engine) as db:
        row = db.exec(select(BatchSeal).where(BatchSeal.batch_id == sw.batch_id)).one()
        batch = db.get(Batch, sw.batch_id)
        results, entries = earlier_v2_rows(db, batch, _id_key(db, row.kid))
        assert results[1]["result"] == "pass"  # sealed as a pass: the earlier rules never asked the door
        digest = seal_digest(results, entries, SEAL_V2)
        kid, signature = keys.sign(
            db, batch.institution_id, seal_payload(batch.id, digest, row.locked_at, SEAL_V2), row.locked_at
        )
        db.commit()
    _behind_the_triggers(
        engine,
        "UPDATE batch_seal SET version = :v, digest = :d, kid = :k, signature = :s WHERE batch_id = :b",
        v=SEAL_V2,
        d=digest,
        k=kid,
        s=signature,
        b=sw.batch_id,
    )


def test_a_seal_made_before_issue_15_still_verifies_under_its_own_rules_R_AUDIT_1(locked, engine):
    sealed_before_issue_15(locked, engine)
    with Session(engine) as db:
        assert verify_seals(db) == []


def test_a_changed_score_under_a_seal_made_before_issue_15_still_breaks_it_R_AUDIT_1(locked, engine):
    sealed_before_issue_15(locked, engine)
    _behind_the_triggers(
        engine, "UPDATE part_score SET score_tenths = 590 WHERE candidate_id = :c", c=locked.candidates[1]
    )
    with Session(engine) as db:
        assert verify_seals(db) == [f"batch {locked.batch_id}: {BROKEN}"]


def test_a_changed_name_under_a_seal_made_before_issue_15_still_breaks_it_R_AUDIT_1(locked, engine):
    sealed_before_issue_15(locked, engine)
    _behind_the_triggers(engine, "UPDATE candidate SET name = '冒名' WHERE id = :c", c=locked.candidates[2])
    with Session(engine) as db:
        assert verify_seals(db) == [f"batch {locked.batch_id}: {BROKEN}"]


def test_a_new_seal_covers_the_exam_days_verdicts_R_ID_1(locked, engine):
    # v3 seals the results as the exam day decided them: erasing a check-in after the lock breaks it.
    with Session(engine) as db:
        assert db.exec(select(BatchSeal.version)).one() == SEAL_VERSION == "examday-seal/v3"
        assert verify_seals(db) == []
    _behind_the_triggers(engine, "DELETE FROM attendance WHERE candidate_id = :c", c=locked.candidates[0])
    with Session(engine) as db:
        assert verify_seals(db) == [f"batch {locked.batch_id}: {BROKEN}"]


def test_a_batch_sealed_before_issue_15_is_shown_as_it_was_sealed_R_SCORE_3(locked, engine):
    """A locked batch's results are final: one sealed under the earlier rules (the first candidate a
    pass, their check-in never asked) is not rewritten as absent on the pages and exports by rules
    that came later; a batch sealed now shows the exam day's verdict."""
    sealed_before_issue_15(locked, engine)
    first = locked.candidates[0]
    with Session(engine) as db:
        shown = {r.candidate.id: r for r in batch_results(db, db.get(Batch, locked.batch_id))}
    assert shown[first].result == "pass" and shown[first].overrides == {}
    body = locked.client.get(f"/api/v1/batches/{locked.batch_id}/scores", headers=locked.admin).json()
    row = next(c for c in body["candidates"] if c["id"] == first)
    assert row["result"] == "pass"

    _behind_the_triggers(
        engine, "UPDATE batch_seal SET version = :v WHERE batch_id = :b", v=SEAL_VERSION, b=locked.batch_id
    )
    with Session(engine) as db:  # the same records under a v3 seal: the door's record decides
        shown = {r.candidate.id: r for r in batch_results(db, db.get(Batch, locked.batch_id))}
    assert shown[first].result == "absent"
