"""The exam-room record (考场记录表, R-DAY-3): produced at the end of a session from
what happened, confirmed by each proctor of the room under their own account
(R-STAFF-4), afterwards changed only by an amendment on the audit chain
(R-AUDIT-1). The record is archived as a document (PNG) kept permanently (R-ARCH-1).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from examday import audit
from examday.access import batch_view
from examday.actor import Actor
from examday.clock import iso
from examday.errors import conflict, forbidden, not_found
from examday.plans.models import Batch, ExamSession
from examday.records import archive as records_archive
from examday.records import paper_trail
from examday.registry.models import Room, Staff
from examday.rows import row_id
from proctor import record_doc
from proctor.access import room_of, session_of
from proctor.models import RoomRecord, RoomRecordAmendment, RoomRecordConfirmation
from proctor.services.common import Outcome, archive, load_batch, proctor_place, text_field
from proctor.services.room_record_content import hash_of_content, proctors_of, record_content
from storage.blobs import BlobStore


def _confirmations(db: Session, record: RoomRecord) -> list[dict[str, Any]]:
    rows = db.exec(
        select(RoomRecordConfirmation, Staff)
        .join(Staff, col(Staff.id) == RoomRecordConfirmation.staff_id)
        .where(RoomRecordConfirmation.record_id == record.id)
        .order_by(col(RoomRecordConfirmation.id))
    ).all()
    return [
        {
            "staff_id": k.staff_id,
            "name": s.name,
            "account_id": k.account_id,
            "at": iso(k.at),
            "content_hash": k.content_hash,
        }
        for k, s in rows
    ]


def _amendments(db: Session, record: RoomRecord) -> list[dict[str, Any]]:
    from examday.accounts.models import Account

    rows = db.exec(
        select(RoomRecordAmendment, Account)
        .join(Account, col(Account.id) == RoomRecordAmendment.account_id)
        .where(RoomRecordAmendment.record_id == record.id)
        .order_by(col(RoomRecordAmendment.number))
    ).all()
    return [
        {
            "number": a.number,
            "text": a.text,
            "reason": a.reason,
            "by": acc.username,
            "at": iso(a.at),
            "document_blob_id": a.document_blob_id,
        }
        for a, acc in rows
    ]


def record_body(db: Session, record: RoomRecord, session: ExamSession, room: Room) -> dict[str, Any]:
    confirmations = _confirmations(db, record)
    amendments = _amendments(db, record)
    proctors = proctors_of(db, session, room)
    done = {k["staff_id"] for k in confirmations}
    status = "confirmed" if record.confirmed_at else ("confirming" if confirmations else "produced")
    return {
        "id": record.id,
        "status": status,
        "session_id": session.id,
        "room_code": room.code,
        "content": json.loads(record.content),
        "content_hash": record.content_hash,
        "produced_at": iso(record.produced_at),
        "confirmed_at": iso(record.confirmed_at),
        "confirmations": confirmations,
        "pending": [p.id for p in proctors if p.id not in done],
        "amendments": amendments,
        "document_blob_id": amendments[-1]["document_blob_id"] if amendments else record.document_blob_id,
    }


def _signer(actor: Actor) -> int:
    """The account of a person who signs: a proctor or the exam office, never the system."""
    if actor.account_id is None:
        raise ValueError(f"{actor.username} has no account")
    return actor.account_id


def _find(db: Session, session: ExamSession, room: Room) -> RoomRecord | None:
    return db.exec(select(RoomRecord).where(RoomRecord.session_id == session.id, RoomRecord.room_id == room.id)).first()


def _archive_doc(
    db: Session,
    blobs: BlobStore,
    actor: Actor,
    batch: Batch,
    room: Room,
    content: dict,
    now: datetime,
    confirmations=(),
    amendments=(),
) -> int:
    png = record_doc.render(record_doc.room_record_form(content, confirmations, amendments))
    blob = archive(
        db,
        blobs,
        png,
        "image/png",
        ".png",
        f"考场记录表 {room.code} session {content['session']['id']}",
        "key_documents",
        batch.institution_id,
        now,
    )  # R-ARCH-1: kept permanently
    # Listed in the batch's archive beside the sign-in sheets; each confirmed or amended
    # version is its own document.
    # The archive names who produced or amended this version, as the audit chain does.
    records_archive.archive(
        db,
        None,
        actor,
        "room_record",
        batch.institution_id,
        batch.id,
        f"考场记录表 {room.code}.png",
        None,
        "image/png",
        now,
        ref=f"session:{content['session']['id']}:room:{room.id}:{blob.sha256[:12]}",
        blob=blob,
    )
    return row_id(blob)


def get_record(
    db: Session, actor: Actor, now: datetime, batch_id: int, session_id: int, room_code: str
) -> dict[str, Any]:
    view = batch_view(db, actor, batch_id)
    if not view.sees(room_code):
        raise forbidden("This room is not yours to see.")
    session = session_of(db, view.batch, session_id)
    room = room_of(db, view.batch, session, room_code)
    record = _find(db, session, room)
    if record is None:
        return {
            "status": "not_produced",
            "session_id": session.id,
            "room_code": room.code,
            "draft": record_content(db, view.batch, session, room, now),
        }
    return record_body(db, record, session, room)


def produce_record(
    db: Session,
    actor: Actor,
    now: datetime,
    blobs: BlobStore,
    batch_id: int,
    session_id: int,
    room_code: str,
    remarks: str = "",
) -> Outcome:
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    if now < place.session.ends_at:
        raise conflict(
            "session_not_ended",
            "场次尚未结束，不能生成考场记录表",
            "The session has not ended yet.",
            "R-DAY-3",
            ends_at=iso(place.session.ends_at),
        )
    remarks = (remarks or "").strip()[:2000]
    content = record_content(db, place.batch, place.session, place.room, now, remarks)
    record = _find(db, place.session, place.room)
    if record is not None:
        if db.exec(select(RoomRecordConfirmation.id).where(RoomRecordConfirmation.record_id == record.id)).first():
            raise conflict(
                "record_confirmed",
                "考场记录表已确认，只能更正",
                "The record is confirmed; amend it instead.",
                "R-AUDIT-1",
            )
        action, before = "room_record.regenerate", record.content_hash
        record.content, record.content_hash = audit.canonical(content), hash_of_content(content)
        record.produced_at, record.produced_by = now, _signer(actor)
    else:
        action, before = "room_record.produce", None
        record = RoomRecord(
            batch_id=row_id(place.batch),
            session_id=row_id(place.session),
            room_id=row_id(place.room),
            content=audit.canonical(content),
            content_hash=hash_of_content(content),
            produced_at=now,
            produced_by=_signer(actor),
        )
    record.document_blob_id = _archive_doc(db, blobs, actor, place.batch, place.room, content, now)
    # R-DAY-3: the sign-in sheets of the sessions that have ended go to the archive now, as they
    # happened, rather than on the day someone first opens the archive.
    paper_trail.archive_ended(db, blobs, now, place.batch)
    db.add(record)
    try:
        db.flush()
    except IntegrityError:  # the other proctor produced it at the same moment
        db.rollback()
        raise conflict(
            "record_exists", "考场记录表已由其他监考员生成", "The record was just produced; reload it.", "R-DAY-3"
        ) from None
    audit.record(
        db,
        actor,
        action,
        "room_record",
        record.id,
        {
            "session_id": place.session.id,
            "room": place.room.code,
            "content_hash": [before, record.content_hash],
            "document_blob_id": record.document_blob_id,
        },
        now,
        place.batch.institution_id,
    )
    body = record_body(db, record, place.session, place.room)
    return Outcome(
        body, place.batch.id, "room_record", place.room.code, {"session_id": place.session.id, "status": body["status"]}
    )


def confirm_record(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    session_id: int,
    room_code: str,
    content_hash: str | None = None,
) -> Outcome:
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    record = _find(db, place.session, place.room)
    if record is None:
        raise not_found("exam-room record")
    if content_hash and content_hash != record.content_hash:
        raise conflict(
            "record_changed",
            "考场记录表已变更，请重新查看后确认",
            "The record changed since you read it; read it again.",
            "R-AUDIT-1",
        )
    if db.exec(
        select(RoomRecordConfirmation.id).where(
            RoomRecordConfirmation.record_id == record.id, RoomRecordConfirmation.staff_id == place.staff_id
        )
    ).first():
        raise conflict("already_confirmed", "您已确认过该记录", "You have already confirmed this record.", "R-STAFF-4")
    db.add(
        RoomRecordConfirmation(
            record_id=row_id(record),
            staff_id=place.staff_id,
            account_id=_signer(actor),
            content_hash=record.content_hash,
            at=now,
        )
    )
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise conflict(
            "already_confirmed", "您已确认过该记录", "You have already confirmed this record.", "R-STAFF-4"
        ) from None
    need = {p.id for p in proctors_of(db, place.session, place.room)}
    have = set(
        db.exec(select(RoomRecordConfirmation.staff_id).where(RoomRecordConfirmation.record_id == record.id)).all()
    )
    if need <= have and record.confirmed_at is None:
        record.confirmed_at = now
        db.add(record)
    audit.record(
        db,
        actor,
        "room_record.confirm",
        "room_record",
        record.id,
        {"staff_id": place.staff_id, "content_hash": record.content_hash, "complete": record.confirmed_at is not None},
        now,
        place.batch.institution_id,
    )
    db.flush()
    body = record_body(db, record, place.session, place.room)
    return Outcome(
        body, place.batch.id, "room_record", place.room.code, {"session_id": place.session.id, "status": body["status"]}
    )


def amend_record(
    db: Session,
    actor: Actor,
    now: datetime,
    blobs: BlobStore,
    batch_id: int,
    session_id: int,
    room_code: str,
    text: str,
    reason: str,
) -> Outcome:
    batch = load_batch(db, batch_id)
    if actor.role == "admin":  # the exam office may correct a record too, on the chain
        view = batch_view(db, actor, batch_id)
        session = session_of(db, view.batch, session_id)
        room = room_of(db, view.batch, session, room_code)
    else:
        place = proctor_place(db, actor, batch_id, session_id, room_code, now)
        session, room = place.session, place.room
    text = text_field(text, "amendment_required", "请填写更正内容", "Write the amendment.", 2000)
    reason = text_field(reason, "reason_required", "请填写更正原因", "Give the reason for the amendment.", 500)
    record = _find(db, session, room)
    if record is None:
        raise not_found("exam-room record")
    confirmations = _confirmations(db, record)
    if not confirmations:
        raise conflict(
            "record_not_confirmed",
            "记录尚未确认，可直接重新生成",
            "The record is not confirmed yet; produce it again instead.",
            "R-AUDIT-1",
        )
    number = (
        db.exec(select(func.max(RoomRecordAmendment.number)).where(RoomRecordAmendment.record_id == record.id)).one()
        or 0
    ) + 1
    amendment = RoomRecordAmendment(
        record_id=row_id(record), number=number, text=text, reason=reason, account_id=_signer(actor), at=now
    )
    db.add(amendment)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise conflict(
            "amendment_conflict", "另一更正刚刚提交，请重试", "Another amendment was just made; retry.", "R-AUDIT-1"
        ) from None
    amendments = _amendments(db, record)
    amendment.document_blob_id = _archive_doc(
        db, blobs, actor, batch, room, json.loads(record.content), now, confirmations, amendments
    )
    db.add(amendment)
    db.flush()
    audit.record(
        db,
        actor,
        "room_record.amend",
        "room_record",
        record.id,
        {
            "number": number,
            "text": text,
            "reason": reason,
            "content_hash": record.content_hash,
            "document_blob_id": amendment.document_blob_id,
        },
        now,
        batch.institution_id,
    )
    body = record_body(db, record, session, room)
    return Outcome(
        body,
        batch.id,
        "room_record",
        room.code,
        {"session_id": session.id, "status": body["status"], "amendments": len(body["amendments"])},
    )
