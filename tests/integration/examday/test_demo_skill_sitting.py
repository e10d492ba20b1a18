"""The demo's skill part is reachable (issue #16, R-SEAT-1, R-ID-1, R-SCORE-1).

Found retaking the guide's screenshots: today's demo batches issued their tickets with none of
the 30 workstations drawn in any skill sitting, and a draw is refused once tickets are out, so
no demo candidate could enter a skill sitting (``too_late`` at the door) and no examiner could
score one (``candidate_not_admitted``). The seed now draws the workstations before the tickets,
through the office's own service.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from datetime import timedelta

from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import issue_token
from examday.demo.scores import DEMO_RUBRIC
from examday.demo.seed import seed_demo
from examday.plans.models import Candidate, ExamSession, ProctorAssignment, Seat
from examday.plans.tickets import current_ticket
from tests.support import TEST_LIFETIMES, bearer

PIN = "2468"  # the demo's scorers of the older batch set it (examday/demo/scores.py)


def test_every_skill_candidate_of_the_demo_is_drawn_admitted_at_the_door_and_scored(
    app, engine, settings, clock, world, client
):
    """R-SEAT-1: every skill sitting's candidates hold a workstation of it; a candidate of a later
    sitting checks in at that sitting's entry time (R-ID-1) and an examiner's entry is accepted
    once it has started (R-SCORE-1)."""
    out = io.StringIO()
    made = seed_demo(engine, settings, clock, out)
    assert made is not None
    assert "30 drawn to workstations" in out.getvalue()
    with Session(engine, expire_on_commit=False) as db:
        for bid in [*made["today"], made["older"]]:
            sittings = db.exec(
                select(ExamSession)
                .where(ExamSession.batch_id == bid, ExamSession.part == "skill")
                .order_by(col(ExamSession.starts_at))
            ).all()
            stations = db.exec(select(Seat).where(Seat.batch_id == bid, Seat.part == "skill")).all()
            people = db.exec(select(Candidate.id).where(Candidate.batch_id == bid)).all()
            # Everyone drawn once, to one of the batch's sittings, one candidate a workstation and sitting.
            assert sorted(s.candidate_id for s in stations) == sorted(people)
            assert {s.sitting for s in stations} == {s.id for s in sittings}
            assert len({(s.sitting, s.room_id, s.seat_no) for s in stations}) == len(stations)
            if bid in made["today"]:
                assert Counter(s.sitting for s in stations) == {s.id: 30 for s in sittings}

        second = db.exec(
            select(ExamSession)
            .where(ExamSession.batch_id == made["today"][0], ExamSession.part == "skill")
            .order_by(col(ExamSession.starts_at))
        ).all()[1]
        drawn = db.exec(
            select(Candidate).join(Seat, col(Seat.candidate_id) == Candidate.id).where(Seat.sitting == second.id)
        ).first()
        assert drawn is not None and drawn.id is not None
        qr = current_ticket(db, drawn.id).qr_text
        team = set(db.exec(select(ProctorAssignment.staff_id).where(ProctorAssignment.session_id == second.id)).all())
        examiner = db.exec(
            select(Account)
            .where(col(Account.staff_id).in_(team), col(Account.role).in_(["evaluator", "chief"]))
            .where(col(Account.pin_hash).is_not(None))
            .order_by(col(Account.id))
        ).first()
        assert examiner is not None
        scorer = issue_token(db, examiner, clock.now(), lifetimes=TEST_LIFETIMES)
        inst_id, cid, id_number = examiner.institution_id, drawn.id, drawn.id_number
        db.commit()

    kiosk = bearer(world.token("kiosk-h8", "kiosk", inst_id))
    clock.at = second.starts_at - timedelta(minutes=10)  # a later sitting's entry window, after the theory part
    r = client.post(
        "/api/v1/checkins",
        json={"ticket": qr, "id_number": id_number, "kiosk_nonce": uuid.uuid4().hex},
        headers=kiosk,
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "accepted" and answer["session"]["id"] == second.id
    assert answer["room_code"] == "S01" and answer["station"] == answer["seat"]

    clock.at = second.starts_at + timedelta(minutes=40)
    items = {i["code"]: i["max_points"] * 0.8 for i in DEMO_RUBRIC}
    r = client.post(
        "/api/v1/score-entries",
        json={"batch_id": made["today"][0], "candidate_id": cid, "part": "skill", "items": items, "pin": PIN},
        headers=bearer(scorer),
    )
    assert r.status_code == 201, r.text
