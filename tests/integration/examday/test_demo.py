"""`examday demo` seeds a believable day through the real services."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, datetime, time

import pytest
from sqlmodel import Session, select

from examday.audit import verify
from examday.clock import CST
from examday.demo.day import first_start, timetable
from examday.demo.seed import seed_demo
from examday.identity import validate_id_number
from examday.plans.models import Batch, Candidate, ExamSession, Seat, Ticket
from examday.registry.models import Room
from scoring.models import Panel, PanelMember
from scoring.services.lock import verify_seals
from storage.retention_models import ArchivedDocument

CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


def test_demo_seeds_two_filed_batches_today_and_a_locked_older_one(engine, settings, clock):
    out = io.StringIO()
    made = seed_demo(engine, settings, clock, out)
    text = out.getvalue()
    assert "office" in text and "examday-demo" in text and "proctor6" in text
    assert made["live"] and made["start"].strftime("%H:%M") == "08:20"  # check-in open when the demo serves
    with Session(engine) as db:
        first, second, older = db.exec(select(Batch).order_by(Batch.id)).all()
        for b in (first, second):
            # R-PLAN-1: each passed every filing check (file_plan refuses otherwise) twelve working days ahead.
            assert b.status == "filed" and b.exam_date == clock.today() and b.occupation_code == "6-31-01-03"
        assert (first.level, second.level) == (4, 5)
        assert older.status == "locked" and older.exam_date < first.exam_date
        assert verify(db) is None and verify_seals(db) == []
        # R-ARCH-1: the seeded lock archived its key documents, as the server's lock does.
        kinds = set(db.exec(select(ArchivedDocument.kind).where(ArchivedDocument.batch_id == older.id)).all())
        assert {"score_summary", "seal", "results_export"} <= kinds

        rooms = {r.id: r.code for r in db.exec(select(Room)).all()}
        for b in (first, second):
            seats = db.exec(select(Seat).where(Seat.batch_id == b.id, Seat.part == "theory")).all()
            # R-SEAT-1, R-DAY-2, R-SITE-1: 90 seated in all three theory rooms, 30 in each.
            assert Counter(rooms[s.room_id] for s in seats) == {"T01": 30, "T02": 30, "T03": 30}
            skill = db.exec(
                select(ExamSession)
                .where(ExamSession.batch_id == b.id, ExamSession.part == "skill")
                .order_by(ExamSession.starts_at)
            ).all()
            theory = db.exec(
                select(ExamSession).where(ExamSession.batch_id == b.id, ExamSession.part == "theory")
            ).one()
            assert len(skill) == 3 and skill[0].starts_at >= theory.ends_at  # R-PLAN-2: theory, then skill
            panel = db.exec(select(Panel).where(Panel.batch_id == b.id, Panel.part == "skill")).one()
            members = db.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all()
            assert len(members) == 7  # R-PANEL-1, R-RATIO-1: 30 at once need 6, an odd panel is 7
        # The two batches take turns in the rooms: no room or person in two places at once (R-PLAN-1).
        t1 = db.exec(select(ExamSession).where(ExamSession.batch_id == first.id, ExamSession.part == "theory")).one()
        t2 = db.exec(select(ExamSession).where(ExamSession.batch_id == second.id, ExamSession.part == "theory")).one()
        assert t1.ends_at < t2.starts_at

        today = db.exec(select(Candidate).where(Candidate.batch_id.in_([first.id, second.id]))).all()
        assert len(today) == 180 and len({c.id_number for c in today}) == 180
        for c in today:
            validate_id_number(c.id_number, clock.today())  # R-ID-1: every number valid
            assert CJK_NAME.match(c.name), c.ticket_number
        assert len(db.exec(select(Ticket)).all()) == 200
    again = io.StringIO()
    assert seed_demo(engine, settings, clock, again) is None  # a second run leaves the data as it is
    assert "already has data" in again.getvalue() and "batch #1" in again.getvalue()


@pytest.mark.parametrize(
    "now, start, live",
    [
        ("08:00", "08:20", True),  # check-in (08:20 − 30 min) is open as the demo serves
        ("09:11", "09:35", True),  # rounded up to five minutes
        ("00:10", "08:00", True),  # not before eight: the demo waits for the window
        ("14:20", "14:40", True),  # the day's last skill sitting still ends before midnight
        ("16:00", "08:30", False),  # too late for a whole day: the usual morning timetable, check-in over
    ],
)
def test_the_first_theory_sitting_starts_soon_if_the_day_still_fits(now, start, live):
    at = datetime.combine(date(2026, 11, 26), time.fromisoformat(now), CST)
    first, is_live = first_start(at, list(range(1, 7)), list(range(11, 18)))
    assert (first.strftime("%H:%M"), is_live) == (start, live) and first.date() == at.date()
    day = timetable(first, list(range(1, 7)), list(range(11, 18)))
    # R-RATIO-1: two proctors a theory room, six examiners a skill sitting of 30; R-PLAN-2: theory first.
    for plan in day:
        theory, *skill = plan.sittings
        assert all(len(p) == 2 for p in theory.staff.values()) and len(skill) == 3
        assert all(len(s.staff["S01"]) == 6 and s.start >= theory.end for s in skill)
