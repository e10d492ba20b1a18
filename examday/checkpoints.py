"""Checkpoints of the audit chain (审计检查点), handed to someone else: R-AUDIT-1, issues #17, #18.

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

Issue #18: each institution has a chain of its own (``examday.audit``). A checkpoint signs the
institution's own chain and names it (``examday-checkpoint/v2``: ``"chain"`` is the institution's
USCC). Checkpoints signed before then (``v1``, ``chain`` = 0 here) signed the installation's single
chain, which migration 0015 kept as the beginning of the installation's chain: they are checked
there, against the same sequence numbers and hashes.
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

CHECKPOINT_V1 = "examday-checkpoint/v1"  # the installation's single chain, before issue #18
CHECKPOINT_V2 = "examday-checkpoint/v2"  # the institution's own chain, named
INSTALLATION_CHAIN = "installation"
HOURLY = timedelta(hours=1)
REASONS = ("lock", "report", "hourly", "manual")


class AuditCheckpoint(SQLModel, table=True):
    """One signed checkpoint of the audit chain (审计检查点), as the institution made it."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    chain: int = Field(default=audit.INSTALLATION, sa_column_kwargs={"server_default": "0"})
    seq: int = Field(index=True)
    hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(max_length=20)
    kid: str = Field(max_length=64)
    signature: str = Field(max_length=200)


def payload(uscc: str, seq: int, head_hash: str, at: str, version: str = CHECKPOINT_V1) -> bytes:
    """The signed bytes: canonical JSON of the checkpoint (docs/report-format.md); v2 names the
    chain (the institution's own, by its USCC)."""
    body: dict[str, Any] = {"checkpoint": version, "uscc": uscc, "seq": seq, "hash": head_hash, "at": at}
    if version != CHECKPOINT_V1:
        body["chain"] = uscc
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def at_text(at: datetime) -> str:
    """A checkpoint's time as signed: UTC, whole seconds, ISO 8601."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def version_of(cp: AuditCheckpoint) -> str:
    return CHECKPOINT_V1 if cp.chain == audit.INSTALLATION else CHECKPOINT_V2


def body(cp: AuditCheckpoint, uscc: str) -> dict[str, Any]:
    v1 = cp.chain == audit.INSTALLATION
    return {
        "version": version_of(cp),
        "uscc": uscc,
        "chain": INSTALLATION_CHAIN if v1 else uscc,
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
    at = db.exec(
        select(audit.AuditEntry.chain, audit.AuditEntry.chain_seq).where(
            audit.AuditEntry.action == "batch.lock", audit.AuditEntry.object_id == str(batch_id)
        )
    ).first()
    if at is None:
        return None
    return db.exec(
        select(AuditCheckpoint).where(
            AuditCheckpoint.institution_id == institution_id,
            AuditCheckpoint.chain == at[0],
            AuditCheckpoint.seq == at[1],
            AuditCheckpoint.reason == "lock",
        )
    ).first()


def head(db: Session, chain: int = audit.INSTALLATION) -> tuple[int, str]:
    """A chain's head: the institution's (its id), or the installation's (0)."""
    return audit.head(db, chain)


def sign_at(
    db: Session, inst: Institution, seq: int, head_hash: str, now: datetime, reason: str, chain: int | None = None
) -> AuditCheckpoint:
    """Sign the chain (the institution's own unless ``chain`` says otherwise) as it stood at
    ``seq`` (whose hash is ``head_hash``); one row per institution, chain, sequence number and reason."""
    assert inst.id is not None
    chain = inst.id if chain is None else chain
    found = db.exec(
        select(AuditCheckpoint).where(
            AuditCheckpoint.institution_id == inst.id,
            AuditCheckpoint.chain == chain,
            AuditCheckpoint.seq == seq,
            AuditCheckpoint.reason == reason,
        )
    ).first()
    if found is not None:
        return found
    at = now.astimezone(UTC).replace(microsecond=0)
    version = CHECKPOINT_V1 if chain == audit.INSTALLATION else CHECKPOINT_V2
    kid, signature = keys.sign(db, inst.id, payload(inst.uscc, seq, head_hash, at_text(at), version), now)
    cp = AuditCheckpoint(
        institution_id=inst.id,
        chain=chain,
        seq=seq,
        hash=head_hash,
        at=at,
        reason=reason,
        kid=kid,
        signature=signature,
    )
    db.add(cp)
    db.flush()
    return cp


def sign_head(db: Session, inst: Institution, now: datetime, reason: str) -> AuditCheckpoint:
    assert inst.id is not None
    keys.active_key(db, inst.id, now)  # a first key's own audit entry goes in before the head is read
    seq, head_hash = head(db, inst.id)
    return sign_at(db, inst, seq, head_hash, now, reason)


def hourly(db: Session, now: datetime) -> list[AuditCheckpoint]:
    """Every hour with activity: a checkpoint of each institution's own chain whose last one is an
    hour old and behind the chain's head. Called by the report pusher's loop (``examday serve``)."""
    institutions = db.exec(select(Institution).order_by(col(Institution.id))).all()
    made = []
    for inst in institutions:
        assert inst.id is not None
        keys.active_key(db, inst.id, now)  # a first key is made (and audited) before the head is read
        seq, head_hash = head(db, inst.id)
        last = latest(db, inst.id)
        if last is not None and (last.seq >= seq or now - last.at.astimezone(UTC) < HOURLY):
            continue
        if seq == 0:
            continue
        made.append(sign_at(db, inst, seq, head_hash, now, "hourly"))
    return made


def latest(db: Session, institution_id: int | None) -> AuditCheckpoint | None:
    """The institution's last checkpoint of its own chain."""
    return db.exec(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.institution_id == institution_id, AuditCheckpoint.chain == institution_id)
        .order_by(col(AuditCheckpoint.seq).desc(), col(AuditCheckpoint.id).desc())
    ).first()


def of_institution(db: Session, institution_id: int) -> list[AuditCheckpoint]:
    return list(
        db.exec(
            select(AuditCheckpoint)
            .where(AuditCheckpoint.institution_id == institution_id)
            .order_by(col(AuditCheckpoint.chain), col(AuditCheckpoint.seq), col(AuditCheckpoint.id))
        ).all()
    )


def _version(cp: dict[str, Any]) -> str:
    version = str(cp.get("version", CHECKPOINT_V1))
    if version not in (CHECKPOINT_V1, CHECKPOINT_V2):
        raise ValueError(f"unknown checkpoint version {version!r}")
    if version == CHECKPOINT_V2 and cp.get("chain") != cp.get("uscc"):
        raise ValueError("a v2 checkpoint names its institution's own chain")
    return version


def signature_holds(public_key_b64: str, cp: dict[str, Any]) -> bool:
    """Whether a checkpoint as a holder keeps it (:func:`body`) is signed by that public key."""
    try:
        sig = str(cp["signature"])
        raw = base64.b64decode(public_key_b64)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
            payload(str(cp["uscc"]), int(cp["seq"]), str(cp["hash"]), str(cp["at"]), _version(cp)),
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
    chain: str = ""

    def __str__(self) -> str:
        of = f" of chain {self.chain}" if self.chain else ""
        return f"checkpoint broken: entry {self.seq}{of} (checkpoint of {self.at}, {self.hash[:16]}…): {self.reason}"


def chain_held(db: Session, cp: dict[str, Any]) -> int | None:
    """The chain a held checkpoint signed: the installation's (v1), or its institution's own (v2);
    None for an institution this installation does not host."""
    if str(cp.get("version", CHECKPOINT_V1)) == CHECKPOINT_V1:
        return audit.INSTALLATION
    return db.exec(select(Institution.id).where(Institution.uscc == str(cp.get("uscc")))).first()


def verify_through(db: Session, held: list[dict[str, Any]]) -> audit.ChainBreak | CheckpointBreak | None:
    """R-AUDIT-1: the chains the checkpoints signed hold and pass through every checkpoint held; the
    first that does not, in sequence order. A checkpoint beyond its chain's head means entries were deleted."""
    located = [(chain_held(db, cp), cp) for cp in held]
    for c in sorted({c for c, _ in located if c is not None}):
        broken = audit.verify_chain(db, c)
        if broken is not None:
            return broken
    for chain, cp in sorted(located, key=lambda x: (x[0] if x[0] is not None else -1, int(x[1]["seq"]))):
        seq, expected = int(cp["seq"]), str(cp["hash"])
        at, name = str(cp.get("at", "")), str(cp.get("chain", INSTALLATION_CHAIN))
        if chain is None:
            return CheckpointBreak(seq, expected, at, "no chain of this institution here", name)
        if seq == 0:
            continue
        if seq > head(db, chain)[0]:
            return CheckpointBreak(
                seq, expected, at, "the chain is shorter than the checkpoint (entries removed)", name
            )
        entry = audit.entry_at(db, chain, seq)
        if entry is None:
            return CheckpointBreak(seq, expected, at, "entry missing", name)
        if entry.hash != expected:
            return CheckpointBreak(
                seq,
                expected,
                at,
                f"the chain no longer passes through it (hash now {entry.hash[:16]}…): rewritten",
                name,
            )
    return None


MAX_PROOF = 5000


def proof(db: Session, since: int, limit: int = MAX_PROOF, chain: int = audit.INSTALLATION) -> dict[str, Any]:
    """The links of one chain from ``since`` on (sequence, previous hash, hash), for a holder of
    a checkpoint at ``since`` to see today's chain pass through it to the head. Only hashes: the
    entries' content (which may name people, R-PRIV-1) stays on the installation, whose
    ``examday audit verify`` recomputes it. Who may read which chain is the caller's decision
    (``scoring.report_controllers``)."""
    since = max(0, since)
    rows = db.exec(
        select(audit.AuditEntry.chain_seq, audit.AuditEntry.prev_hash, audit.AuditEntry.hash)
        .where(audit.AuditEntry.chain == chain, audit.AuditEntry.chain_seq >= max(since, 1))
        .order_by(col(audit.AuditEntry.chain_seq))
        .limit(limit + 1)
    ).all()
    seq, head_hash = head(db, chain)
    links = [{"seq": s, "prev_hash": p, "hash": h} for s, p, h in rows[:limit]]
    return {
        "since": since,
        "chain": INSTALLATION_CHAIN if chain == audit.INSTALLATION else _uscc(db, chain),
        "head": {"seq": seq, "hash": head_hash},
        "links": links,
        "more": len(rows) > limit,
        "chain_holds": audit.verify_chain(db, chain) is None,
    }


def _uscc(db: Session, institution_id: int) -> str:
    inst = db.get(Institution, institution_id)
    return inst.uscc if inst is not None else str(institution_id)


def links_pass_through(links: list[dict[str, Any]], seq: int, expected: str) -> bool:
    """A holder's check of a proof: the link at ``seq`` carries the checkpoint's hash and every
    later link follows the one before it."""
    if not links or int(links[0]["seq"]) != seq or links[0]["hash"] != expected:
        return False
    return all(b["prev_hash"] == a["hash"] and int(b["seq"]) == int(a["seq"]) + 1 for a, b in itertools.pairwise(links))
