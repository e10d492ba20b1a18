"""Reading who was admitted, for :mod:`examday.plans.attendance` (proctor's live view and room record).

The live feed reads a room's arrivals on every event (R-DAY-3), so the
statements are built once, with bound parameters, and run through Core:
building a statement and its cache key costs more than running it on SQLite.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sa_select  # seven columns: sqlmodel's select() types at most four
from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.plans.attendance import Admitted, Arrival
from kiosk.models import Attendance, CheckIn, OfflineConflict

_COLUMNS = (col(Attendance.candidate_id), col(Attendance.room_id), col(Attendance.at), col(Attendance.late))
_SESSION = Attendance.session_id == bindparam("session_id")
_ALL = select(*_COLUMNS).where(_SESSION)
# Only the rooms asked for: an event reads one room, not the whole morning's arrivals.
_IN_ROOMS = select(*_COLUMNS).where(
    _SESSION,
    or_(col(Attendance.room_id).in_(bindparam("rooms", expanding=True)), col(Attendance.room_id).is_(None)),
)
_SESSIONS_OF = select(Attendance.session_id).where(Attendance.candidate_id == bindparam("candidate_id"))
_CONFLICTS = (
    select(OfflineConflict.candidate_id)
    .where(OfflineConflict.session_id == bindparam("session_id"))
    .order_by(col(OfflineConflict.id))
)
_OPEN_CONFLICTS = (
    select(OfflineConflict.candidate_id)
    .where(OfflineConflict.session_id == bindparam("session_id"), col(OfflineConflict.resolved_at).is_(None))
    .order_by(col(OfflineConflict.id))
)


_ARRIVALS = (
    sa_select(
        col(Attendance.candidate_id),
        col(Attendance.room_id),
        col(Attendance.at),
        col(Attendance.late),
        col(Account.username),
        col(CheckIn.via),
        col(CheckIn.photo_blob_id),
    )
    .join(CheckIn, col(CheckIn.id) == Attendance.checkin_id)
    .join(Account, col(Account.id) == CheckIn.kiosk_account_id)
    .where(col(Attendance.session_id) == bindparam("session_id"))
    .order_by(col(Attendance.at), col(Attendance.id))
)


class KioskAttendance:
    """:class:`examday.plans.attendance.AttendanceReader` over kiosk's tables."""

    def admitted(self, db: Session, session_id: int, room_ids: Collection[int] | None) -> list[Admitted]:
        run = db.connection().execute
        if room_ids is None:
            rows = run(_ALL, {"session_id": session_id})
        else:
            rows = run(_IN_ROOMS, {"session_id": session_id, "rooms": list(room_ids)})
        return [Admitted._make(r) for r in rows]

    def offline_conflicts(self, db: Session, session_id: int, unresolved_only: bool) -> list[int]:
        stmt = _OPEN_CONFLICTS if unresolved_only else _CONFLICTS
        return [cid for (cid,) in db.connection().execute(stmt, {"session_id": session_id})]

    def sessions_of(self, db: Session, candidate_id: int) -> list[int]:
        return [sid for (sid,) in db.connection().execute(_SESSIONS_OF, {"candidate_id": candidate_id})]

    def arrivals(self, db: Session, session_id: int) -> list[Arrival]:
        return [Arrival._make(r) for r in db.connection().execute(_ARRIVALS, {"session_id": session_id})]
