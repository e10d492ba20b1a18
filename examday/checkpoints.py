"""Checkpoints of the audit chain (审计检查点), handed to someone else: R-AUDIT-1, issue #17.

A hash chain proves nothing to whoever never saw its head: the operator of the database can
rewrite an old entry and recompute every later hash (and every seal). A checkpoint is the
chain's head — sequence number and hash — at a moment, signed with the institution's Ed25519
key (``examday.keys``, the key that signs tickets and seals). The institution signs one at
every lock, every report package and every hour with activity, and hands them to its
evaluation centre inside the report package (``scoring.report_package``); the centre keeps
every checkpoint it receives.

:func:`verify_through` proves that today's chain still passes through every checkpoint held:
the entry at each checkpoint's sequence number must still carry the checkpoint's hash, and the
chain must still hold from the start (``audit.verify``). A rewrite before any checkpoint changes
every later hash, so the first checkpoint after it no longer matches, even though the chain,
recomputed, holds on its own.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Field, Session, SQLModel, col, select

from examday import audit, keys
from examday.registry.models import Institution
from storage.types import UTCDateTime

CHECKPOINT_V1 = "examday-checkpoint/v1"
HOURLY = timedelta(hours=1)
REASONS = ("lock", "report", "hourly", "manual")


class AuditCheckpoint(SQLModel, table=True):
    """One signed checkpoint of the audit chain (审计检查点), as the institution made it."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    seq: int = Field(index=True)
    hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(max_length=20)
    kid: str = Field(max_length=64)
    signature: str = Field(max_length=200)


def payload(uscc: str, seq: int, head_hash: str, at: str) -> bytes:
    """The signed bytes: canonical JSON of the checkpoint (docs/report-format.md)."""
    body = {"checkpoint": CHECKPOINT_V1, "uscc": uscc, "seq": seq, "hash": head_hash, "at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def at_text(at: datetime) -> str:
    """A checkpoint's time as signed: UTC, whole seconds, ISO 8601."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def body(cp: AuditCheckpoint, uscc: str) -> dict[str, Any]:
    return {
        "version": CHECKPOINT_V1,
        "uscc": uscc,
        "seq": cp.seq,
        "hash": cp.hash,
        "at": at_text(cp.at),
        "reason": cp.reason,
        "kid": cp.kid,
        "signature": cp.signature,
    }


def at_lock(db: Session, institution_id: int, batch_id: int) -> AuditCheckpoint | None:
    """The checkpoint the institution signed at a batch's lock (at the ``batch.lock`` entry), if any:
    printed on the public page so that candidates hold a copy of it too (issue #17)."""
    seq = db.exec(
        select(audit.AuditEntry.seq).where(
            audit.AuditEntry.action == "batch.lock", audit.AuditEntry.object_id == str(batch_id)
        )
    ).first()
    if seq is None:
        return None
    return db.exec(
        select(AuditCheckpoint).where(
            AuditCheckpoint.institution_id == institution_id,
            AuditCheckpoint.seq == seq,
            AuditCheckpoint.reason == "lock",
        )
    ).first()


def head(db: Session) -> tuple[int, str]:
    h = db.get(audit.AuditHead, 1)
    return (h.seq, h.hash) if h is not None else (0, audit.GENESIS)


def sign_at(db: Session, inst: Institution, seq: int, head_hash: str, now: datetime, reason: str) -> AuditCheckpoint:
    """Sign the chain as it stood at ``seq`` (whose hash is ``head_hash``); one row per
    institution, sequence number and reason."""
    assert inst.id is not None
    found = db.exec(
        select(AuditCheckpoint).where(
            AuditCheckpoint.institution_id == inst.id, AuditCheckpoint.seq == seq, AuditCheckpoint.reason == reason
        )
    ).first()
    if found is not None:
        return found
    at = now.astimezone(UTC).replace(microsecond=0)
    kid, signature = keys.sign(db, inst.id, payload(inst.uscc, seq, head_hash, at_text(at)), now)
    cp = AuditCheckpoint(
        institution_id=inst.id, seq=seq, hash=head_hash, at=at, reason=reason, kid=kid, signature=signature
    )
    db.add(cp)
    db.flush()
    return cp


def sign_head(db: Session, inst: Institution, now: datetime, reason: str) -> AuditCheckpoint:
    assert inst.id is not None
    keys.active_key(db, inst.id, now)  # a first key's own audit entry goes in before the head is read
    seq, head_hash = head(db)
    return sign_at(db, inst, seq, head_hash, now, reason)


def hourly(db: Session, now: datetime) -> list[AuditCheckpoint]:
    """Every hour with activity: a checkpoint for each institution whose last one is an hour old
    and behind the head. Called by the report pusher's loop (``examday serve``)."""
    institutions = db.exec(select(Institution).order_by(col(Institution.id))).all()
    for inst in institutions:  # a first key is made (and audited) before the head is read
        assert inst.id is not None
        keys.active_key(db, inst.id, now)
    seq, head_hash = head(db)
    made = []
    for inst in institutions:
        last = latest(db, inst.id)
        if last is not None and (last.seq >= seq or now - last.at.astimezone(UTC) < HOURLY):
            continue
        if seq == 0:
            continue
        made.append(sign_at(db, inst, seq, head_hash, now, "hourly"))
    return made


def latest(db: Session, institution_id: int | None) -> AuditCheckpoint | None:
    return db.exec(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.institution_id == institution_id)
        .order_by(col(AuditCheckpoint.seq).desc(), col(AuditCheckpoint.id).desc())
    ).first()


def of_institution(db: Session, institution_id: int) -> list[AuditCheckpoint]:
    return list(
        db.exec(
            select(AuditCheckpoint)
            .where(AuditCheckpoint.institution_id == institution_id)
            .order_by(col(AuditCheckpoint.seq), col(AuditCheckpoint.id))
        ).all()
    )


def signature_holds(public_key_b64: str, cp: dict[str, Any]) -> bool:
    """Whether a checkpoint as a holder keeps it (:func:`body`) is signed by that public key."""
    try:
        sig = str(cp["signature"])
        raw = base64.b64decode(public_key_b64)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
            payload(str(cp["uscc"]), int(cp["seq"]), str(cp["hash"]), str(cp["at"])),
        )
        return True
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False


@dataclass(frozen=True)
class CheckpointBreak:
    seq: int
    hash: str
    at: str
    reason: str

    def __str__(self) -> str:
        return f"checkpoint broken: entry {self.seq} (checkpoint of {self.at}, {self.hash[:16]}…): {self.reason}"


def verify_through(db: Session, held: list[dict[str, Any]]) -> audit.ChainBreak | CheckpointBreak | None:
    """R-AUDIT-1: the chain holds and passes through every checkpoint held; the first that does
    not, in sequence order. A checkpoint beyond today's head means entries were deleted."""
    broken = audit.verify(db)
    if broken is not None:
        return broken
    head_seq, _ = head(db)
    for cp in sorted(held, key=lambda c: int(c["seq"])):
        seq, expected = int(cp["seq"]), str(cp["hash"])
        at = str(cp.get("at", ""))
        if seq == 0:
            continue
        if seq > head_seq:
            return CheckpointBreak(seq, expected, at, "the chain is shorter than the checkpoint (entries removed)")
        entry = db.get(audit.AuditEntry, seq)
        if entry is None:
            return CheckpointBreak(seq, expected, at, "entry missing")
        if entry.hash != expected:
            return CheckpointBreak(
                seq, expected, at, f"the chain no longer passes through it (hash now {entry.hash[:16]}…): rewritten"
            )
    return None


MAX_PROOF = 5000


def proof(db: Session, since: int, limit: int = MAX_PROOF) -> dict[str, Any]:
    """The links of the chain from ``since`` on (sequence, previous hash, hash), for a holder of
    a checkpoint at ``since`` to see today's chain pass through it to the head. Only hashes: the
    entries' content (which may name people, R-PRIV-1) stays on the installation, whose
    ``examday audit verify`` recomputes it."""
    since = max(0, since)
    rows = db.exec(
        select(audit.AuditEntry.seq, audit.AuditEntry.prev_hash, audit.AuditEntry.hash)
        .where(audit.AuditEntry.seq >= max(since, 1))
        .order_by(col(audit.AuditEntry.seq))
        .limit(limit + 1)
    ).all()
    seq, head_hash = head(db)
    links = [{"seq": s, "prev_hash": p, "hash": h} for s, p, h in rows[:limit]]
    return {
        "since": since,
        "head": {"seq": seq, "hash": head_hash},
        "links": links,
        "more": len(rows) > limit,
        "chain_holds": audit.verify(db) is None,
    }


def links_pass_through(links: list[dict[str, Any]], seq: int, expected: str) -> bool:
    """A holder's check of a proof: the link at ``seq`` carries the checkpoint's hash and every
    later link follows the one before it."""
    if not links or int(links[0]["seq"]) != seq or links[0]["hash"] != expected:
        return False
    return all(b["prev_hash"] == a["hash"] and int(b["seq"]) == int(a["seq"]) + 1 for a, b in itertools.pairwise(links))
