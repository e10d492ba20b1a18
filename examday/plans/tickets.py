"""Issuing admission tickets (准考证) and reading them back at the door.

A ticket's QR carries a token signed with the institution's key (R-DAY-1):
ticket number, batch, exam date and a keyed digest of the ID number, so a
kiosk checks it offline. Reissuing revokes the old token.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from examday import audit, keys
from examday.actor import Actor
from examday.errors import Refusal
from examday.plans.models import Batch, Candidate, Ticket, TicketKey
from examday.ticket_token import TicketClaims, id_digest, issue, new_token_id, peek, verify


def id_salt(secret_key: str, institution_id: int) -> bytes:
    """The per-institution key for ID digests on tickets; it never leaves the server (R-PRIV-1)."""
    return hmac.new(secret_key.encode(), f"examday-id-salt|{institution_id}".encode(), hashlib.sha256).digest()


def current_ticket(db: Session, candidate_id: int) -> Ticket | None:
    return db.exec(
        select(Ticket)
        .where(Ticket.candidate_id == candidate_id, col(Ticket.revoked_at).is_(None))
        .order_by(col(Ticket.id).desc())
    ).first()


def issue_ticket(
    db: Session, actor: Actor, batch: Batch, cand: Candidate, secret_key: str, now: datetime, reissue: bool = False
) -> Ticket:
    """The candidate's ticket; a reissue revokes the one before it."""
    assert cand.id is not None
    assert batch.id is not None
    old = current_ticket(db, cand.id)
    if old is not None and not reissue:
        return old
    if old is not None:
        old.revoked_at = now
        db.add(old)
    key = keys.active_key(db, batch.institution_id, now, actor)
    claims = TicketClaims(
        ticket_number=cand.ticket_number,
        batch_id=batch.id,
        exam_date=batch.exam_date,
        id_digest=id_digest(cand.id_number, id_salt(secret_key, batch.institution_id)),
        token_id=new_token_id(),
    )
    text = issue(key.private_key_pem.encode(), key.kid, claims)
    t = Ticket(candidate_id=cand.id, token_id=claims.token_id, kid=key.kid, qr_text=text, issued_at=now)
    db.add(t)
    db.flush()
    audit.record(
        db,
        actor,
        "ticket.reissue" if old else "ticket.issue",
        "ticket",
        t.id,
        {"candidate_id": cand.id, "token_id": t.token_id, "revoked": old.token_id if old else None},
        now,
        batch.institution_id,
    )
    return t


def issue_batch_tickets(db: Session, actor: Actor, batch: Batch, secret_key: str, now: datetime) -> int:
    """Tickets for every candidate who has none yet: one key lookup, one insert, one audit entry.

    Done per batch rather than per candidate because a 10,000-candidate batch
    would otherwise spend half a minute on round trips."""
    assert batch.id is not None
    have = set(
        db.exec(
            select(Ticket.candidate_id)
            .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
            .where(Candidate.batch_id == batch.id, col(Ticket.revoked_at).is_(None))
        ).all()
    )
    todo = [
        c
        for c in db.exec(select(Candidate).where(Candidate.batch_id == batch.id).order_by(col(Candidate.id))).all()
        if c.id not in have
    ]
    if not todo:
        return 0
    key = keys.active_key(db, batch.institution_id, now, actor)
    pem, salt = key.private_key_pem.encode(), id_salt(secret_key, batch.institution_id)
    rows = []
    for cand in todo:
        assert cand.id is not None
        claims = TicketClaims(
            ticket_number=cand.ticket_number,
            batch_id=batch.id,
            exam_date=batch.exam_date,
            id_digest=id_digest(cand.id_number, salt),
            token_id=new_token_id(),
        )
        rows.append(
            Ticket(
                candidate_id=cand.id,
                token_id=claims.token_id,
                kid=key.kid,
                qr_text=issue(pem, key.kid, claims),
                issued_at=now,
            )
        )
    db.add_all(rows)
    db.flush()
    audit.record(
        db,
        actor,
        "ticket.issue_batch",
        "batch",
        batch.id,
        {"issued": len(rows), "kid": key.kid, "tokens": [t.token_id for t in rows]},
        now,
        batch.institution_id,
    )
    return len(rows)


# Built once and run through Core: read_ticket runs them on every check-in (issue #18).
_ALL_KEYS = select(TicketKey.kid, TicketKey.public_key, TicketKey.revoked_at)
_KEYS_OF = _ALL_KEYS.where(TicketKey.institution_id == bindparam("institution_id"))
_KEY_AND_TICKET = (
    select(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        TicketKey.kid,
        TicketKey.public_key,
        col(TicketKey.revoked_at).label("key_revoked_at"),
        col(Ticket.id).label("ticket_id"),
        col(Ticket.revoked_at).label("ticket_revoked_at"),
    )
    .outerjoin(Ticket, col(Ticket.token_id) == bindparam("token_id"))
    .where(TicketKey.kid == bindparam("kid"))
)


def key_set(db: Session, institution_id: int | None = None) -> tuple[dict[str, str], set[str]]:
    """Public keys (kid → raw base64) and the revoked kids, for verifying tokens."""
    # Only the public half: this runs on every check-in, and private keys need not leave the table for it.
    if institution_id is None:
        rows = db.connection().execute(_ALL_KEYS).all()
    else:
        rows = db.connection().execute(_KEYS_OF, {"institution_id": institution_id}).all()
    return (
        {kid: pub for kid, pub, revoked in rows if revoked is None},
        {kid for kid, _, revoked in rows if revoked is not None},
    )


def revoked_token_ids(db: Session, batch_id: int) -> set[str]:
    rows = db.exec(
        select(Ticket.token_id)
        .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
        .where(Candidate.batch_id == batch_id, col(Ticket.revoked_at).is_not(None))
    ).all()
    return set(rows)


def read_ticket(db: Session, text: str) -> TicketClaims:
    """Verify a scanned code against every institution's keys; revoked keys and tokens refused.

    The key the code names and its ticket come in one read (issue #18): the code's key id and
    token id are peeked at first, unverified, only to fetch them; ``verify`` then judges the code
    against that key exactly as against the whole key set."""
    named = peek(text)
    if named is None:
        verify(text, {})  # malformed: refused as such
    assert named is not None
    row = db.connection().execute(_KEY_AND_TICKET, {"kid": named[0], "token_id": named[1]}).first()
    public = {row.kid: row.public_key} if row is not None and row.key_revoked_at is None else {}
    revoked_kids = {row.kid} if row is not None and row.key_revoked_at is not None else set()
    claims = verify(text, public, revoked_kids)
    # Revocation of the single token is checked against the database, which knows every reissue.
    t = row if row is not None and row.ticket_id is not None else None  # the same body verify read
    if t is None:
        # Signed by our key yet never issued: treat as forged rather than explain.
        raise Refusal(
            "invalid_ticket",
            "准考证无效",
            "This admission ticket is not valid.",
            "R-DAY-1",
            422,
            {"reason": "not_issued"},
        )
    if t.ticket_revoked_at is not None:
        verify(text, public, revoked_kids, {claims.token_id})
    return claims
