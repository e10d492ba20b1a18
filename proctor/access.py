"""Who may watch a batch's rooms and who may act in one (R-DAY-3, R-STAFF-4).

Shared by the HTTP handlers, the WebSocket feed and the pages, so the three
never disagree. The institution's admin, the province's centre and the
quality supervisor see every room of the batch; a proctor sees only the rooms
they are assigned to; every proctor action needs an assignment to that room
in that session, under the proctor's own account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.errors import conflict, forbidden, not_found
from examday.plans.models import Batch, ExamSession, ProctorAssignment, SessionRoom
from examday.registry.models import Institution, Room

FULL_VIEW_ROLES = ("admin", "centre", "supervisor")


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    institution: Institution
    actor: Actor
    rooms: frozenset[str] | None  # None: every room

    def sees(self, room_code: str | None) -> bool:
        if self.rooms is None:
            return True
        return room_code is not None and room_code in self.rooms


def sees_institution(actor: Actor, inst: Institution) -> bool:
    if actor.role == "admin":
        return actor.is_installation_admin or actor.institution_id == inst.id
    if actor.role == "centre":
        return actor.province is not None and actor.province == inst.province
    if actor.role in ("supervisor", "proctor"):
        # The external supervisor's account is made for the institution being supervised.
        return actor.institution_id == inst.id
    return False


def proctor_rooms(db: Session, batch_id: int, staff_id: int) -> frozenset[str]:
    rows = db.exec(
        select(Room.code)
        .join(ProctorAssignment, col(ProctorAssignment.room_id) == Room.id)
        .join(ExamSession, col(ExamSession.id) == ProctorAssignment.session_id)
        .where(ExamSession.batch_id == batch_id, ProctorAssignment.staff_id == staff_id)
    ).all()
    return frozenset(rows)


def batch_view(db: Session, actor: Actor, batch_id: int) -> BatchView:
    """What ``actor`` may see of the batch's rooms, or a refusal."""
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    assert batch.id is not None
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not sees_institution(actor, inst):
        raise forbidden("This batch is not yours to watch.")
    if actor.role in FULL_VIEW_ROLES:
        return BatchView(batch, inst, actor, None)
    rooms = proctor_rooms(db, batch.id, actor.staff_id) if actor.staff_id else frozenset()
    if not rooms:
        raise forbidden("You proctor no room of this batch.")
    return BatchView(batch, inst, actor, rooms)


def session_of(db: Session, batch: Batch, session_id: int) -> ExamSession:
    s = db.get(ExamSession, session_id)
    if s is None or s.batch_id != batch.id:
        raise not_found("session")
    return s


def room_of(db: Session, batch: Batch, session: ExamSession, room_code: str) -> Room:
    room = db.exec(
        select(Room)
        .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
        .where(
            SessionRoom.session_id == session.id, Room.code == room_code, Room.institution_id == batch.institution_id
        )
    ).first()
    if room is None:
        raise not_found("room in this session")
    return room


def running_session(db: Session, batch: Batch, room_code: str, now: datetime, entry_open_minutes: int) -> ExamSession:
    """The session of the batch in progress in that room (from entry opening to its end)."""
    rows = db.exec(
        select(ExamSession)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id)
        .join(Room, col(Room.id) == SessionRoom.room_id)
        .where(ExamSession.batch_id == batch.id, Room.code == room_code)
        .order_by(col(ExamSession.starts_at))
    ).all()
    for s in rows:
        if s.starts_at - timedelta(minutes=entry_open_minutes) <= now < s.ends_at:
            return s
    if not rows:
        raise not_found("room in this batch")
    raise conflict(
        "session_not_in_progress",
        "该考场当前没有进行中的场次",
        "No session of this batch is in progress in that room; name the session.",
        "R-DAY-3",
    )


def assigned_proctor(db: Session, actor: Actor, session: ExamSession, room: Room) -> int:
    """The acting proctor's staff id, if assigned to this room in this session (R-STAFF-4)."""
    if actor.role != "proctor" or not actor.staff_id:
        raise forbidden("Only a proctor of this room in this session may do this.")
    found = db.exec(
        select(ProctorAssignment.id).where(
            ProctorAssignment.session_id == session.id,
            ProctorAssignment.room_id == room.id,
            ProctorAssignment.staff_id == actor.staff_id,
        )
    ).first()
    if found is None:
        raise forbidden("You are not a proctor of this room in this session.")
    return actor.staff_id


def supervisor_of(db: Session, actor: Actor, batch_id: int) -> BatchView:
    view = batch_view(db, actor, batch_id)
    if actor.role != "supervisor":
        raise forbidden("Only the quality supervisor may do this.")
    return view
