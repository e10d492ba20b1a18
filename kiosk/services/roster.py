"""What kiosks, the desk and proctors read about check-in: the offline roster (签到名单),
the stored attempts, offline conflicts, and the search by name for a lost ticket.

R-PRIV-1: the roster carries no digit of an ID number: per candidate a random
salt and a memory-hard hash (``kiosk/idhash.py``), and names masked; the search shows masked ID numbers to everyone and full
names to the admin only. R-DAY-1: the attempts list is the record of every
check-in attempt with its reason, kiosk and time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from examday import access
from examday.accounts.models import Account
from examday.actor import Actor
from examday.clock import iso
from examday.errors import forbidden, not_found
from examday.identity import mask_id_number, mask_name
from examday.plans.models import Batch, Candidate, Seat
from examday.plans.tickets import id_salt, key_set, revoked_token_ids
from examday.registry.models import Institution, Room
from examday.rows import row_id
from examday.ticket_token import id_digest, public_keys_document
from kiosk import idhash, rules
from kiosk.answer import sitting_of
from kiosk.models import Attendance, CheckIn, OfflineConflict
from kiosk.services import facts as F
from kiosk.services.roster_hashes import roster_hashes
from storage.blobs import Blob

# 2: argon2id per candidate; no id_salt, id_digest or masked_id (issue #14).
# 3: the skill sittings among the sessions, each candidate's sitting and workstation (issue #15).
ROSTER_FORMAT = 3


def batch_for(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch, for its institution's door: kiosks and the exam office (examday.access)."""
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not access.can_check_in(actor, inst):
        raise forbidden("This batch belongs to another institution.")
    return batch


def _in_view(view: access.BatchView):
    """Check-ins a proctor may read: made for one of their rooms, or by a candidate seated in one."""
    if view.room_ids is None:
        return None
    seated = select(Seat.candidate_id).where(Seat.batch_id == view.batch.id, col(Seat.room_id).in_(view.room_ids))
    return or_(col(CheckIn.room_id).in_(view.room_ids), col(CheckIn.candidate_id).in_(seated))


def _present_by_candidate(db: Session, batch_id: int) -> dict[int, list[dict[str, Any]]]:
    """Who is already in, per candidate: session, time and kiosk (an offline kiosk answers already_checked_in)."""
    out: dict[int, list[dict[str, Any]]] = {}
    rows = db.exec(
        select(Attendance, Account.username)
        .join(CheckIn, col(CheckIn.id) == Attendance.checkin_id)
        .join(Account, col(Account.id) == CheckIn.kiosk_account_id)
        .where(Attendance.batch_id == batch_id)
    ).all()
    for a, kiosk in rows:
        out.setdefault(a.candidate_id, []).append({"session_id": a.session_id, "at": iso(a.at), "kiosk": kiosk})
    return out


def roster(db: Session, actor: Actor, batch_id: int, now: datetime, secret_key: str) -> dict[str, Any]:
    """Everything an offline kiosk needs to judge a check-in as the server would (kiosk/rules.py)."""
    batch = batch_for(db, actor, batch_id)
    assert batch.id is not None
    bf = F.batch_facts(batch)
    salt = id_salt(secret_key, batch.institution_id)
    seats = F.seats(db, batch.id)
    stations = F.stations(db, batch.id)
    sessions = F.session_facts(db, batch.id)
    present = _present_by_candidate(db, batch.id)
    people: list[dict[str, Any]] = []
    cands = db.exec(select(Candidate).where(Candidate.batch_id == batch.id).order_by(col(Candidate.id))).all()
    to_hash = [(row_id(c), id_digest(c.id_number, salt), c.id_number) for c in cands]
    for c in cands:
        assert c.id is not None
        seat, station = seats.get(c.id), stations.get(c.id)
        people.append(
            {
                "id": c.id,
                "ticket_number": c.ticket_number,
                "name": mask_name(c.name),
                "id_salt": "",
                "id_hash": "",
                "status": c.status,
                "eligibility": c.eligibility,
                "room_code": seat.room_code if seat else None,
                "room_id": seat.room_id if seat else None,
                "room_name": seat.room_name if seat else None,
                "seat": seat.seat_no if seat else None,
                # R-SEAT-1 (issue #15): the skill sitting and workstation drawn, so that an offline
                # kiosk admits a skill candidate at their own sitting only, as the server does.
                "sitting": station.sitting or None if station else None,
                "station_room_code": station.room_code if station else None,
                "station_room_id": station.room_id if station else None,
                "station_room_name": station.room_name if station else None,
                "station": station.station_no if station else None,
                "checked_in": present.get(c.id, []),
            }
        )
    public, revoked_kids = key_set(db, batch.institution_id)
    doc = {
        "format": ROSTER_FORMAT,
        "generated_at": iso(now),
        "batch": {
            "id": batch.id,
            "institution_id": batch.institution_id,
            "exam_date": batch.exam_date.isoformat(),
            "occupation_code": batch.occupation_code,
            "occupation_name": batch.occupation_name,
            "level": batch.level,
            "status": batch.status,
            "entry_open_minutes": bf.entry_open_minutes,
            "entry_close_minutes": bf.entry_close_minutes,
        },
        "sessions": [
            {
                "id": w.session.session_id,
                "part": w.session.part,
                "starts_at": iso(w.session.starts_at),
                "ends_at": iso(w.session.ends_at),
                "entry_opens_at": iso(w.opens_at),
                "entry_closes_at": iso(w.closes_at),
            }
            # Theory and every skill sitting: each candidate enters theory and their own sitting.
            for w in sorted(
                [*rules.windows(bf, sessions), *rules.windows(bf, sessions, rules.SITTING_PART)],
                key=lambda w: (w.opens_at, w.session.session_id),
            )
        ],
        # The kiosk checks a typed number against its candidate's row with these (kiosk/idhash.py).
        "id_hash": idhash.PARAMS,
        "candidates": people,
        "revoked_token_ids": sorted(revoked_token_ids(db, batch.id)),
        "keys": public_keys_document(public, revoked_kids),
    }
    # Everything is read. On SQLite every transaction holds the write lock (BEGIN IMMEDIATE):
    # ending this read-only one before the slow hashes keeps check-ins from waiting behind it.
    db.rollback()
    hashes = roster_hashes(db, actor, now, batch.institution_id, batch.id, to_hash)
    for person in people:
        person["id_salt"], person["id_hash"] = hashes[person["id"]]
    return doc


def attempts(
    db: Session, actor: Actor, batch_id: int, status: str | None = None, after_id: int = 0, limit: int = 500
) -> list[dict[str, Any]]:
    # R-DAY-3 (issue #14 finding 9): a proctor reads only their own rooms' attempts.
    view = access.reader_view(db, actor, batch_id)
    q = (
        select(CheckIn, Account.username, Candidate.name, Room.code)
        .join(Account, col(Account.id) == CheckIn.kiosk_account_id)
        .join(Candidate, col(Candidate.id) == CheckIn.candidate_id, isouter=True)
        .join(Room, col(Room.id) == CheckIn.room_id, isouter=True)
        .where(CheckIn.batch_id == batch_id, col(CheckIn.id) > after_id)
        .order_by(col(CheckIn.id))
        .limit(max(1, min(limit, 5000)))
    )
    if status:
        q = q.where(CheckIn.status == status)
    if (mine := _in_view(view)) is not None:
        q = q.where(mine)
    return [
        {
            "id": ci.id,
            "at": iso(ci.at),
            "scanned_at": iso(ci.scanned_at),
            "offline": ci.offline,
            "via": ci.via,
            "kiosk": kiosk,
            "status": ci.status,
            "code": ci.code,
            "rule": ci.rule,
            "candidate_id": ci.candidate_id,
            "candidate_name": name,
            "ticket_number": ci.ticket_number,
            "session_id": ci.session_id,
            "room_code": room,
            "seat": ci.seat_no,
            "late": ci.late,
            "photo": f"/api/v1/checkins/{ci.id}/photo" if ci.photo_blob_id else None,
        }
        for ci, kiosk, name, room in db.exec(q).all()
    ]


def conflicts(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    view = access.reader_view(db, actor, batch_id)
    q = (
        select(OfflineConflict, Candidate.name)
        .join(Candidate, col(Candidate.id) == OfflineConflict.candidate_id)
        .where(OfflineConflict.batch_id == batch_id)
        .order_by(col(OfflineConflict.id))
    )
    if view.room_ids is not None:  # a proctor: the candidates seated in their rooms
        q = q.where(
            col(OfflineConflict.candidate_id).in_(
                select(Seat.candidate_id).where(Seat.batch_id == batch_id, col(Seat.room_id).in_(view.room_ids))
            )
        )
    rows = db.exec(q).all()
    return [
        {
            "id": f.id,
            "candidate_id": f.candidate_id,
            "candidate_name": name,
            "session_id": f.session_id,
            "reason": f.reason,
            "code": f.code,
            "kept_checkin_id": f.kept_checkin_id,
            "other_checkin_id": f.other_checkin_id,
            "at": iso(f.at),
            "resolved_at": iso(f.resolved_at),
        }
        for f, name in rows
    ]


def _place(
    now: datetime, ws: list[rules.Window], sittings: list[rules.Window], facts: rules.CandidateFacts
) -> tuple[rules.SessionFacts | None, bool]:
    """The candidate's current session — the one whose entry is open, else the next, else the
    last — and whether it is their skill sitting (R-SEAT-1): then the desk names the skill room
    and workstation, as the door's answer does on check-in."""
    own = rules.own_windows(ws, sittings, facts)
    if not own:
        return None, False
    w = next((w for w in own if now <= w.closes_at), own[-1])
    return w.session, w.session.part == rules.SITTING_PART and facts.station_room_code is not None


def search(db: Session, actor: Actor, batch_id: int, q: str, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """Candidates by name or ticket number, for someone who lost the ticket; the ID check still applies.
    Each names where the candidate goes now: the theory seat, or the skill sitting's room and
    workstation (issue #16)."""
    batch = batch_for(db, actor, batch_id)
    q = (q or "").strip()
    if not q:
        return []
    rows = db.exec(
        select(Candidate)
        .where(
            Candidate.batch_id == batch_id,
            or_(
                col(Candidate.name).contains(q, autoescape=True),
                col(Candidate.ticket_number).startswith(q, autoescape=True),
            ),
        )
        .order_by(Candidate.name, col(Candidate.id))
        .limit(max(1, min(limit, 50)))
    ).all()
    seats = F.seats(db, batch_id, [row_id(c) for c in rows])
    stations = F.stations(db, batch_id)
    sessions = F.session_facts(db, batch_id)
    bf = F.batch_facts(batch)
    ws, sittings = rules.windows(bf, sessions), rules.windows(bf, sessions, rules.SITTING_PART)
    present = _present_by_candidate(db, batch_id)
    full_names = actor.role == "admin"
    out = []
    for c in rows:
        facts = F.candidate_facts(c, b"-", seats.get(row_id(c)), stations.get(row_id(c)))
        session, skill = _place(now, ws, sittings, facts)
        out.append(
            {
                "id": c.id,
                "name": c.name if full_names else mask_name(c.name),
                "masked_id": mask_id_number(c.id_number),
                "ticket_number": c.ticket_number,
                "status": c.status,
                "part": session.part if session else None,
                "room_code": facts.station_room_code if skill else facts.room_code,
                "room_name": facts.station_room_name if skill else facts.room_name,
                "seat": facts.station_no if skill else facts.seat_no,
                "station": facts.station_no if skill else None,
                "sitting": sitting_of(session, sessions) if skill and session else None,
                "checked_in": bool(present.get(row_id(c))),
                "has_photo": c.photo_blob_id is not None,
            }
        )
    return out


def checkin_photo(db: Session, actor: Actor, checkin_id: int) -> Blob:
    row = db.get(CheckIn, checkin_id)
    if row is None or row.batch_id is None:
        raise not_found("check-in")
    view = access.reader_view(db, actor, row.batch_id)
    if not access.sees_checkin(db, view, row.room_id, row.candidate_id):
        raise forbidden("This check-in was made for a room you do not proctor.")
    blob = db.get(Blob, row.photo_blob_id) if row.photo_blob_id else None
    if blob is None or blob.purged_at is not None:
        raise not_found("photo")
    return blob


def todays_batches(db: Session, actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """The batches a kiosk or desk serves today (the desk page's picker, the kiosk's roster download)."""
    from examday.clock import CST

    q = select(Batch).where(Batch.exam_date == now.astimezone(CST).date())
    if actor.institution_id is not None:
        q = q.where(Batch.institution_id == actor.institution_id)
    return [
        {
            "id": b.id,
            "institution_id": b.institution_id,
            "occupation_code": b.occupation_code,
            "occupation_name": b.occupation_name,
            "level": b.level,
            "exam_date": b.exam_date.isoformat(),
            "status": b.status,
        }
        for b in db.exec(q.order_by(col(Batch.id))).all()
    ]
