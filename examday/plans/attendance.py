"""Who was admitted to a session: a reading port onto check-in, for the packages beside kiosk.

Check-in's tables are kiosk's, and proctor may not import kiosk; proctor
still needs the arrivals and the offline double check-ins of a session for the
live room view and the exam-room record, and scoring who sat each part. Kiosk registers an
:class:`AttendanceReader` at start-up (``kiosk.providers.register``); proctor
reads through :func:`admitted` and :func:`offline_conflicts`, scoring through
:func:`admitted` and :func:`sessions_of`; the archive's sign-in sheet (R-DAY-3) through
:func:`arrivals`, which adds the kiosk and the photo taken at the door.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlmodel import Session


class Admitted(NamedTuple):
    """One candidate admitted to a session: where (None: not recorded, i.e. their own seat's room)."""

    candidate_id: int
    room_id: int | None
    at: datetime
    late: bool


class Arrival(NamedTuple):
    """One admission as the sign-in sheet prints it: when, late or not, by which kiosk or desk
    account (``via``: kiosk | desk | sync | proctor), and the photo taken at the door (blob id)."""

    candidate_id: int
    room_id: int | None
    at: datetime
    late: bool
    kiosk: str
    via: str
    photo_blob_id: int | None


class AttendanceReader(Protocol):
    def arrivals(self, db: Session, session_id: int) -> list[Arrival]: ...

    def admitted(self, db: Session, session_id: int, room_ids: Collection[int] | None) -> list[Admitted]: ...

    def offline_conflicts(self, db: Session, session_id: int, unresolved_only: bool) -> list[int]: ...

    def sessions_of(self, db: Session, candidate_id: int) -> list[int]: ...


_reader: list[AttendanceReader] = []


def provide(reader: AttendanceReader) -> None:
    """Kiosk's registration; again replaces."""
    _reader[:] = [reader]


def _get() -> AttendanceReader:
    if not _reader:
        raise RuntimeError("no attendance reader registered: examday.providers.register_all() did not run")
    return _reader[0]


def admitted(db: Session, session_id: int, room_ids: Collection[int] | None = None) -> list[Admitted]:
    """Everyone admitted to the session; with ``room_ids``, those admitted to one of these rooms or
    to no recorded room (the caller places them by their seat)."""
    return _get().admitted(db, session_id, room_ids)


def offline_conflicts(db: Session, session_id: int, unresolved_only: bool = False) -> list[int]:
    """The candidates of each offline double check-in of the session (one per conflict), by id."""
    return _get().offline_conflicts(db, session_id, unresolved_only)


def sessions_of(db: Session, candidate_id: int) -> list[int]:
    """The sessions the candidate was admitted to, by id (scoring asks this on every entry, R-ID-1)."""
    return _get().sessions_of(db, candidate_id)


def arrivals(db: Session, session_id: int) -> list[Arrival]:
    """Everyone admitted to the session, with the kiosk and the door photo (R-DAY-3)."""
    return _get().arrivals(db, session_id)
