"""Check-in records (签到记录): every attempt, accepted or refused (R-DAY-1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class CheckIn(SQLModel, table=True):
    """One attempt at a kiosk or the desk, with its answer as it was given."""

    __table_args__ = (UniqueConstraint("kiosk_account_id", "kiosk_nonce"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="examsession.id", index=True)
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id", index=True)
    ticket_number: str | None = Field(default=None, max_length=30)
    kiosk_account_id: int = Field(foreign_key="account.id", index=True)
    kiosk_nonce: str = Field(max_length=80)
    status: str = Field(max_length=10)  # accepted | refused
    code: str | None = Field(default=None, max_length=40)  # the refusal code
    rule: str | None = Field(default=None, max_length=20)
    at: datetime = Field(sa_type=UTCDateTime, index=True)  # the server's time decides
    scanned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the kiosk's, when offline
    offline: bool = False
    via: str = Field(default="kiosk", max_length=10)  # kiosk | desk (ticket typed or found by name) | sync
    room_id: int | None = Field(default=None, foreign_key="room.id")
    seat_no: int | None = None
    late: bool = False
    photo_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    response: str = Field(default="{}")  # JSON body sent back; the same nonce gets it again
    http_status: int = 200


class Attendance(SQLModel, table=True):
    """The one accepted check-in of a candidate for a session; the unique key is what
    makes two kiosks at the same moment end with exactly one acceptance."""

    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    checkin_id: int = Field(foreign_key="checkin.id")
    room_id: int | None = Field(default=None, foreign_key="room.id")
    at: datetime = Field(sa_type=UTCDateTime)
    late: bool = False


class OfflineConflict(SQLModel, table=True):
    """The same candidate accepted by two kiosks while both were offline, or let in offline by a
    kiosk when the server refuses them: flagged for the proctors."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="examsession.id")
    candidate_id: int = Field(foreign_key="candidate.id")
    # double_checkin: kept is the acceptance on record; server_refused: kept is None, code says why
    reason: str = Field(default="double_checkin", max_length=20)
    code: str | None = Field(default=None, max_length=40)
    kept_checkin_id: int | None = Field(default=None, foreign_key="checkin.id")
    other_checkin_id: int = Field(foreign_key="checkin.id")
    at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RosterIdHash(SQLModel, table=True):
    """A candidate's ID hash in the offline roster (签到名单, R-PRIV-1; ``kiosk/idhash.py``),
    made once for the installation and kept, so that every server process hands out the same
    one and none makes it again (issue #18: four processes each hashing a province's 20,000
    candidates were most of a morning's CPU). It holds nothing the candidate's row does not
    already hold in clear; ``number_key`` is the keyed digest of the number it was made from
    (a corrected number gets a new hash), ``made_with`` the hash parameters' fingerprint."""

    candidate_id: int = Field(primary_key=True, foreign_key="candidate.id", sa_column_kwargs={"autoincrement": False})
    number_key: str = Field(max_length=64)
    made_with: str = Field(max_length=16)
    salt: str = Field(max_length=64)  # base64
    hash: str = Field(max_length=128)  # hex
