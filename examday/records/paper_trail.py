"""The paper trail after a session (R-DAY-3, R-ARCH-1): each room's sign-in sheet (签到表),
produced from the check-ins as a PDF and archived permanently.

Nothing ticks per session: the sheets of every session that has ended are archived the first
time the batch's archive is read or listed after the end (:func:`archive_ended`), or a room's
sheet is asked for (:func:`room_sheet`), and found there the next time. Check-in's tables are kiosk's, read through :mod:`examday.plans.attendance`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from examday.access import reader_view
from examday.actor import SYSTEM, Actor
from examday.clock import iso
from examday.errors import conflict, not_found
from examday.glossary import zh
from examday.identity import mask_id_number
from examday.plans import attendance
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SessionRoom
from examday.plans.room_sheets import SignedIn, render_signin_record_pdf
from examday.records import archive
from examday.registry.models import Institution, Room
from examday.rows import row_id
from storage.blobs import Blob, BlobStore
from storage.retention_models import ArchivedDocument


def sheet_ref(session_id: int, room_id: int) -> str:
    return f"session:{session_id}:room:{room_id}"


def signin_rows(db: Session, blobs: BlobStore, batch: Batch, session: ExamSession, room: Room) -> list[SignedIn]:
    """The room's candidates (its seats for the session's part and sitting, and whoever was
    admitted to it from elsewhere) with their check-in: time, late mark, kiosk, door photo."""
    sittings = {0, row_id(session)} if session.part == "skill" else {0}
    seated: dict[int, tuple[int | None, Candidate]] = {
        row_id(c): (no, c)
        for no, c in db.exec(
            select(Seat.seat_no, Candidate)
            .join(Candidate, col(Candidate.id) == Seat.candidate_id)
            .where(Seat.batch_id == batch.id, Seat.part == session.part, Seat.room_id == room.id)
            .where(col(Seat.sitting).in_(sittings), Candidate.status == "registered")
        ).all()
    }
    arrived = {
        a.candidate_id: a
        for a in attendance.arrivals(db, row_id(session))
        if a.room_id == room.id or (a.room_id is None and a.candidate_id in seated)
    }
    others = set(arrived) - set(seated)
    if others:
        for c in db.exec(select(Candidate).where(col(Candidate.id).in_(others))).all():
            seated[row_id(c)] = (None, c)
    photo_ids = [a.photo_blob_id for a in arrived.values() if a.photo_blob_id]
    photos = {
        b.id: b for b in db.exec(select(Blob).where(col(Blob.id).in_(photo_ids), col(Blob.purged_at).is_(None))).all()
    }
    rows = []
    for cid, (no, c) in seated.items():
        a = arrived.get(cid)
        photo = None
        if a is not None and a.photo_blob_id in photos:
            try:
                photo = blobs.read(photos[a.photo_blob_id].key)
            except OSError:  # a missing file leaves an empty box, never a missing sheet
                photo = None
        rows.append(
            SignedIn(
                no,
                c.ticket_number,
                c.name,
                mask_id_number(c.id_number),
                a.at if a else None,
                bool(a and a.late),
                (a.kiosk if a else ""),
                photo,
            )
        )
    return rows


def signin_sheet_pdf(db: Session, blobs: BlobStore, batch: Batch, session: ExamSession, room: Room, now: datetime):
    inst = db.get(Institution, batch.institution_id)
    return render_signin_record_pdf(
        f"{room.code} {room.name}",
        (session.part, session.starts_at, session.ends_at),
        signin_rows(db, blobs, batch, session, room),
        inst.name if inst else "",
        now,
    )


def _archive_sheet(
    db: Session, blobs: BlobStore, now: datetime, batch: Batch, session: ExamSession, room: Room
) -> ArchivedDocument:
    pdf = signin_sheet_pdf(db, blobs, batch, session, room, now)
    # The part in words: a person reads the file's name in the archive's list (issue #16).
    name = f"签到表 {room.code} {zh(session.part, 'part')} {session.starts_at.date().isoformat()}.pdf"
    ref = sheet_ref(row_id(session), row_id(room))
    return archive.archive(
        db, blobs, SYSTEM, "sign_in_sheet", batch.institution_id, row_id(batch), name, pdf, "application/pdf", now, ref
    )


def room_sheet(
    db: Session, blobs: BlobStore, actor: Actor, now: datetime, batch_id: int, room_code: str, session_id: int
) -> bytes:
    """One room's sign-in sheet as it happened, once its session has ended (R-DAY-3): archived
    the first time, read from the archive after. A proctor reads only their own rooms'."""
    view = reader_view(db, actor, batch_id)
    view.require_room(room_code)
    row = db.exec(
        select(ExamSession, Room)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id)
        .join(Room, col(Room.id) == SessionRoom.room_id)
        .where(ExamSession.batch_id == batch_id, ExamSession.id == session_id, Room.code == room_code)
    ).first()
    if row is None:
        raise not_found("room of this session")
    session, room = row
    if now < session.ends_at:
        raise conflict(
            "session_not_ended",
            "场次尚未结束，签到表尚未生成",
            "The session has not ended: its sign-in sheet is not produced yet.",
            "R-DAY-3",
            ends_at=iso(session.ends_at),
        )
    doc = _existing_sheet(db, batch_id, sheet_ref(row_id(session), row_id(room)))
    if doc is None:
        doc = _archive_sheet(db, blobs, now, view.batch, session, room)
    blob = db.get(Blob, doc.blob_id)
    if blob is None or blob.purged_at is not None:  # a key document is never purged; safe all the same
        raise not_found("sign-in sheet")
    return blobs.read(blob.key)


def _existing_sheet(db: Session, batch_id: int, ref: str) -> ArchivedDocument | None:
    return db.exec(
        select(ArchivedDocument).where(
            ArchivedDocument.batch_id == batch_id, ArchivedDocument.kind == "sign_in_sheet", ArchivedDocument.ref == ref
        )
    ).first()


def archive_ended(db: Session, blobs: BlobStore, now: datetime, batch: Batch) -> list[ArchivedDocument]:
    """Archive the sign-in sheet of every room of every session of the batch that has ended
    and has none yet (R-DAY-3, R-ARCH-1). The caller commits."""
    done = set(
        db.exec(
            select(ArchivedDocument.ref).where(
                ArchivedDocument.batch_id == batch.id, ArchivedDocument.kind == "sign_in_sheet"
            )
        ).all()
    )
    due = db.exec(
        select(ExamSession, Room)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id)
        .join(Room, col(Room.id) == SessionRoom.room_id)
        .where(ExamSession.batch_id == batch.id, ExamSession.ends_at <= now)
        .order_by(col(ExamSession.starts_at), col(Room.code))
    ).all()
    made = []
    for session, room in due:
        if sheet_ref(row_id(session), row_id(room)) not in done:
            made.append(_archive_sheet(db, blobs, now, batch, session, room))
    return made
