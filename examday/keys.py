"""The institution's signing key (机构签名密钥): Ed25519, one active key per
institution, rotatable. It signs admission-ticket tokens and the seal of a
locked batch; old keys keep verifying what they signed until revoked."""

from __future__ import annotations

import base64
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import SYSTEM, Actor
from examday.plans.models import TicketKey
from examday.ticket_token import generate_key


def active_key(db: Session, institution_id: int, now: datetime, actor: Actor = SYSTEM) -> TicketKey:
    """The newest unrevoked key, made on first use."""
    key = db.exec(
        select(TicketKey)
        .where(TicketKey.institution_id == institution_id, col(TicketKey.revoked_at).is_(None))
        .order_by(col(TicketKey.created_at).desc(), col(TicketKey.id).desc())
    ).first()
    return key or rotate(db, institution_id, now, actor)


def rotate(db: Session, institution_id: int, now: datetime, actor: Actor = SYSTEM) -> TicketKey:
    kid, private_pem, public_b64 = generate_key()
    key = TicketKey(
        institution_id=institution_id,
        kid=kid,
        public_key=public_b64,
        private_key_pem=private_pem.decode(),
        created_at=now,
    )
    db.add(key)
    db.flush()
    audit.record(db, actor, "key.create", "ticket_key", kid, {"institution_id": institution_id}, now, institution_id)
    return key


def revoke(db: Session, kid: str, now: datetime, actor: Actor) -> TicketKey:
    key = db.exec(select(TicketKey).where(TicketKey.kid == kid)).one()
    if key.revoked_at is None:
        key.revoked_at = now
        db.add(key)
        audit.record(db, actor, "key.revoke", "ticket_key", kid, {}, now, key.institution_id)
    return key


def sign(db: Session, institution_id: int, payload: bytes, now: datetime) -> tuple[str, str]:
    key = active_key(db, institution_id, now)
    private = load_pem_private_key(key.private_key_pem.encode(), password=None)
    if not isinstance(private, Ed25519PrivateKey):  # generate_key() makes Ed25519 keys only
        raise TypeError(f"ticket key {key.kid} is not an Ed25519 key")
    return key.kid, base64.urlsafe_b64encode(private.sign(payload)).decode().rstrip("=")


def verify(db: Session, kid: str, payload: bytes, signature: str) -> bool:
    key = db.exec(select(TicketKey).where(TicketKey.kid == kid)).first()
    if key is None:
        return False
    raw = base64.b64decode(key.public_key)
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), payload
        )
        return True
    except (InvalidSignature, ValueError):
        return False
