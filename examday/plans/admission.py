"""Admitting a candidate to a session without the kiosk: a writing port onto check-in (入场).

R-ID-1, R-DAY-1: a candidate is admitted by an accepted check-in at the door, or by a
proctor of the room who admits them by hand with a reason (the ID checked another way),
on the audit chain. Check-in's tables are kiosk's and proctor may not import kiosk: kiosk
registers an :class:`AdmissionWriter` at start-up (``kiosk.providers.register``), and the
admission is stored as check-in's own (an accepted ``CheckIn`` and its ``Attendance``), so
that everyone who reads :func:`examday.plans.attendance.admitted` sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from examday.actor import Actor


class AdmissionWriter(Protocol):
    def admit(
        self,
        db: Session,
        actor: Actor,
        now: datetime,
        batch_id: int,
        session_id: int,
        candidate_id: int,
        room_id: int | None,
        reason: str,
        via: str,
    ) -> int: ...


_writer: list[AdmissionWriter] = []


def provide(writer: AdmissionWriter) -> None:
    """Kiosk's registration; again replaces."""
    _writer[:] = [writer]


def admit(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    session_id: int,
    candidate_id: int,
    room_id: int | None,
    reason: str,
    via: str = "proctor",
) -> int:
    """Admit the candidate to the session; the id of the check-in that records it.
    409 ``already_checked_in`` when they are admitted already."""
    if not _writer:
        raise RuntimeError("no admission writer registered: examday.providers.register_all() did not run")
    return _writer[0].admit(db, actor, now, batch_id, session_id, candidate_id, room_id, reason, via)
