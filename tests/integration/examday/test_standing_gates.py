"""R-INST-2: an institution whose filing is suspended, revoked or expired runs no exam.

Issue #15 reproduced it: after the centre suspended the institution, check-in still
answered ``200 accepted`` and scoring, publicity and certificates went on. Now every
exam-day action answers ``institution_not_in_standing``; what was recorded before stays,
the suspended institution still reads and exports, and the centre lists the blocked batch.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from examday.registry.models import Filing
from examday.registry.standing import exam_day_refusal
from kiosk.models import Attendance, CheckIn
from proctor.models import Incident
from tests.integration.proctor.support import check_in, room_world
from tests.support import assert_refusal


@pytest.fixture
def rw(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40, inside the entry window of the 09:00 theory session
    return rw


def _filing_action(client, rw, action: str, reason: str = "监考安排不规范，整改"):
    r = client.post(
        f"/api/v1/institutions/{rw.institution_id}/filing",
        headers=rw.h("centre"),
        json={"action": action, "reason": reason},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _desk(client, rw, cand, nonce: str):
    return client.post(
        "/api/v1/checkins",
        headers=rw.h("kiosk"),
        json={
            "ticket_number": cand.ticket_number,
            "batch_id": rw.batch_id,
            "id_number": cand.id_number,
            "kiosk_nonce": nonce,
        },
    )


def test_suspended_institution_runs_no_exam_day_action_R_INST_2(client, db, rw, clock):
    first, second = rw.in_room("T01")[:2]
    check_in(client, rw, first)  # recorded while in standing: it stays
    assert _filing_action(client, rw, "suspend")["filing_state"] == "suspended"

    # Check-in: refused with its code, and the attempt is still stored (R-DAY-1).
    body = assert_refusal(_desk(client, rw, second, "n-suspended"), 409, "institution_not_in_standing", "R-INST-2")
    assert body["detail"]["filing_state"] == "suspended"
    stored = db.exec(select(CheckIn).where(CheckIn.kiosk_nonce == "n-suspended")).one()
    assert (stored.status, stored.code) == ("refused", "institution_not_in_standing")
    admitted = {a.candidate_id for a in db.exec(select(Attendance)).all()}
    db.commit()
    assert admitted == {first.id}

    clock.advance(minutes=30)  # 09:10, the session running
    incident = {"room_code": "T01", "candidate_id": first.id, "kind": "disturbance", "description": "喧哗"}
    r = client.post(f"/api/v1/batches/{rw.batch_id}/incidents", headers=rw.h("p1"), json=incident)
    assert_refusal(r, 409, "institution_not_in_standing", "R-INST-2")
    assert db.exec(select(Incident)).all() == []
    db.commit()

    bid = rw.batch_id
    admin, examiner = rw.h("admin"), rw.h("evaluator")
    entry = {"batch_id": bid, "candidate_id": first.id, "part": "skill", "items": {"A1": 30}, "pin": "246810"}
    for resp in (
        client.post("/api/v1/score-entries", json=entry, headers=examiner),
        client.post(
            f"/api/v1/batches/{bid}/absences", json={"candidate_id": second.id, "part": "skill"}, headers=admin
        ),
        client.post(f"/api/v1/batches/{bid}/publicity", headers=admin),
        client.post(f"/api/v1/batches/{bid}/lock", headers=admin),
        client.post(
            f"/api/v1/batches/{bid}/certificates",
            json={"kind": "Y", "institution_code": "0000", "site_serial": "000001"},
            headers=admin,
        ),
    ):
        assert_refusal(resp, 409, "institution_not_in_standing", "R-INST-2")

    # A suspended institution keeps its data: it still reads and exports.
    assert client.get(f"/api/v1/batches/{bid}/scores", headers=admin).status_code == 200
    assert client.get(f"/api/v1/batches/{bid}/results.csv", headers=admin).status_code == 200
    assert client.get(f"/api/v1/batches/{bid}/rooms", headers=admin).status_code == 200

    # The centre sees the blocked batch; the institution's own office sees it too.
    listed = client.get("/api/v1/centre/blocked-batches", headers=rw.h("centre")).json()
    assert [(b["id"], b["filing_state"], b["code"], b["rule"]) for b in listed] == [
        (bid, "suspended", "institution_not_in_standing", "R-INST-2")
    ]
    assert client.get("/api/v1/centre/blocked-batches", headers=rw.h("centre_other")).json() == []

    # Reinstated, the day goes on.
    _filing_action(client, rw, "reinstate")
    assert client.get("/api/v1/centre/blocked-batches", headers=rw.h("centre")).json() == []
    r = client.post(f"/api/v1/batches/{bid}/incidents", headers=rw.h("p1"), json=incident)
    assert r.status_code == 201, r.text


def test_revoked_institution_check_in_refused_R_INST_2(client, rw):
    _filing_action(client, rw, "revoke", "弄虚作假")
    r = _desk(client, rw, rw.in_room("T01")[0], "n-revoked")
    assert assert_refusal(r, 409, "institution_not_in_standing", "R-INST-2")["detail"]["filing_state"] == "revoked"


def test_expired_filing_check_in_refused_R_INST_2(client, db, rw):
    for f in db.exec(select(Filing).where(Filing.institution_id == rw.institution_id)).all():
        f.valid_until = date(2026, 11, 25)  # the day before the exam
        db.add(f)
    db.commit()
    r = _desk(client, rw, rw.in_room("T01")[0], "n-expired")
    assert assert_refusal(r, 409, "institution_not_in_standing", "R-INST-2")["detail"]["filing_state"] == "expired"


@pytest.mark.parametrize(
    "status, until, blocked",
    [
        ("active", "2027-12-31", None),
        ("suspended", "2027-12-31", "suspended"),
        ("revoked", "2027-12-31", "revoked"),
        ("active", "2026-11-25", "expired"),
        ("active", "2026-11-26", None),  # its last day still runs the exam
    ],
)
def test_the_one_standing_decision_R_INST_2(status, until, blocked):
    filing = {"id": 1, "status": status, "valid_from": date(2025, 1, 1), "valid_until": date.fromisoformat(until)}
    refusal = exam_day_refusal([filing], date(2026, 11, 26), "checkin")
    assert (refusal.detail["filing_state"] if refusal else None) == blocked
    if refusal:
        assert (refusal.code, refusal.rule, refusal.status) == ("institution_not_in_standing", "R-INST-2", 409)
