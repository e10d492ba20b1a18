"""Legal holds (保全): records under dispute are kept whatever their age.

R-VIDEO-1, R-ARCH-1, R-SCORE-2 set how long records are kept at least; a
record that an open incident, an objection or an inquiry may need must
outlive its period. A hold is placed by hand, or by the incident and
objection services through :func:`place_hold` (``source`` names them), and is
released only by hand, with a reason: an objection settled does not by itself
free the evidence it was about. Both are on the audit chain (R-AUDIT-1).

What a hold covers:

* ``institution`` — everything of the institution (an inquiry);
* ``batch`` / ``session`` — the video of every camera of the batch's (or the
  session's) rooms over the session windows, with the coverage margin;
* ``camera`` — all of a camera's video; ``segment`` / ``blob`` — one record.

storage/ sits below the exam tables; the objects are resolved with lazy
imports so that importing this module pulls in nothing above it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict, forbidden, not_found
from storage.types import UTCDateTime

HOLD_OBJECT_TYPES = ("institution", "batch", "session", "camera", "segment", "blob")
MANUAL = "manual"
# Video this close to a held session is held too: the coverage window's margin.
HOLD_MARGIN = timedelta(seconds=60)
_SOURCE = re.compile(r"^[a-z_]{1,30}(:[A-Za-z0-9_.-]{1,28})?$")


class LegalHold(SQLModel, table=True):
    """A legal hold (保全) on one object; released only by hand, with a reason."""

    __table_args__ = (Index("ix_legalhold_object", "object_type", "object_id"),)
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    object_type: str = Field(max_length=20)
    object_id: str = Field(max_length=40)
    reason: str = Field(max_length=500)
    source: str = Field(default=MANUAL, max_length=60)  # manual | incident:ID | objection:ID
    placed_at: datetime = Field(sa_type=UTCDateTime)
    placed_by: int | None = None  # account id
    placed_by_name: str = Field(default="", max_length=100)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: int | None = None
    release_reason: str | None = Field(default=None, max_length=500)


def _refuse(code: str, zh: str, en: str, **detail: Any) -> Refusal:
    return Refusal(code, zh, en, "R-ARCH-1", 422, detail)


def _reason(text: str | None, code: str) -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise _refuse(code, "请填写原因", "A reason is required.")
    return text[:500]


def object_institution(db: Session, object_type: str, object_id: int) -> int | None:
    """The institution the object belongs to (None: an installation-wide blob), or 404."""
    from examday.plans.models import Batch, ExamSession
    from examday.registry.models import Camera, Institution, Room
    from proctor.video_models import Segment
    from storage.blobs import Blob

    if object_type == "institution":
        inst = db.get(Institution, object_id)
        if inst is not None:
            return inst.id
    elif object_type == "batch":
        b = db.get(Batch, object_id)
        if b is not None:
            return b.institution_id
    elif object_type == "session":
        s = db.get(ExamSession, object_id)
        b = db.get(Batch, s.batch_id) if s is not None else None
        if b is not None:
            return b.institution_id
    elif object_type == "camera":
        c = db.get(Camera, object_id)
        r = db.get(Room, c.room_id) if c is not None else None
        if r is not None:
            return r.institution_id
    elif object_type == "segment":
        seg = db.get(Segment, object_id)
        if seg is not None:
            return seg.institution_id
    elif object_type == "blob":
        blob = db.get(Blob, object_id)
        if blob is not None:
            return blob.institution_id
    raise not_found(object_type)


def _may_hold(actor: Actor, institution_id: int | None) -> bool:
    if actor.role != "admin":
        return False
    return actor.is_installation_admin or (institution_id is not None and actor.institution_id == institution_id)


def place_hold(
    db: Session, actor: Actor, object_type: str, object_id: int | str, reason: str, now: datetime, source: str = MANUAL
) -> LegalHold:
    """Hold ``object_type``/``object_id`` from the purge (R-ARCH-1, R-VIDEO-1).

    ``source`` is ``"manual"`` for the exam office (an admin of the object's
    institution), or e.g. ``"incident:12"`` / ``"objection:3"`` when the
    incident or objection service calls this in its own transaction after
    checking its own caller. Placing the same hold from the same source again
    returns the hold already in force. The caller commits.
    """
    if object_type not in HOLD_OBJECT_TYPES:
        raise _refuse(
            "invalid_hold_object",
            "不支持保全该类对象",
            f"Unknown object type {object_type!r}.",
            known=list(HOLD_OBJECT_TYPES),
        )
    try:
        oid = int(object_id)
    except (TypeError, ValueError):
        raise _refuse("invalid_hold_object", "对象编号无效", "object_id must be a number.") from None
    source = (source or MANUAL).strip()
    if not _SOURCE.match(source):
        raise _refuse("invalid_hold_source", "保全来源无效", f"Invalid hold source {source!r}.")
    text = _reason(reason, "hold_reason_required")
    iid = object_institution(db, object_type, oid)
    if source == MANUAL and not _may_hold(actor, iid):
        raise forbidden("Only this institution's exam office may place a hold by hand.")
    existing = db.exec(
        select(LegalHold).where(
            LegalHold.object_type == object_type,
            LegalHold.object_id == str(oid),
            LegalHold.source == source,
            LegalHold.released_at.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    hold = LegalHold(
        institution_id=iid,
        object_type=object_type,
        object_id=str(oid),
        reason=text,
        source=source,
        placed_at=now,
        placed_by=actor.account_id,
        placed_by_name=actor.username,
    )
    db.add(hold)
    db.flush()
    audit.record(
        db,
        actor,
        "hold.placed",
        "legal_hold",
        hold.id,
        {"object_type": object_type, "object_id": oid, "reason": text, "source": source},
        now,
        iid,
    )
    return hold


def release_hold(db: Session, actor: Actor, hold_id: int, reason: str, now: datetime) -> LegalHold:
    """Release a hold, by hand only and with a reason (R-ARCH-1). The caller commits."""
    hold = db.get(LegalHold, hold_id)
    if hold is None:
        raise not_found("hold")
    if not _may_hold(actor, hold.institution_id):
        raise forbidden("Only this institution's exam office may release a hold.")
    if hold.released_at is not None:
        raise conflict(
            "hold_already_released",
            "该保全已解除",
            "This hold was already released.",
            "R-ARCH-1",
            released_at=hold.released_at.isoformat(),
        )
    text = _reason(reason, "release_reason_required")
    hold.released_at, hold.released_by, hold.release_reason = now, actor.account_id, text
    db.add(hold)
    db.flush()
    audit.record(
        db,
        actor,
        "hold.released",
        "legal_hold",
        hold.id,
        {"object_type": hold.object_type, "object_id": hold.object_id, "source": hold.source, "reason": text},
        now,
        hold.institution_id,
    )
    return hold


def list_holds(db: Session, actor: Actor, active_only: bool = True) -> list[LegalHold]:
    q = select(LegalHold).order_by(LegalHold.id)
    if active_only:
        q = q.where(LegalHold.released_at.is_(None))
    if not actor.is_installation_admin:
        if actor.role != "admin" or actor.institution_id is None:
            raise forbidden()
        q = q.where(LegalHold.institution_id == actor.institution_id)
    return list(db.exec(q).all())


def hold_body(h: LegalHold) -> dict[str, Any]:
    from examday.clock import iso

    return {
        "id": h.id,
        "institution_id": h.institution_id,
        "object_type": h.object_type,
        "object_id": int(h.object_id),
        "reason": h.reason,
        "source": h.source,
        "placed_at": iso(h.placed_at),
        "placed_by": h.placed_by_name,
        "active": h.released_at is None,
        "released_at": iso(h.released_at),
        "release_reason": h.release_reason,
    }


@dataclass
class HoldMatcher:
    """The holds in force over one institution, asked once per record by the purge.

    Holds are few and records many: every hold is resolved once into id sets
    and per-camera time windows, so a question costs a set lookup.
    """

    everything: bool = False
    segment_ids: set[int] = field(default_factory=set)
    camera_ids: set[int] = field(default_factory=set)
    windows: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))
    blob_ids: set[int] = field(default_factory=set)

    def segment_held(self, segment_id: int, camera_id: int, start: datetime, end: datetime) -> bool:
        if self.everything or segment_id in self.segment_ids or camera_id in self.camera_ids:
            return True
        return any(ws < end and start < we for ws, we in self.windows.get(camera_id, ()))

    def blob_held(self, blob_id: int) -> bool:
        return self.everything or blob_id in self.blob_ids

    def __bool__(self) -> bool:
        return bool(self.everything or self.segment_ids or self.camera_ids or self.windows or self.blob_ids)


def hold_matcher(db: Session, institution_id: int | None) -> HoldMatcher:
    """Resolve the holds in force on ``institution_id``'s records (None: installation-wide blobs)."""
    from examday.plans.models import ExamSession, SessionRoom
    from examday.registry.models import Camera

    m = HoldMatcher()
    holds = db.exec(
        select(LegalHold).where(
            LegalHold.released_at.is_(None),
            LegalHold.institution_id == institution_id
            if institution_id is not None
            else LegalHold.institution_id.is_(None),
        )
    ).all()
    for h in holds:
        oid = int(h.object_id)
        if h.object_type == "institution":
            m.everything = True
        elif h.object_type == "segment":
            m.segment_ids.add(oid)
        elif h.object_type == "blob":
            m.blob_ids.add(oid)
        elif h.object_type == "camera":
            m.camera_ids.add(oid)
        elif h.object_type in ("batch", "session"):
            where = ExamSession.batch_id == oid if h.object_type == "batch" else ExamSession.id == oid
            rows = db.exec(
                select(Camera.id, ExamSession.starts_at, ExamSession.ends_at)
                .join(SessionRoom, SessionRoom.room_id == Camera.room_id)
                .join(ExamSession, ExamSession.id == SessionRoom.session_id)
                .where(where)
            ).all()
            for cam_id, starts, ends in rows:
                m.windows[cam_id].append((starts - HOLD_MARGIN, ends + HOLD_MARGIN))
    return m
