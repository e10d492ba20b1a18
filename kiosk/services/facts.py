"""Loading the plain facts the check-in rules decide on (R-DAY-1, R-TIME-1), from the plan tables.

One place reads batches, sessions, candidates, seats and earlier check-ins, so
the online check-in, the offline roster and the desk search see the same
facts the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select  # twenty columns: sqlmodel's select() types at most four
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.identity import mask_id_number
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, Seat
from examday.plans.tickets import id_salt
from examday.registry.models import Filing, Room
from examday.ticket_token import id_digest
from kiosk import rules
from kiosk.models import Attendance, CheckIn


def entry_minutes(batch: Batch) -> tuple[int, int]:
    """R-TIME-1 values the plan was filed with (national defaults when the stored plan has none)."""
    return _entry_minutes(batch.config)


@lru_cache(maxsize=256)
def _entry_minutes(config: str | None) -> tuple[int, int]:
    # By the stored text itself: a changed plan is another key, so nothing stale is ever read.
    cfg = BatchConfig.from_json(config)
    return int(cfg.entry_open_minutes), int(cfg.entry_close_minutes)


def batch_facts(batch: Batch) -> rules.BatchFacts:
    assert batch.id is not None
    return _batch_facts(batch.id, batch.institution_id, batch.exam_date, batch.config, batch.status)


def _batch_facts(bid: int, institution_id: int, exam_date: date, config: str | None, status: str) -> rules.BatchFacts:
    opens, closes = _entry_minutes(config)
    return rules.BatchFacts(bid, institution_id, exam_date, opens, closes, status)


# Column selects rather than ORM objects: a check-in reads a handful of values, at the door, under load.

_SESSIONS = (
    select(ExamSession.id, ExamSession.part, ExamSession.starts_at, ExamSession.ends_at)
    .where(ExamSession.batch_id == bindparam("batch_id"))
    .order_by(col(ExamSession.starts_at))
)


def session_facts(db: Session, batch_id: int) -> list[rules.SessionFacts]:
    return [rules.SessionFacts(*r) for r in db.connection().execute(_SESSIONS, {"batch_id": batch_id})]


@dataclass
class Seating:
    room_id: int
    room_code: str
    room_name: str
    seat_no: int


def seats(db: Session, batch_id: int, candidate_ids: Iterable[int] | None = None) -> dict[int, Seating]:
    q = (
        select(Seat.candidate_id, Room.id, Room.code, Room.name, Seat.seat_no)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .join(Room, Room.id == Seat.room_id)
        .where(Seat.batch_id == batch_id, Seat.part == rules.CHECKIN_PART)
    )
    if candidate_ids is not None:
        ids = list(candidate_ids)
        if not ids:
            return {}
        q = q.where(col(Seat.candidate_id).in_(ids))
    return {cid: Seating(rid, code, name, no) for cid, rid, code, name, no in db.exec(q).all()}


@dataclass
class Station:
    """The skill sitting (session id) and workstation drawn for a candidate (R-SEAT-1, issue #15)."""

    sitting: int
    room_id: int
    room_code: str
    station_no: int
    room_name: str | None = None


def stations(db: Session, batch_id: int) -> dict[int, Station]:
    """Each candidate's skill sitting and workstation drawn (R-SEAT-1): for the offline roster.
    A station drawn before sittings were (sitting 0) names no sitting, as in ``candidate_facts``."""
    q = (
        select(Seat.candidate_id, Seat.sitting, Room.id, Room.code, Seat.seat_no, Room.name)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .join(Room, Room.id == Seat.room_id)
        .where(Seat.batch_id == batch_id, Seat.part == rules.SITTING_PART)
    )
    return {cid: Station(sitting, rid, code, no, name) for cid, sitting, rid, code, no, name in db.exec(q).all()}


def candidate_facts(c, salt: bytes, seat: Seating | None, station: Station | None = None) -> rules.CandidateFacts:
    return rules.CandidateFacts(
        candidate_id=c.id,
        name=c.name,
        ticket_number=c.ticket_number,
        id_digest=id_digest(c.id_number, salt),
        status=c.status,
        eligibility=c.eligibility,
        room_code=seat.room_code if seat else None,
        room_id=seat.room_id if seat else None,
        seat_no=seat.seat_no if seat else None,
        masked_id=mask_id_number(c.id_number),
        # A skill seat drawn before sittings were (sitting 0) names none: theory check-in only, as before.
        sitting=station.sitting if station and station.sitting else None,
        station_room_code=station.room_code if station else None,
        station_room_id=station.room_id if station else None,
        station_no=station.station_no if station else None,
        room_name=seat.room_name if seat else None,
        station_room_name=station.room_name if station else None,
    )


def prior_checkins(db: Session, candidate_id: int) -> dict[int, rules.PriorCheckIn]:
    """The accepted check-in on record per session for one candidate, with the kiosk's name."""
    rows = db.exec(
        select(Attendance.session_id, Attendance.at, Account.username, Attendance.checkin_id)
        .join(CheckIn, col(CheckIn.id) == Attendance.checkin_id)
        .join(Account, col(Account.id) == CheckIn.kiosk_account_id)
        .where(Attendance.candidate_id == candidate_id)
    ).all()
    return {sid: rules.PriorCheckIn(at, kiosk, ciid) for sid, at, kiosk, ciid in rows}


class FilingFacts(NamedTuple):
    id: int
    status: str
    valid_from: date
    valid_until: date


@dataclass
class Facts:
    batch: rules.BatchFacts | None = None
    sessions: list[rules.SessionFacts] = field(default_factory=list)
    candidate: rules.CandidateFacts | None = None
    seat: Seating | None = None
    has_photo: bool = False  # the registration photo, for the desk
    salt: bytes = b"-"
    prior: dict[int, rules.PriorCheckIn] = field(default_factory=dict)
    filings: list[FilingFacts] = field(default_factory=list)  # the institution's, for its standing (R-INST-2)


# Columns, not the Batch entity: the facts are plain values, and the ORM's identity map is not needed.
_BATCH_COLUMNS = (Batch.id, Batch.institution_id, Batch.exam_date, Batch.config, Batch.status)
_B = len(_BATCH_COLUMNS)  # the candidate's columns follow the batch's

_SESSION_COLUMNS = (ExamSession.id, ExamSession.part, ExamSession.starts_at, ExamSession.ends_at)
_FILING_COLUMNS = (Filing.id, Filing.status, Filing.valid_from, Filing.valid_until)
_S = -len(_SESSION_COLUMNS) - len(_FILING_COLUMNS)  # where the session's columns begin, from the end
_F = -len(_FILING_COLUMNS)

_CANDIDATE_COLUMNS = (
    Candidate.id,
    Candidate.name,
    Candidate.ticket_number,
    Candidate.id_number,
    Candidate.status,
    Candidate.eligibility,
    Candidate.photo_blob_id,
)


def _load_statement():
    # Built once: a check-in runs this at the door, and building it costs more than running it.
    on_ticket = (Candidate.batch_id == Batch.id) & (Candidate.ticket_number == bindparam("ticket_number"))
    on_seat = (Seat.candidate_id == Candidate.id) & (Seat.batch_id == Batch.id) & (Seat.part == rules.CHECKIN_PART)
    station, station_room = aliased(Seat), aliased(Room)
    on_station = (station.candidate_id == Candidate.id) & (station.batch_id == Batch.id) & (station.part == "skill")
    return (
        sa_select(
            *_BATCH_COLUMNS,
            *_CANDIDATE_COLUMNS,
            Room.id,
            Room.code,
            Room.name,
            Seat.seat_no,
            Attendance.session_id,
            Attendance.at,
            Account.username,
            Attendance.checkin_id,
            station.sitting,
            station_room.id,
            station_room.code,
            station.seat_no,
            station_room.name,
            *_SESSION_COLUMNS,
            *_FILING_COLUMNS,
        )
        .select_from(Batch)
        .join(Candidate, on_ticket, isouter=True)
        .join(Seat, on_seat, isouter=True)
        .join(Room, Room.id == Seat.room_id, isouter=True)
        .join(station, on_station, isouter=True)
        .join(station_room, station_room.id == station.room_id, isouter=True)
        .join(Attendance, Attendance.candidate_id == Candidate.id, isouter=True)
        .join(CheckIn, CheckIn.id == Attendance.checkin_id, isouter=True)
        .join(Account, Account.id == CheckIn.kiosk_account_id, isouter=True)
        # The batch's sessions and the institution's filings ride along (a row for each
        # combination, a handful): one round trip instead of three (issue #18).
        .join(ExamSession, ExamSession.batch_id == Batch.id, isouter=True)
        .join(Filing, Filing.institution_id == Batch.institution_id, isouter=True)
        .where(Batch.id == bindparam("batch_id"))
    )


_LOAD = _load_statement()


def load(db: Session, batch_id: int, ticket_number: str, secret_key: str) -> Facts:
    """Everything ``rules.decide`` needs about one presented ticket, in one read: the batch with
    the candidate, the seat, any check-in on record, the batch's sessions and the institution's
    filings (a row for each combination of the last three)."""
    facts = Facts()
    rows = db.connection().execute(_LOAD, {"batch_id": batch_id, "ticket_number": ticket_number}).all()
    if not rows:
        return facts
    first = rows[0]
    facts.batch = _batch_facts(*first[:_B])
    sessions = {row[_S]: row[_S:_F] for row in rows if row[_S] is not None}
    facts.sessions = sorted(
        (rules.SessionFacts(*v) for v in sessions.values()), key=lambda s: (s.starts_at, s.session_id)
    )
    facts.filings = list({row[_F]: FilingFacts(*row[_F:]) for row in rows if row[_F] is not None}.values())
    facts.salt = id_salt(secret_key, facts.batch.institution_id)
    r = first[_B:]  # the candidate's columns, then the seat, the check-in on record, the station
    if r[0] is None:  # no such ticket number in this batch
        return facts
    cand = _Row(*r[0:7])
    facts.seat = Seating(r[7], r[8], r[9], r[10]) if r[7] is not None else None
    facts.has_photo = cand.photo_blob_id is not None
    station = Station(r[15], r[16], r[17], r[18], r[19]) if r[16] is not None else None
    facts.candidate = candidate_facts(cand, facts.salt, facts.seat, station)
    facts.prior = {
        row[_B + 11]: rules.PriorCheckIn(row[_B + 12], row[_B + 13], row[_B + 14])
        for row in rows
        if row[_B + 11] is not None
    }
    return facts


@dataclass
class _Row:
    id: int
    name: str
    ticket_number: str
    id_number: str
    status: str
    eligibility: str
    photo_blob_id: int | None
