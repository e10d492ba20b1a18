"""Tickets going out (准考证打印发出): when a ticket is drawn for printing, and which
tickets are due again because their seat moved since.

R-SEAT-1: a candidate sits only at the seat on their ticket. Once tickets are
out, the batch's seats are frozen (``seating.ensure_not_out``) and a recorded
move makes that candidate's ticket due for a reprint (issue #15).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.plans.models import Batch, Ticket
from examday.plans.seating_models import SeatChange
from examday.plans.services.seating import OPEN_STATUSES


def printed(db: Session, actor: Actor, now: datetime, batch: Batch, tickets: list[Ticket]) -> None:
    """The tickets are out (drawn to be printed): the batch's seats freeze (R-SEAT-1, issue #15).

    Only while the plan is being run: a batch in publicity or locked changes nothing."""
    if batch.status not in OPEN_STATUSES or not tickets:
        return
    db.execute(update(Ticket).where(col(Ticket.id).in_([t.id for t in tickets])).values(printed_at=now))
    audit.record(
        db,
        actor,
        "tickets.printed",
        "batch",
        batch.id,
        {"batch_id": batch.id, "candidate_ids": sorted(t.candidate_id for t in tickets)},
        now,
        batch.institution_id,
    )


def moved_since_printed(db: Session, batch_id: int, current: dict[int, Ticket]) -> set[int]:
    """Candidates whose seat was moved after their ticket was last printed (or who have none printed)."""
    last = db.exec(
        select(SeatChange.candidate_id, func.max(SeatChange.at))
        .where(SeatChange.batch_id == batch_id)
        .group_by(col(SeatChange.candidate_id))
    ).all()
    out = set()
    for cid, at in last:
        printed = current[cid].printed_at if cid in current else None
        if printed is None or printed < at:
            out.add(cid)
    return out
