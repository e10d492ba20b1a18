"""Loading what a proctor action names: the session, the room, the session in progress
(R-DAY-3). Who may watch which room and who may act in one is decided in
:mod:`examday.access` (R-STAFF-4).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from examday.errors import conflict, not_found
from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Room


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
