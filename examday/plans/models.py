"""Plan tables: batches (认定批次), their sessions, candidates, seats and admission tickets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Batch(SQLModel, table=True):
    """One exam plan (认定计划) for one occupation and level on one date (R-PLAN-1..4).

    ``config`` holds the exam-affairs values the plan was filed with (R-RATIO-1,
    R-TIME-1, R-SEAT-1, pass mark, aggregation): a filed plan keeps them even if
    the institution's defaults change later.
    """

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    occupation_code: str = Field(max_length=20)
    occupation_name: str = Field(default="", max_length=100)
    work_type: str | None = Field(default=None, max_length=100)
    level: int
    exam_date: date = Field(index=True)
    parts: str = Field(max_length=40)  # "theory,skill[,review]" in exam order
    # draft | filed | publicity | locked (withdrawn plans go back to draft, on the audit chain)
    status: str = Field(default="draft", max_length=20, index=True)
    config: str = Field(default="{}")  # JSON
    filed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    filed_by: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)

    def part_list(self) -> list[str]:
        return [p for p in self.parts.split(",") if p]


class ExamSession(SQLModel, table=True):
    """A sitting (场次) of one part of a batch, in one or more rooms."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(max_length=10)  # theory | skill | review
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)


class SessionRoom(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("session_id", "room_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    room_id: int = Field(foreign_key="room.id", index=True)


class ProctorAssignment(SQLModel, table=True):
    """A proctor (监考员) assigned to one room of one session (R-RATIO-1, R-STAFF-3)."""

    __table_args__ = (UniqueConstraint("session_id", "room_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="examsession.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    staff_id: int = Field(foreign_key="staff.id", index=True)


class Candidate(SQLModel, table=True):
    """A candidate (考生) of one batch. ``id_number`` is shown in full to the admin only (R-PRIV-1)."""

    __table_args__ = (UniqueConstraint("batch_id", "id_number"), UniqueConstraint("batch_id", "ticket_number"))
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=18)
    employer: str | None = Field(default=None, max_length=200)
    training_org: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    ticket_number: str = Field(max_length=30, index=True)
    status: str = Field(default="registered", max_length=20)  # registered | withdrawn
    eligibility: str = Field(default="pending", max_length=20)  # pending | eligible | ineligible (R-PLAN-4)
    reviewed_by: int | None = None  # account id of the reviewer
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    eligibility_note: str | None = Field(default=None, max_length=500)
    photo_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Seat(SQLModel, table=True):
    """A candidate's desk (座位) in a theory room, or station in a skill room (R-DAY-2, R-SEAT-1).

    ``sitting`` is the skill sitting (场次, an ExamSession id) the candidate sits at that station:
    a skill room's stations are drawn once per sitting, so station 5 holds one candidate in each.
    It is 0 where everyone sits the part together (theory), so the unique key holds there too.
    """

    __table_args__ = (
        UniqueConstraint("batch_id", "part", "candidate_id"),
        UniqueConstraint("batch_id", "part", "sitting", "room_id", "seat_no"),
    )
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(default="theory", max_length=10)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    seat_no: int
    sitting: int = 0


class SeatingRun(SQLModel, table=True):
    """One allocation with its seed, so a supervisor can re-derive it (R-SEAT-1)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(default="theory", max_length=10)
    seed: int
    adjacent_pairs: int = 0
    blocked: str = Field(default="{}")  # JSON {room_code: [seat_no, ...]}
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = None


class TicketKey(SQLModel, table=True):
    """An institution's Ed25519 key for admission-ticket QR tokens; old keys verify until revoked."""

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    kid: str = Field(max_length=40, unique=True)
    public_key: str = Field(max_length=100)
    private_key_pem: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Ticket(SQLModel, table=True):
    """An issued admission ticket (准考证) token; reissuing revokes the old one."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    token_id: str = Field(max_length=40, unique=True)
    kid: str = Field(max_length=40)
    qr_text: str
    issued_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Last drawn for printing (its PNG or the batch's PDF): once set, the ticket is out and the
    # batch's seats are frozen (R-SEAT-1); a seat change recorded later means a reprint is due.
    printed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
