"""Placing, releasing and listing legal holds (保全), by the exam office or a service (R-ARCH-1).

The table, what a hold covers and how the purge asks are :mod:`storage.holds`;
here is who may place or release one, and the audit entry (R-AUDIT-1) each
change writes in the caller's transaction.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, forbidden, not_found
from storage.holds import HOLD_OBJECT_TYPES, MANUAL, LegalHold, object_institution

_SOURCE = re.compile(r"^[a-z_]{1,30}(:[A-Za-z0-9_.-]{1,28})?$")


def _refuse(code: str, zh: str, en: str, **detail: Any) -> Refusal:
    return Refusal(code, zh, en, "R-ARCH-1", 422, detail)


def _reason(text: str | None, code: str) -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise _refuse(code, "请填写原因", "A reason is required.")
    return text[:500]


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
            col(LegalHold.released_at).is_(None),
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
    q = select(LegalHold).order_by(col(LegalHold.id))
    if active_only:
        q = q.where(col(LegalHold.released_at).is_(None))
    if not actor.is_installation_admin:
        if actor.role != "admin" or actor.institution_id is None:
            raise forbidden()
        q = q.where(LegalHold.institution_id == actor.institution_id)
    return list(db.exec(q).all())


def hold_body(h: LegalHold) -> dict[str, Any]:
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
