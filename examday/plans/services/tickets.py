"""Admission tickets (准考证) and room papers: what the ticket PNG and the batch's
PDF show (drawn by the controllers once the transaction has ended), reissue,
the institution's ticket keys, candidate photos, and the seating chart (座位表),
door list and sign-in sheet (签到表) of a room.

R-DAY-1: the QR carries the signed token the kiosk verifies offline with the
keys from ``ticket-keys``; a reissue revokes the old token; a key verifies
what it signed until it is revoked. R-SEAT-1: the ticket and the chart show
the allocated seat. R-PRIV-1: the ticket and every paper print the ID number
masked for every role; posted papers print masked names. R-DAY-3: the
sign-in sheet template.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, col, select

from examday import audit
from examday.access import institution_for_write, reader_view, sees_candidate
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.identity import mask_id_number, mask_name
from examday.plans.access import batch_for_read, batch_for_write
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SessionRoom, Ticket
from examday.plans.room_sheets import render_door_list_png, render_seating_chart_png, render_signin_sheet_png
from examday.plans.services.seating import OPEN_STATUSES, latest_run, layout, part_rooms
from examday.plans.services.ticket_printing import moved_since_printed, printed
from examday.plans.ticket_render import TicketView
from examday.plans.tickets import current_ticket, issue_ticket
from examday.registry.models import Institution, Room
from storage.blobs import Blob, BlobStore

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}


# -- the ticket -----------------------------------------------------------------------------


def _candidate_to_change(db: Session, actor: Actor, candidate_id: int) -> tuple[Candidate, Batch]:
    cand = db.get(Candidate, candidate_id)
    if cand is None:
        raise not_found("candidate")
    return cand, batch_for_write(db, actor, cand.batch_id)


def _sitting(cand: Candidate) -> None:
    if cand.status != "registered":
        raise conflict(
            "candidate_withdrawn",
            "该考生已退考，不再出具准考证",
            "The candidate has withdrawn; no admission ticket is issued.",
            "R-DAY-1",
        )
    if cand.eligibility == "ineligible":
        raise conflict(
            "candidate_ineligible",
            "该考生不符合申报条件，不出具准考证",
            "The candidate was found ineligible; no admission ticket is issued.",
            "R-PLAN-4",
        )


def _photo(db: Session, blobs: BlobStore, blob_id: int | None) -> bytes | None:
    blob = db.get(Blob, blob_id) if blob_id else None
    if blob is None or blob.purged_at is not None or not blobs.exists(blob.key):
        return None
    return blobs.read(blob.key)


def _sessions(db: Session, batch_id: int) -> list[tuple[str, datetime, datetime, set[int], int]]:
    rows = db.exec(
        select(ExamSession, SessionRoom.room_id)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id, isouter=True)
        .where(ExamSession.batch_id == batch_id)
        .order_by(col(ExamSession.starts_at), col(ExamSession.id))
    ).all()
    by_id: dict[int, tuple[str, datetime, datetime, set[int], int]] = {}
    for s, room_id in rows:
        assert s.id is not None
        entry = by_id.setdefault(s.id, (s.part, s.starts_at, s.ends_at, set(), s.id))
        if room_id is not None:
            entry[3].add(room_id)
    return list(by_id.values())


def _places(db: Session, batch_id: int) -> dict[tuple[int, str], tuple[int, str, int, int, str]]:
    """(candidate, part) → (room id, room code, seat, sitting: the skill session id, else 0, room name)."""
    rows = db.exec(
        select(Seat.candidate_id, Seat.part, Room.id, Room.code, Seat.seat_no, Seat.sitting, Room.name)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .join(Room, col(Room.id) == Seat.room_id)
        .where(Seat.batch_id == batch_id)
    ).all()
    return {(cid, part): (rid, code, no, sitting, name) for cid, part, rid, code, no, sitting, name in rows}


def _view(
    inst: Institution, batch: Batch, cand: Candidate, ticket: Ticket, sessions: list, places: dict, photo: bytes | None
) -> TicketView:
    # A candidate's sittings are those of the rooms they are placed in, or the one skill sitting drawn
    # for them (R-SEAT-1, issue #15); an unplaced part shows all its sittings.
    mine, where = [], {}
    for part, starts, ends, room_ids, session_id in sessions:
        place = places.get((cand.id, part))
        if place is None or (place[3] == session_id if place[3] else place[0] in room_ids):
            mine.append((part, starts, ends))
        if place is not None and place[3] == session_id:
            where[part] = f"{place[1]} 工位 {place[2]}"
    theory = places.get((cand.id, "theory"))
    config = BatchConfig.from_json(batch.config)  # R-TIME-1: the filed plan's entry window, not a constant
    return TicketView(
        institution=inst.name,
        ticket_number=cand.ticket_number,
        name=cand.name,
        masked_id=mask_id_number(cand.id_number),  # R-PRIV-1: masked for every role
        occupation_name=batch.occupation_name or "",
        occupation_code=batch.occupation_code,
        level=batch.level,
        parts=batch.part_list(),
        sessions=mine,
        room_code=theory[1] if theory else "—",
        seat=theory[2] if theory else None,
        qr_text=ticket.qr_text,
        photo=photo,
        places=where,
        room_name=theory[4] if theory else "",
        address=inst.address or "",  # the exam site (issue #16)
        entry_open_minutes=config.entry_open_minutes,
        entry_close_minutes=config.entry_close_minutes,
    )


def _office_batch(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch if the caller is its exam office; no row lock, so rendering never holds one."""
    batch = batch_for_read(db, actor, batch_id)
    institution_for_write(db, actor, batch.institution_id)
    return batch


def ticket_view(
    db: Session, actor: Actor, now: datetime, candidate_id: int, secret_key: str, blobs: BlobStore
) -> TicketView:
    """What the candidate's ticket shows; the ticket is issued on this first request if seating did not."""
    cand = db.get(Candidate, candidate_id)
    if cand is None:
        raise not_found("candidate")
    assert cand.id is not None
    batch = _office_batch(db, actor, cand.batch_id)
    assert batch.id is not None
    _sitting(cand)
    ticket = current_ticket(db, cand.id) or issue_ticket(db, actor, batch, cand, secret_key, now)
    printed(db, actor, now, batch, [ticket])
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None  # the batch's institution: a foreign key
    return _view(
        inst, batch, cand, ticket, _sessions(db, batch.id), _places(db, batch.id), _photo(db, blobs, cand.photo_blob_id)
    )


def batch_views(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    secret_key: str,
    blobs: BlobStore,
    reprint_only: bool = False,
) -> list[TicketView]:
    """Every sitting candidate's ticket, room by room and seat by seat (missing ones issued now);
    ``reprint_only``: those whose seat moved since their ticket was printed (R-SEAT-1)."""
    batch = _office_batch(db, actor, batch_id)
    assert batch.id is not None
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None  # the batch's institution: a foreign key
    sessions, places = _sessions(db, batch.id), _places(db, batch.id)
    cands = db.exec(
        select(Candidate).where(
            Candidate.batch_id == batch.id, Candidate.status == "registered", Candidate.eligibility != "ineligible"
        )
    ).all()
    current = {
        t.candidate_id: t
        for t in db.exec(
            select(Ticket)
            .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
            .where(Candidate.batch_id == batch.id, col(Ticket.revoked_at).is_(None))
            .order_by(col(Ticket.id))
        ).all()
    }

    def order(c: Candidate) -> tuple:
        assert c.id is not None
        place = places.get((c.id, "theory"))
        return (place is None, place[1] if place else "", place[2] if place else 0, c.ticket_number)

    if reprint_only:
        moved = moved_since_printed(db, batch.id, current)
        cands = [c for c in cands if c.id in moved]
    views, out = [], []
    for c in sorted(cands, key=order):
        assert c.id is not None
        ticket = current.get(c.id) or issue_ticket(db, actor, batch, c, secret_key, now)
        out.append(ticket)
        views.append(_view(inst, batch, c, ticket, sessions, places, _photo(db, blobs, c.photo_blob_id)))
    printed(db, actor, now, batch, out)
    return views


def reissue(db: Session, actor: Actor, now: datetime, candidate_id: int, secret_key: str) -> dict[str, Any]:
    """A new token for a lost or compromised ticket; the old one is refused from now on (R-DAY-1)."""
    cand, batch = _candidate_to_change(db, actor, candidate_id)
    assert cand.id is not None
    if batch.status not in OPEN_STATUSES:
        raise conflict(
            "seating_closed",
            "该批次已进入公示或已锁定，不再补发准考证",
            "This batch is past its exam; tickets are no longer reissued.",
            "R-DAY-1",
            status=batch.status,
        )
    _sitting(cand)
    old = current_ticket(db, cand.id)
    new = issue_ticket(db, actor, batch, cand, secret_key, now, reissue=True)
    return {
        "candidate_id": cand.id,
        "ticket_number": cand.ticket_number,
        "token_id": new.token_id,
        "kid": new.kid,
        "issued_at": iso(new.issued_at),
        "revoked_token_id": old.token_id if old else None,
    }


# -- candidate photos (served back by candidate_photo below) ---------------------


def put_photo(
    db: Session, actor: Actor, now: datetime, candidate_id: int, data: bytes, blobs: BlobStore
) -> dict[str, Any]:
    cand, batch = _candidate_to_change(db, actor, candidate_id)
    if batch.status == "locked":
        # R-SCORE-3: the database refuses changes to a locked batch's candidates (scoring/ddl.py).
        raise conflict(
            "locked",
            "该批次成绩已锁定封存，不能再修改",
            "This batch is locked and sealed; its candidates cannot change.",
            "R-SCORE-3",
            batch_id=batch.id,
        )
    if not data or len(data) > PHOTO_MAX_BYTES:
        raise Refusal(
            "invalid_photo",
            "照片应为不超过 5 MB 的 JPEG 或 PNG 图片",
            "The photo is a JPEG or PNG of at most 5 MB.",
            None,
            422,
            {"bytes": len(data or b"")},
        )
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind, size = picture.format, picture.size
            picture.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        kind, size = None, (0, 0)
    if kind not in PHOTO_TYPES or min(size) < 32:
        raise Refusal(
            "invalid_photo",
            "照片应为不超过 5 MB 的 JPEG 或 PNG 图片",
            "The photo is a JPEG or PNG of at most 5 MB.",
            None,
            422,
            {"format": kind},
        )
    content_type, suffix = PHOTO_TYPES[kind]
    stored = blobs.put(data, suffix)
    # Registration material: an electronic record (R-ARCH-1).
    blob = Blob(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        retention_class="electronic_records",
        institution_id=batch.institution_id,
        label="candidate photo",
        created_at=now,
    )
    db.add(blob)
    db.flush()
    before = cand.photo_blob_id
    cand.photo_blob_id = blob.id
    db.add(cand)
    audit.record(
        db,
        actor,
        "candidate.photo",
        "candidate",
        cand.id,
        {"photo_blob_id": [before, blob.id], "sha256": stored.sha256},
        now,
        batch.institution_id,
    )
    return {
        "candidate_id": cand.id,
        "photo": f"/api/v1/candidates/{cand.id}/photo",
        "sha256": stored.sha256,
        "bytes": stored.size,
        "content_type": content_type,
    }


# -- room papers ------------------------------------------------------------------------------

PAPERS = ("chart", "door-list", "signin-sheet")


def room_paper(
    db: Session, actor: Actor, batch_id: int, room_code: str, paper: str, sitting: int | None = None
) -> Callable[[], bytes]:
    """The seating chart, door list or sign-in sheet of one room of the batch: a function that
    draws the PNG, so the caller ends its transaction before the (slow) drawing.

    R-DAY-3 (issue #14 finding 9): a proctor draws only the papers of their own rooms."""
    view = reader_view(db, actor, batch_id)
    batch = view.batch
    assert batch.id is not None
    part = next(
        (p for p in ("theory", "skill", "review") if any(r.code == room_code for r in part_rooms(db, batch.id, p))),
        None,
    )
    if part is None:
        raise not_found("room of this batch")
    room = next(r for r in part_rooms(db, batch.id, part) if r.code == room_code)
    view.require_room(room.code)
    # A skill room's papers are per sitting (issue #15): the one named, else the room's first.
    held = [(p, a, b, sid) for p, a, b, ids, sid in _sessions(db, batch.id) if p == part and room.id in ids]
    chosen = next((h for h in held if sitting in (None, h[3])), None)
    if sitting is not None and chosen is None:
        raise not_found("sitting of this room")
    session = chosen[:3] if chosen else None
    sittings = {0, chosen[3]} if chosen and part == "skill" else {0}
    rows = db.exec(
        select(Seat.seat_no, Candidate)
        .join(Candidate, col(Candidate.id) == Seat.candidate_id)
        .where(Seat.batch_id == batch.id, Seat.part == part, Seat.room_id == room.id, Candidate.status == "registered")
        .where(col(Seat.sitting).in_(sittings))
        .order_by(col(Seat.seat_no))
    ).all()
    label = f"{room.code} {room.name}"
    if paper == "chart":
        run = latest_run(db, batch.id, part)
        kept_free = json.loads(run.blocked or "{}").get(room.code, []) if run else []
        r, c = layout(room)
        # R-PRIV-1: posted at the door, so names are masked.
        return partial(
            render_seating_chart_png,
            room.code,
            room.name,
            r,
            c,
            {no: (cand.ticket_number, mask_name(cand.name)) for no, cand in rows},
            kept_free,
            room.seats,
            room.kind == "skill",  # 工位表 (issue #16)
        )
    if paper == "door-list":
        return partial(
            render_door_list_png, label, session, [(cand.ticket_number, mask_name(cand.name), no) for no, cand in rows]
        )
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None  # the batch's institution: a foreign key
    # R-DAY-3: the template before the exam; candidates sign in the blank column.
    return partial(
        render_signin_sheet_png,
        label,
        session,
        [(no, cand.ticket_number, cand.name, mask_id_number(cand.id_number)) for no, cand in rows],
        inst.name if inst else "",
    )


def candidate_photo(db: Session, actor: Actor, candidate_id: int) -> Blob:
    """The registration photo, for the door (kiosk, desk, proctor) and the office (R-DAY-1)."""
    cand = db.get(Candidate, candidate_id)
    if cand is None:
        raise not_found("candidate")
    # R-PRIV-1 (issue #14 finding 9): a proctor sees the photos of their own rooms' candidates only.
    if not sees_candidate(db, reader_view(db, actor, cand.batch_id), cand.id):
        raise forbidden("This candidate is not seated in a room you proctor.")
    blob = db.get(Blob, cand.photo_blob_id) if cand.photo_blob_id else None
    if blob is None or blob.purged_at is not None:
        raise not_found("photo")
    return blob
