"""Tables owned by `proctor/`: what the proctors and the quality supervisor record on
exam day (R-DAY-3, R-DISC-1, R-TIME-1, R-SUP-1).

The exam-room record (考场记录表) is produced once from these facts and frozen
by its content hash; each proctor of the room confirms it under their own
account (R-STAFF-4); afterwards it changes only by an amendment, which is on
the audit chain (R-AUDIT-1).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Incident(SQLModel, table=True):
    """An incident (违纪情况) against one candidate, with its tier (R-DISC-1)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    kind: str = Field(max_length=40)
    tier: str = Field(max_length=1)  # a | b | c
    voids: str = Field(max_length=10)  # part | sitting
    cheating: bool = False
    description: str = Field(max_length=1000)
    photo_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    account_id: int = Field(foreign_key="account.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime)


class SeatMove(SQLModel, table=True):
    """A candidate moved to another desk by a proctor, with the reason (R-SEAT-1 exception)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    from_seat: int | None = None
    to_seat: int
    reason: str = Field(max_length=500)
    account_id: int = Field(foreign_key="account.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime)


class HandIn(SQLModel, table=True):
    """An early hand-in (提前交卷), never in the first 30 minutes (R-TIME-1)."""

    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    candidate_id: int = Field(foreign_key="candidate.id")
    account_id: int = Field(foreign_key="account.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime)


class CutoffNotice(SQLModel, table=True):
    """The entry cutoff of one room was announced on the feed: once, whichever server process did it."""

    __table_args__ = (UniqueConstraint("session_id", "room_id"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id")
    room_id: int = Field(foreign_key="room.id")
    absent: int = 0
    at: datetime = Field(sa_type=UTCDateTime)


class RoomRecord(SQLModel, table=True):
    """The exam-room record (考场记录表) of one room in one session (R-DAY-3)."""

    __table_args__ = (UniqueConstraint("session_id", "room_id"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id")
    room_id: int = Field(foreign_key="room.id")
    content: str  # canonical JSON of what happened
    content_hash: str = Field(max_length=64)
    document_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    produced_at: datetime = Field(sa_type=UTCDateTime)
    produced_by: int = Field(foreign_key="account.id")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # every proctor confirmed


class RoomRecordConfirmation(SQLModel, table=True):
    """One proctor's confirmation (监考员签字确认), of the content hash they saw."""

    __table_args__ = (UniqueConstraint("record_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="roomrecord.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    account_id: int = Field(foreign_key="account.id")
    content_hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)


class RoomRecordAmendment(SQLModel, table=True):
    """A change to a confirmed record (更正): the original stays, the amendment is added."""

    __table_args__ = (UniqueConstraint("record_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="roomrecord.id", index=True)
    number: int
    text: str = Field(max_length=2000)
    reason: str = Field(max_length=500)
    account_id: int = Field(foreign_key="account.id")
    document_blob_id: int | None = Field(default=None, foreign_key="blob.id")  # the record as amended
    at: datetime = Field(sa_type=UTCDateTime)


class SupervisionFinding(SQLModel, table=True):
    """A finding the external quality supervisor notes during the day (督导记录)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    area: str = Field(max_length=30)
    text: str = Field(max_length=2000)
    at: datetime = Field(sa_type=UTCDateTime)


class SupervisionReport(SQLModel, table=True):
    """The supervision report (质量督导报告), due 3 working days after the exam (R-SUP-1)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", unique=True)
    account_id: int = Field(foreign_key="account.id")
    organisation: str = Field(max_length=4000)
    eligibility: str = Field(max_length=4000)
    questions_examiners: str = Field(max_length=4000)
    rooms_equipment: str = Field(max_length=4000)
    fees: str = Field(max_length=4000)
    opinion: str = Field(max_length=20)  # valid | partly_valid | invalid
    opinion_text: str = Field(default="", max_length=4000)
    deadline: date
    deadline_provisional: bool = False
    met: bool
    document_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    filed_at: datetime = Field(sa_type=UTCDateTime)


class RecorderKey(SQLModel, table=True):
    """An institution's recorder key (录像机密钥): signs the hooks of its cameras only (R-AUDIT-1).

    The secret is never stored: it is derived from the installation's secret key and ``kid``
    (proctor/services/recorder_keys.py) and shown once, when issued. A rotated key stays valid
    until ``expires_at``; a revoked one at once stops.
    """

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    kid: str = Field(max_length=40, unique=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = None  # the account that issued it
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
