"""A panel set after filing is drawn from the filed plan's staff (issue #15, R-PLAN-1): on SQLite and PostgreSQL.

Reproduces the finding "a panel can be set after filing with examiners the filed plan does not name".
"""

from __future__ import annotations

from sqlmodel import Session, select

from examday.plans.models import ExamSession, ProctorAssignment, SessionRoom
from scoring.models import Panel
from tests.support import assert_refusal


def post_examiners(engine, batch_id: int, staff_ids: list[int]) -> None:
    """The filed plan names these examiners in its skill sitting's room."""
    with Session(engine) as db:
        session = db.exec(
            select(ExamSession).where(ExamSession.batch_id == batch_id, ExamSession.part == "skill")
        ).one()
        room_id = db.exec(select(SessionRoom.room_id).where(SessionRoom.session_id == session.id)).one()
        for sid in staff_ids:
            db.add(ProctorAssignment(session_id=session.id, room_id=room_id, staff_id=sid))
        db.commit()


def test_an_examiner_the_filed_plan_does_not_name_is_refused_r_plan_1(sw, engine):
    post_examiners(engine, sw.batch_id, sw.examiners[:3])
    outsider = sw.examiners[3]
    r = sw.panel(members=[*sw.examiners[:2], outsider])
    body = assert_refusal(r, 422, "panel_rejected", "R-PANEL-1")
    bad = [v for v in body["detail"]["violations"] if v["code"] == "examiner_not_in_plan"]
    assert [(v["staff_id"], v["rule"]) for v in bad] == [(outsider, "R-PLAN-1")]
    with Session(engine) as db:
        assert db.exec(select(Panel)).first() is None
    r = sw.panel(members=sw.examiners[:3])
    assert r.status_code == 201, r.text
