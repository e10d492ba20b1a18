"""`examday demo` seeds a believable day through the real services."""
from __future__ import annotations

import io

from sqlmodel import Session, select

from examday.audit import verify
from examday.demo import seed_demo
from examday.plans.models import Batch, Seat, Ticket


def test_demo_seeds_a_filed_batch_today_and_a_locked_older_one(engine, settings, clock):
    out = io.StringIO()
    seed_demo(engine, settings, clock, out)
    text = out.getvalue()
    assert "office" in text and "examday-demo" in text
    with Session(engine) as db:
        batches = db.exec(select(Batch).order_by(Batch.id)).all()
        today, older = batches
        assert today.status == "filed" and today.exam_date == clock.today()  # R-PLAN-1 met at filing time
        assert older.status == "locked" and older.exam_date < today.exam_date
        seats = db.exec(select(Seat).where(Seat.batch_id == today.id, Seat.part == "theory")).all()
        assert len(seats) == 30 and len({s.room_id for s in seats}) == 2  # R-DAY-2: spread over two rooms
        assert len(db.exec(select(Ticket)).all()) == 50
        assert verify(db) is None
    again = io.StringIO()
    seed_demo(engine, settings, clock, again)  # a second run leaves the data as it is
    assert "already has data" in again.getvalue()
