"""A skill-sitting world (issue #15, R-SEAT-1): the exam world of tests/builders.py, nine
candidates seated for theory (T01, T02) and drawn for skill in room S01 over three sittings
of three workstations (11:00, 14:00, 16:30), tickets issued. The kiosk and proctor tests of
skill sittings stand on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from examday.actor import SYSTEM, Actor
from examday.clock import CST
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, Seat, SessionRoom
from examday.plans.services.seating_stations import draw_batch_stations
from examday.plans.tickets import current_ticket, issue_batch_tickets
from examday.registry.models import Room, Staff
from tests import builders
from tests.integration.kiosk.support import seat_everyone

DAY = date(2026, 11, 26)  # the clock fixture's day (08:00); theory 09:00-10:30
SITTINGS = (time(11, 0), time(14, 0), time(16, 30))  # the builder's skill session is the 14:00 one


@dataclass
class SkillWorld:
    institution_id: int
    batch_id: int
    theory_id: int
    sittings: list[int]  # skill session ids, in time order
    candidates: list[Candidate]
    tickets: dict[int, str]  # candidate id -> QR text
    station: dict[int, tuple[int, int]]  # candidate id -> (sitting session id, workstation)
    theory_room: dict[int, str]  # candidate id -> theory room code
    rooms: dict[str, Room]
    proctors: list[Staff]  # [0] proctors S01 in every sitting

    def of_sitting(self, k: int) -> list[Candidate]:
        """The candidates drawn the k-th sitting (0, 1, 2)."""
        return [c for c in self.candidates if self.station[c.id][0] == self.sittings[k]]


def at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, time(hh, mm), CST)


def skill_world(db: Session, now: datetime, secret_key: str, seed: int = 7) -> SkillWorld:
    w = builders.exam_world(db, now, DAY, n_candidates=9)
    batch: Batch = w["batch"]
    s01 = w["rooms"][2]
    s01.seats, s01.rows, s01.cols = 3, 1, 3
    db.add(s01)
    for start in (SITTINGS[0], SITTINGS[2]):
        begins = datetime.combine(DAY, start, CST)
        s = ExamSession(batch_id=batch.id, part="skill", starts_at=begins, ends_at=begins + timedelta(hours=2))
        db.add(s)
        db.flush()
        db.add(SessionRoom(session_id=s.id, room_id=s01.id))
    db.flush()
    sessions = db.exec(select(ExamSession).where(ExamSession.batch_id == batch.id)).all()
    theory = next(s for s in sessions if s.part == "theory")
    sittings = sorted((s for s in sessions if s.part == "skill"), key=lambda s: s.starts_at)
    proctor = w["staff"]["proctor"][0]
    for s in sittings:
        db.add(ProctorAssignment(session_id=s.id, room_id=s01.id, staff_id=proctor.id))
    seat_everyone(db, batch, w["rooms"][:2])
    office = Actor(None, "office", "admin", w["institution"].id)
    draw_batch_stations(db, office, now, batch.id, seed)
    issue_batch_tickets(db, SYSTEM, batch, secret_key, now)
    db.commit()
    cands = w["candidates"]
    tickets = {c.id: current_ticket(db, c.id).qr_text for c in cands}
    seats = db.exec(select(Seat, Room.code).join(Room, Room.id == Seat.room_id).where(Seat.batch_id == batch.id)).all()
    station = {s.candidate_id: (s.sitting, s.seat_no) for s, _ in seats if s.part == "skill"}
    theory_room = {s.candidate_id: code for s, code in seats if s.part == "theory"}
    rooms = {r.code: r for r in w["rooms"]}
    db.commit()  # SQLite transactions are BEGIN IMMEDIATE: never leave one open behind the server's back
    return SkillWorld(
        w["institution"].id,
        batch.id,
        theory.id,
        [s.id for s in sittings],
        cands,
        tickets,
        station,
        theory_room,
        rooms,
        w["staff"]["proctor"],
    )
