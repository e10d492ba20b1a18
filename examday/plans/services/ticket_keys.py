"""An institution's ticket keys (准考证签名密钥): the public keys a kiosk verifies
ticket codes with offline, rotation, and revocation with an optional reissue.

R-DAY-1: a key verifies what it signed until it is revoked; revoking refuses
every ticket it signed from then on, unless reissued under the active key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import keys
from examday.access import institution_for_read, institution_for_write
from examday.actor import Actor
from examday.clock import iso
from examday.errors import not_found
from examday.plans.models import Batch, Candidate, Ticket, TicketKey
from examday.plans.services.seating import OPEN_STATUSES
from examday.plans.tickets import issue_ticket, key_set
from examday.ticket_token import public_keys_document


def ticket_keys(db: Session, actor: Actor, institution_id: int) -> dict[str, Any]:
    """The public keys that verify ticket codes offline, and the revoked key ids."""
    inst = institution_for_read(db, actor, institution_id)
    public, revoked = key_set(db, inst.id)
    return {"institution_id": inst.id, **public_keys_document(public, revoked)}


def list_keys(db: Session, actor: Actor, institution_id: int) -> list[dict[str, Any]]:
    """The institution's keys, newest first, each with its state for the office's page: ``active``
    (the newest unrevoked key signs new tickets and seals), ``verifying`` (an older unrevoked key
    still verifies what it signed, R-DAY-1) or ``revoked``. Public halves only."""
    inst = institution_for_read(db, actor, institution_id)
    rows = db.exec(
        select(TicketKey)
        .where(TicketKey.institution_id == inst.id)
        .order_by(col(TicketKey.created_at).desc(), col(TicketKey.id).desc())
    ).all()
    out, signing = [], None
    for key in rows:
        if key.revoked_at is None and signing is None:
            signing = key.kid
        state = "revoked" if key.revoked_at is not None else ("active" if key.kid == signing else "verifying")
        out.append({"kid": key.kid, "created_at": key.created_at, "revoked_at": key.revoked_at, "state": state})
    return out


def _key_body(key: TicketKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "public_key": key.public_key,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
    }


def rotate_key(db: Session, actor: Actor, now: datetime, institution_id: int) -> dict[str, Any]:
    """A new signing key for new tickets; tickets signed before keep verifying under their key."""
    inst = institution_for_write(db, actor, institution_id)
    assert inst.id is not None
    return _key_body(keys.rotate(db, inst.id, now, actor))


def revoke_key(
    db: Session, actor: Actor, now: datetime, institution_id: int, kid: str, reissue_tickets: bool, secret_key: str
) -> dict[str, Any]:
    """Withdraw a key: every ticket it signed is refused from now on, unless reissued under the active key."""
    inst = institution_for_write(db, actor, institution_id)
    key = db.exec(select(TicketKey).where(TicketKey.kid == kid, TicketKey.institution_id == inst.id)).first()
    if key is None:
        raise not_found("ticket key")
    signed = db.exec(
        select(Ticket, Candidate, Batch)
        .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
        .join(Batch, col(Batch.id) == Candidate.batch_id)
        .where(Ticket.kid == kid, col(Ticket.revoked_at).is_(None))
        .order_by(col(Ticket.id))
    ).all()
    keys.revoke(db, kid, now, actor)
    reissued = 0
    if reissue_tickets:
        for _, cand, batch in signed:
            if batch.status in OPEN_STATUSES and cand.status == "registered":
                issue_ticket(db, actor, batch, cand, secret_key, now, reissue=True)
                reissued += 1
    return {**_key_body(key), "tickets_signed": len(signed), "reissued": reissued}
