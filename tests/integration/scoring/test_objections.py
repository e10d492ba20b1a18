"""Objections during publicity, settled before the lock (R-PUB-1)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session, select

from examday.clock import CST
from scoring.models import Objection
from tests.support import assert_refusal

AFTER_END = datetime(2026, 12, 3, 9, 0, tzinfo=CST)  # publicity from 26 Nov ends 2 Dec


def objection(sw, part: str | None = "skill", candidate: int | None = None, reason: str = "对技能成绩有异议"):
    return sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/objections",
        headers=sw.admin,
        json={
            "candidate_id": sw.candidates[0] if candidate is None else candidate,
            "part": part,
            "reason": reason,
            "raised_by": "考生本人",
        },
    )


def resolve(sw, oid: int, decision: str, reason: str = "复核评分记录"):
    return sw.client.post(
        f"/api/v1/objections/{oid}/resolve", headers=sw.admin, json={"decision": decision, "reason": reason}
    )


@pytest.fixture
def published(sw):
    sw.ready_for_publicity()
    sw.publish()
    return sw


def test_no_objection_before_publicity(sw):
    sw.ready_for_publicity()
    assert_refusal(objection(sw), 409, "publicity_not_started", "R-PUB-1")


def test_no_objection_after_the_publicity_ends(published, clock):
    o = objection(published).json()  # one open objection keeps the batch from locking itself
    clock.at = AFTER_END
    assert_refusal(objection(published, candidate=published.candidates[1]), 409, "publicity_over", "R-PUB-1")
    assert o["status"] == "open"


# R-PUB-1: the lock is refused while an objection is open; a rejection needs a reason.
def test_rejected_objection_unblocks_the_lock(published, clock):
    sw = published
    o = objection(sw)
    assert o.status_code == 201, o.text
    clock.at = AFTER_END
    body = assert_refusal(sw.lock(), 409, "objection_open", "R-PUB-1")
    assert body["detail"]["violations"][0]["detail"] == {"open_objections": 1}
    assert sw.batch_status() == "publicity"
    assert_refusal(resolve(sw, o.json()["id"], "rejected", reason=""), 422, "reason_required")
    r = resolve(sw, o.json()["id"], "rejected", reason="评分记录完整，评分有据")
    assert r.json()["status"] == "rejected" and r.json()["resolution"] == "评分记录完整，评分有据"
    locked = sw.lock()
    assert locked.status_code == 200 and locked.json()["seal"]["trigger"] == "command"


def test_a_settled_objection_stays_settled(published):
    oid = objection(published).json()["id"]
    assert resolve(published, oid, "rejected").status_code == 200
    assert_refusal(resolve(published, oid, "upheld"), 409, "objection_settled", "R-PUB-1")


# R-PUB-1: an upheld objection is a re-score by the panel; open until the re-score is final.
def test_upheld_objection_rescored_by_the_panel(published, clock, engine):
    sw = published
    oid = objection(sw).json()["id"]
    r = resolve(sw, oid, "upheld", reason="接线工艺项漏评")
    assert r.json()["status"] == "rescoring"
    assert sw.part(sw.candidates[0])["status"] == "rescore"
    clock.at = AFTER_END
    assert_refusal(sw.lock(), 409, "objection_open")
    for i, t in enumerate((86, 88, 90)):
        assert sw.enter(i, sw.candidates[0], t).status_code == 201
    with Session(engine) as db:
        assert db.get(Objection, oid).status == "upheld"
    assert sw.lock().status_code == 200
    part = sw.part(sw.candidates[0])
    assert (part["status"], part["score"], part["round"]) == ("final", 88.0, 1)
    public = sw.client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert public["candidates"][0]["parts"]["skill"] == 88.0


def test_an_upheld_theory_objection_waits_for_the_exam_systems_re_marking(published, engine):
    # R-PUB-1: no panel re-scores an imported theory score; the objection stays open (rescoring)
    # until the re-marked file is countersigned (tests/integration/scoring/test_theory_objections.py).
    oid = objection(published, part="theory").json()["id"]
    assert resolve(published, oid, "upheld").json()["status"] == "rescoring"
    assert published.part(published.candidates[0], "theory")["status"] == "final"
    with Session(engine) as db:
        assert db.exec(select(Objection.status)).one() == "rescoring"


def test_objections_are_listed(published):
    objection(published)
    rows = published.client.get(f"/api/v1/batches/{published.batch_id}/objections", headers=published.admin).json()
    assert [(o["candidate_id"], o["status"]) for o in rows] == [(published.candidates[0], "open")]


def test_an_objection_places_a_legal_hold_on_its_batch(published, engine):
    # R-ARCH-1: a disputed batch is held from the purge; only a hand release lifts it.
    from storage.holds import LegalHold

    o = objection(published)
    assert o.status_code == 201, o.text
    with Session(engine) as db:
        holds = db.exec(
            select(LegalHold).where(LegalHold.object_type == "batch", LegalHold.object_id == str(published.batch_id))
        ).all()
    assert [h.source for h in holds] == [f"objection:{o.json()['id']}"]
