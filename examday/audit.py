"""The audit chain (审计日志, R-AUDIT-1): every state change, hash-linked.

Each entry's hash covers its content and the previous entry's hash, so an
edited, deleted or reordered row breaks the chain at that position.
``AuditHead`` holds the last sequence number and hash; appending locks it, so
concurrent transactions queue up instead of forking the chain, and deleting
the newest rows is caught by comparing the head with the last entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Field, Session, SQLModel, col, select

from examday.actor import Actor
from examday.rows import table_of
from storage.types import UTCDateTime

GENESIS = "0" * 64


class AuditEntry(SQLModel, table=True):
    """One audit record (审计记录)."""

    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    account_id: int | None = None
    username: str = Field(max_length=100)
    role: str = Field(max_length=20)
    institution_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=80, index=True)
    object_type: str = Field(max_length=40)
    object_id: str = Field(max_length=80, index=True)
    diff: str  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default=GENESIS, max_length=64)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(e: AuditEntry) -> str:
    payload = canonical(
        [
            e.seq,
            e.at.isoformat(),
            e.account_id,
            e.username,
            e.role,
            e.institution_id,
            e.action,
            e.object_type,
            e.object_id,
            e.diff,
            e.prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    db: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    diff: dict[str, Any] | None,
    at: datetime,
    institution_id: int | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (committed with the change it describes).

    The head row is locked from here to the commit, so every writer of the installation queues
    on it: Core statements keep that stretch short (at the door, check-ins wait on it)."""
    # The hash is over the value as it reads back: UTC, whatever zone the caller used.
    at = at.astimezone(UTC)
    conn = db.connection()
    head = conn.execute(_HEAD_FOR_UPDATE).first()
    if head is None:
        conn.execute(insert(table_of(AuditHead)).values(id=1, seq=0, hash=GENESIS))
        head_seq, head_hash = 0, GENESIS
    else:
        head_seq, head_hash = head
    entry = AuditEntry(
        seq=head_seq + 1,
        at=at,
        account_id=actor.account_id,
        username=actor.username,
        role=actor.role,
        institution_id=institution_id if institution_id is not None else actor.institution_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        diff=canonical(diff or {}),
        prev_hash=head_hash,
        hash="",
    )
    # Hash over the value as it will read back from the database (microseconds kept).
    entry.hash = entry_hash(entry)
    conn.execute(_INSERT_ENTRY, {c: getattr(entry, c) for c in _ENTRY_COLUMNS})
    conn.execute(_MOVE_HEAD, {"seq": entry.seq, "hash": entry.hash})
    return entry


_HEAD_FOR_UPDATE = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_ENTRY_COLUMNS = [c.name for c in table_of(AuditEntry).columns]
_INSERT_ENTRY = insert(table_of(AuditEntry))
_MOVE_HEAD = (
    update(table_of(AuditHead))
    .where(table_of(AuditHead).c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit chain broken at entry {self.seq}: {self.reason}"


def verify(db: Session, batch: int = 5000) -> ChainBreak | None:
    """Walk the chain in order; name the first entry that does not hold."""
    prev_hash, expected_seq, last = GENESIS, 1, 0
    after = 0
    while True:
        rows = db.exec(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(col(AuditEntry.seq)).limit(batch)
        ).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return ChainBreak(expected_seq, "entry missing (deleted)")
            if e.prev_hash != prev_hash:
                return ChainBreak(e.seq, "does not follow the entry before it (reordered or replaced)")
            if entry_hash(e) != e.hash:
                return ChainBreak(e.seq, "content does not match its hash (edited)")
            prev_hash, expected_seq, last = e.hash, e.seq + 1, e.seq
        after = rows[-1].seq
        db.expunge_all()
    head = db.get(AuditHead, 1)
    if head is not None and (head.seq != last or head.hash != prev_hash):
        return ChainBreak(last + 1, "newest entries missing (deleted after the last one shown)")
    return None


def diff_of(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON diff: only fields that changed, as [old, new]."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
