"""What the proctor operations share: finding the room an action is about, checking the
actor is a proctor of it (R-STAFF-4), archiving a file, and the event to publish."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from examday.access import assigned_proctor
from examday.actor import Actor
from examday.errors import Refusal, conflict, not_found
from examday.plans.models import Batch, ExamSession
from examday.registry.models import Room
from proctor import rooms as roomstate
from proctor.access import room_of, running_session, session_of
from proctor.models import RoomRecord
from storage.blobs import Blob, BlobStore

MAX_PHOTO_BYTES = 8 * 1024 * 1024


@dataclass
class Outcome:
    """A service's answer and the live event its caller queues for after the commit (``ctx.queue_event``)."""

    body: dict[str, Any]
    batch_id: int | None = None
    event: str | None = None
    room_code: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Place:
    batch: Batch
    session: ExamSession
    room: Room
    staff_id: int


def load_batch(db: Session, batch_id: int) -> Batch:
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    return batch


def proctor_place(
    db: Session, actor: Actor, batch_id: int, session_id: int | None, room_code: str, now: datetime
) -> Place:
    """The batch, session and room of a proctor action, and the acting proctor (403 otherwise)."""
    batch = load_batch(db, batch_id)
    if session_id:
        session = session_of(db, batch, session_id)
    else:
        session = running_session(db, batch, room_code, now, roomstate.batch_config(batch).entry_open_minutes)
    room = room_of(db, batch, session, room_code)
    staff_id = assigned_proctor(db, actor, session, room)
    return Place(batch, session, room, staff_id)


def require_in_progress(place: Place, now: datetime) -> None:
    opens = roomstate.batch_config(place.batch).entry_open_minutes
    if not (place.session.starts_at - timedelta(minutes=opens) <= now < place.session.ends_at):
        raise conflict(
            "session_not_in_progress",
            "该场次不在进行中",
            "This session is not in progress.",
            "R-DAY-3",
            starts_at=str(place.session.starts_at),
            ends_at=str(place.session.ends_at),
        )


def require_no_record(db: Session, place: Place) -> None:
    """After the exam-room record is produced, what happened changes only by amending it."""
    if db.exec(
        select(RoomRecord.id).where(RoomRecord.session_id == place.session.id, RoomRecord.room_id == place.room.id)
    ).first():
        raise conflict(
            "record_produced",
            "考场记录表已生成，只能通过更正修改",
            "The exam-room record is produced; change it by an amendment.",
            "R-AUDIT-1",
        )


def seat_in_room(db: Session, place: Place, candidate_id: int, now: datetime) -> tuple[dict, dict]:
    """The room's state and the candidate's seat in it, or a refusal (the candidate is not in this room)."""
    state = roomstate.room_state(db, place.batch, place.session, place.room.code, now)
    seat = next((s for s in (state or {}).get("seats", []) if s["candidate_id"] == candidate_id), None)
    if seat is None:
        raise Refusal(
            "candidate_not_in_room",
            "该考生不在本考场",
            "That candidate is not in this room.",
            "R-SEAT-1",
            422,
            {"candidate_id": candidate_id, "room_code": place.room.code},
        )
    assert state is not None  # the seat was found in it
    return state, seat


def decode_photo(text: str) -> tuple[bytes, str]:
    """A base64 photo (a data: URL is fine), checked to be an image; returns bytes and content type."""
    from PIL import Image, UnidentifiedImageError

    if "," in text and text.strip().startswith("data:"):
        text = text.split(",", 1)[1]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data or len(data) > MAX_PHOTO_BYTES:
        raise _bad_photo()
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "").lower()
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise _bad_photo() from None
    return data, {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(fmt, "image/" + fmt)


def _bad_photo() -> Refusal:
    return Refusal("invalid_photo", "照片无法识别或过大", "The photo is not an image, or larger than 8 MB.", None, 422)


def archive(
    db: Session,
    blobs: BlobStore,
    data: bytes,
    content_type: str,
    suffix: str,
    label: str,
    retention_class: str,
    institution_id: int,
    now: datetime,
) -> Blob:
    stored = blobs.put(data, suffix)
    blob = Blob(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        retention_class=retention_class,
        institution_id=institution_id,
        label=label[:200],
        created_at=now,
    )
    db.add(blob)
    db.flush()
    return blob


def text_field(value: str | None, code: str, zh: str, en: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise Refusal(code, zh, en, None, 422, {"max_length": limit})
    return value
