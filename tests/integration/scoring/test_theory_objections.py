"""Theory scores during publicity (公示期间的理论成绩): R-PUB-1, R-SCORE-3, R-PANEL-1.

Issue #15 left two gaps after the theory versions. An objection (异议) to a theory score could
not be upheld at all (409 ``no_panel``): the exam system re-marks the paper, but nothing let the
re-marked score in. And publicity could start while a correction waited for the chief's
countersignature, which then could never be given (``scores_published``).

Now an upheld theory objection (status ``rescoring``) lets the office import a correction during
publicity that touches only the candidates with such objections, its reason naming them; the
chief countersigns it as any version; then the objection is ``upheld`` and the result changes,
shown as a correction. Any other change during publicity is refused ``scores_published``.
Publicity does not start while a theory version awaits the chief (``theory_draft_pending``).
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlmodel import Session, col, select

from examday.audit import AuditEntry
from examday.clock import CST
from scoring.models import Objection
from tests.support import assert_refusal

AFTER_END = datetime(2026, 12, 3, 9, 0, tzinfo=CST)  # publicity from 26 Nov ends 2 Dec


def objection(sw, candidate: int, part: str = "theory"):
    r = sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/objections",
        headers=sw.admin,
        json={"candidate_id": candidate, "part": part, "reason": "理论成绩有误，申请复核", "raised_by": "考生本人"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def resolve(sw, oid: int, decision: str = "upheld", reason: str = "考试系统重新阅卷"):
    return sw.client.post(
        f"/api/v1/objections/{oid}/resolve", headers=sw.admin, json={"decision": decision, "reason": reason}
    )


def one(sw, candidate: int) -> dict:
    return next(c for c in sw.scores()["candidates"] if c["id"] == candidate)


def rows_with(sw, changed: dict[int, str]) -> list[tuple[str, str]]:
    """The whole batch's theory file, 80 for everyone but the candidates (by index) given."""
    return [(t, changed.get(i, "80")) for i, t in enumerate(sw.tickets)]


@pytest.fixture
def published(sw):
    sw.ready_for_publicity()
    sw.publish()
    return sw


def test_an_upheld_theory_objection_changes_the_score_through_a_countersigned_version_R_PUB_1(published, engine, clock):
    sw = published
    victim = sw.candidates[0]
    oid = objection(sw, victim)
    r = resolve(sw, oid)
    assert r.status_code == 200, r.text  # was 409 no_panel: a theory objection could never be upheld
    assert r.json()["status"] == "rescoring" and r.json()["part"] == "theory"
    # Still open: the lock waits for the re-marked score (R-PUB-1).
    clock.at = AFTER_END
    assert_refusal(sw.lock(), 409, "objection_open", "R-PUB-1")

    # A correction of anyone else is still refused, even alongside the objector's.
    r = sw.import_theory(rows_with(sw, {0: "92", 1: "59"}), reason="复核")
    body = assert_refusal(r, 409, "scores_published", "R-SCORE-3")
    assert body["detail"]["tickets"] == [sw.tickets[1]]
    assert_refusal(sw.import_theory(rows_with(sw, {0: "92"})), 422, "reason_required", "R-SCORE-3")

    r = sw.import_theory(rows_with(sw, {0: "92"}), reason="考试系统复核第3题")
    assert r.status_code == 201, r.text
    draft = r.json()
    assert f"#{oid}" in draft["reason"] and draft["objections"] == [oid]
    assert one(sw, victim)["parts"]["theory"]["score"] == 80.0  # not the score until the chief signs
    with Session(engine) as db:
        assert db.get(Objection, oid).status == "rescoring"

    r = sw.countersign(draft["import_id"])
    assert r.status_code == 200, r.text
    got = one(sw, victim)
    assert got["parts"]["theory"]["score"] == 92.0
    (c,) = got["parts"]["theory"]["corrections"]
    assert (c["version"], c["before"], c["after"], c["objection_id"]) == (
        2,
        ["final", "80.0"],
        ["final", "92.0"],
        oid,
    )
    with Session(engine) as db:
        o = db.get(Objection, oid)
        assert o.status == "upheld" and "v2" in o.resolution
        entry = db.exec(
            select(AuditEntry).where(AuditEntry.action == "theory_scores.countersign").order_by(col(AuditEntry.seq))
        ).all()[-1]
    diff = json.loads(entry.diff)
    assert diff["objections_settled"] == [oid] and diff["changes"][0]["objection_id"] == oid
    assert all(x["parts"]["theory"]["score"] == 80.0 for x in sw.scores()["candidates"] if x["id"] != victim)
    # Settled: nothing holds the batch any more, so it locks (here on the next request, by itself),
    # and the sealed result is the corrected one.
    sw.lock()
    assert sw.batch_status() == "locked"
    public = sw.client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert next(p for p in public["candidates"] if p["ticket_number"] == sw.tickets[0])["parts"]["theory"] == 92.0


def test_without_an_upheld_theory_objection_nothing_changes_during_publicity_R_SCORE_3(published):
    sw = published
    # An objection only raised, or upheld for the skill part, opens no theory correction.
    objection(sw, sw.candidates[0])
    skill = objection(sw, sw.candidates[1], part="skill")
    assert resolve(sw, skill).status_code == 200
    r = sw.import_theory(rows_with(sw, {0: "92"}), reason="复核")
    assert_refusal(r, 409, "scores_published", "R-SCORE-3")
    assert {c["parts"]["theory"]["score"] for c in sw.scores()["candidates"]} == {80.0}


def test_a_locked_batch_takes_no_theory_version_R_SCORE_3(published, clock):
    sw = published
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    assert_refusal(sw.import_theory(rows_with(sw, {0: "92"}), reason="复核"), 409, "locked", "R-SCORE-3")


def test_publicity_waits_for_the_chief_to_countersign_a_pending_version_R_SCORE_3(sw):
    sw.ready_for_publicity()
    draft = sw.import_theory(rows_with(sw, {0: "59"}), reason="考试系统阅卷复核").json()
    r = sw.client.post(f"/api/v1/batches/{sw.batch_id}/publicity", headers=sw.admin)
    body = assert_refusal(r, 409, "theory_draft_pending", "R-SCORE-3")
    assert body["detail"]["versions"] == [2]
    assert sw.batch_status() == "filed"
    assert sw.countersign(draft["import_id"]).status_code == 200
    sw.publish()
    assert one(sw, sw.candidates[0])["parts"]["theory"]["score"] == 59.0
