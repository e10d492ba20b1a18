"""A check-in world: the exam world of tests/builders.py with seats and issued tickets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from examday.actor import SYSTEM
from examday.plans.models import Batch, Candidate, Seat, Ticket
from examday.plans.tickets import current_ticket, issue_batch_tickets
from examday.registry.models import Room
from tests import builders

EXAM_DAY = date(2026, 11, 26)  # the day the clock fixture stands on
OTHER_USCC = "91440101MA5CJQ4N59"


def seat_everyone(db: Session, batch: Batch, rooms: list[Room]) -> None:
    """Seats straight into the table (the seating service is another part): round-robin over the rooms."""
    cands = db.exec(select(Candidate).where(Candidate.batch_id == batch.id).order_by(Candidate.id)).all()
    for i, c in enumerate(cands):
        db.add(
            Seat(
                batch_id=batch.id,
                part="theory",
                candidate_id=c.id,
                room_id=rooms[i % len(rooms)].id,
                seat_no=i // len(rooms) + 1,
            )
        )
    db.flush()


@dataclass
class CheckinWorld:
    institution_id: int
    batch_id: int
    candidates: list[Candidate]
    rooms: list[Room]
    tickets: dict[int, str]  # candidate id -> QR text

    def qr(self, i: int) -> str:
        return self.tickets[self.candidates[i].id]


def checkin_world(
    db: Session, now: datetime, secret_key: str, n: int = 8, exam_day: date = EXAM_DAY, uscc: str | None = None
) -> CheckinWorld:
    if uscc is None:
        w = builders.exam_world(db, now, exam_day, n_candidates=n)
        inst, batch, rooms, cands = w["institution"], w["batch"], w["rooms"][:2], w["candidates"]
    else:
        inst = builders.institution(db, now, uscc=uscc)
        rs = builders.rooms(db, inst)
        people = builders.staff(db, inst)
        batch = builders.batch(db, inst, exam_day, rs[:2], people["proctor"], now=now)
        cands = builders.candidates(db, batch, n, now=now)
        rooms = rs[:2]
    seat_everyone(db, batch, rooms)
    issue_batch_tickets(db, SYSTEM, batch, secret_key, now)
    db.commit()
    tickets = {c.id: current_ticket(db, c.id).qr_text for c in cands}
    db.commit()  # SQLite transactions are BEGIN IMMEDIATE: never leave one open behind the server's back
    return CheckinWorld(inst.id, batch.id, cands, rooms, tickets)


def nonce() -> str:
    return uuid.uuid4().hex


def body(w: CheckinWorld, i: int, **over) -> dict:
    b = {"ticket": w.qr(i), "id_number": w.candidates[i].id_number, "kiosk_nonce": nonce()}
    b.update(over)
    return b


def tickets_of(db: Session, candidate_id: int) -> list[Ticket]:
    return db.exec(select(Ticket).where(Ticket.candidate_id == candidate_id)).all()
