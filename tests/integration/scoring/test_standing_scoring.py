"""R-INST-2: arbitration and the settling of objections are exam-day actions too.

Issue #15: the standing gate (``examday.registry.standing``) refused check-in, incidents,
score entry, publicity, the lock and certificates, but not the chief's arbitration nor the
office settling an objection: a suspended institution still re-scored. Now both answer
``institution_not_in_standing``. An objection is still recorded (the candidate's complaint
is kept; settling it waits for the filing to be restored).
"""

from __future__ import annotations

from sqlmodel import Session, select

from scoring.models import ArbitrationStep, Objection
from tests.integration.scoring.test_objections import objection, resolve
from tests.support import assert_refusal, bearer


def suspend(sw) -> None:
    centre = bearer(sw.world.token("centre-suspends", "centre", province="吉林"))
    r = sw.client.post(
        f"/api/v1/institutions/{sw.institution_id}/filing",
        headers=centre,
        json={"action": "suspend", "reason": "考务管理不规范，暂停整改"},
    )
    assert r.status_code == 200, r.text


def test_r_inst_2_a_suspended_institution_does_not_arbitrate(sw, engine):
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    for i, total in enumerate((59, 61, 62)):  # split pass/fail: arbitration
        assert sw.enter(i, sw.candidates[0], total).status_code == 201
    assert sw.part(sw.candidates[0])["status"] == "arbitration"
    suspend(sw)
    url = f"/api/v1/batches/{sw.batch_id}/arbitrations/{sw.candidates[0]}/skill"
    r = sw.client.post(url, json={"action": "accept", "reason": "复核评分记录"}, headers=sw.scorer(0))
    assert_refusal(r, 409, "institution_not_in_standing", "R-INST-2")
    assert sw.part(sw.candidates[0])["status"] == "arbitration"
    with Session(engine) as db:
        assert [s.action for s in db.exec(select(ArbitrationStep)).all()] == ["opened"]


def test_r_inst_2_a_suspended_institution_does_not_settle_objections(sw, engine):
    sw.ready_for_publicity()
    sw.publish()
    oid = objection(sw).json()["id"]
    suspend(sw)
    assert_refusal(resolve(sw, oid, "upheld", "接线工艺项漏评"), 409, "institution_not_in_standing", "R-INST-2")
    with Session(engine) as db:
        assert db.get(Objection, oid).status == "open"
