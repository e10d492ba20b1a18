"""The audit chain (审计日志, R-AUDIT-1): every state change, hash-linked — one chain per institution.

Each entry's hash covers its content and the previous entry's hash, so an edited, deleted or
reordered row breaks the chain at that position. Issue #18: there is no installation-wide queue.
Every institution has a chain of its own (``chain`` = the institution's id) and the
installation's own actions (accounts of root and centres, the registry, calendar notices,
settings: no institution) have theirs (``chain`` = 0, :data:`INSTALLATION`). Each chain counts
its entries from 1 (``chain_seq``), starts from :data:`GENESIS` and has its own ``AuditHead`` row;
appending locks only that row, so two institutions' writers never wait on each other while two
writers of one institution still queue instead of forking its chain. Deleting a chain's newest
rows is caught by comparing its head with its last entry.

``seq`` is the installation-wide surrogate key (the order of writing, for readers); it is not what
a chain is walked by. Hash versions (``hv``): v1 — the single chain before issue #18 — covers
``seq``; migration 0015 left those entries as they were, as the beginning of the installation's
chain (``chain_seq`` = ``seq``), so old checkpoints and seals still verify. v2 covers the chain
and ``chain_seq`` instead. A v1 entry is accepted only on chain 0 and only before its first v2
entry: a later rewrite cannot fall back to the old formula.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import UniqueConstraint, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select

from examday.actor import Actor
from examday.rows import table_of
from storage.types import UTCDateTime

GENESIS = "0" * 64
INSTALLATION = 0  # the chain of the installation's own actions
HASH_V1 = 1  # before issue #18: one chain, the hash over the installation-wide seq
HASH_V2 = 2  # one chain per institution: the hash over the chain and its own sequence


class AuditEntry(SQLModel, table=True):
    """One audit record (审计记录)."""

    __table_args__ = (UniqueConstraint("chain", "chain_seq", name="uq_auditentry_chain_seq"),)
    seq: int | None = Field(default=None, primary_key=True)
    chain: int = Field(default=INSTALLATION, sa_column_kwargs={"server_default": "0"})
    chain_seq: int
    hv: int = Field(default=HASH_V2, sa_column_kwargs={"server_default": "1"})
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
    """A chain's head (链头): its last sequence number and hash."""

    chain: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(default=GENESIS, max_length=64)


@dataclass
class Appended:
    """An entry as ``record`` appended it: the row's values, without the cost of building the
    ORM object (a tenth of a check-in's CPU, issue #18)."""

    chain: int
    chain_seq: int
    hv: int
    at: datetime
    account_id: int | None
    username: str
    role: str
    institution_id: int | None
    action: str
    object_type: str
    object_id: str
    diff: str
    prev_hash: str
    hash: str = ""
    seq: int | None = None


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(e: AuditEntry | Appended) -> str:
    content = [
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
    if e.hv == HASH_V1:
        payload = canonical([e.seq, *content])
    else:
        payload = canonical(["audit/v2", e.chain, e.chain_seq, *content])
    return hashlib.sha256(payload.encode()).hexdigest()


def chain_of(actor: Actor, institution_id: int | None = None) -> int:
    """The chain an entry goes on: the institution it concerns, else the actor's, else the installation's."""
    inst = institution_id if institution_id is not None else actor.institution_id
    return inst if inst is not None else INSTALLATION


def record(
    db: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    diff: dict[str, Any] | None,
    at: datetime,
    institution_id: int | None = None,
) -> Appended:
    """Append one entry in the caller's transaction (committed with the change it describes).

    Only the head of the entry's chain is locked from here to the commit: writers of one
    institution queue on it, other institutions do not. Core statements keep that stretch short
    (at the door, check-ins wait on it)."""
    # The hash is over the value as it reads back: UTC, whatever zone the caller used.
    at = at.astimezone(UTC)
    chain = chain_of(actor, institution_id)
    conn = db.connection()
    head = conn.execute(_HEAD_FOR_UPDATE, {"chain": chain}).first()
    if head is None:
        # A chain's first entry: two first writers may race; the second one's insert does nothing.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(table_of(AuditHead)).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing()
        )
        head = conn.execute(_HEAD_FOR_UPDATE, {"chain": chain}).first()
        assert head is not None
    head_seq, head_hash = head
    entry = Appended(
        chain=chain,
        chain_seq=head_seq + 1,
        hv=HASH_V2,
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
    moved = {"b_chain": chain, "b_seq": entry.chain_seq, "b_hash": entry.hash}
    if conn.dialect.name == "postgresql":  # the entry and the head's move in one round trip (issue #18)
        params = {f"e_{c}": getattr(entry, c) for c in _ENTRY_COLUMNS}
        entry.seq = conn.execute(_APPEND_MOVING_HEAD, {**params, **moved}).scalar_one()
        return entry
    entry.seq = conn.execute(_INSERT_ENTRY, {c: getattr(entry, c) for c in _ENTRY_COLUMNS}).scalar_one()
    conn.execute(_MOVE_HEAD, moved)
    return entry


_HEADS = table_of(AuditHead)
_HEAD_FOR_UPDATE = select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == bindparam("chain")).with_for_update()
_ENTRY_COLUMNS = [c.name for c in table_of(AuditEntry).columns if c.name != "seq"]
_INSERT_ENTRY = insert(table_of(AuditEntry)).returning(table_of(AuditEntry).c.seq)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
# PostgreSQL runs a data-modifying WITH once and to completion even though nothing reads it. The
# entry's parameters are named apart (e_*) so that none of them is taken for a SET of the head.
_APPEND_MOVING_HEAD = (
    insert(table_of(AuditEntry))
    .values({c: bindparam(f"e_{c}") for c in _ENTRY_COLUMNS})
    .add_cte(_MOVE_HEAD.cte("moved_head"))
    .returning(table_of(AuditEntry).c.seq)
)


@dataclass(frozen=True)
class ChainBreak:
    seq: int  # the position in its chain (chain_seq)
    reason: str
    chain: int = INSTALLATION

    def __str__(self) -> str:
        return f"audit chain {chain_name(self.chain)} broken at entry {self.seq}: {self.reason}"


def chain_name(chain: int) -> str:
    return "of the installation" if chain == INSTALLATION else f"of institution {chain}"


def chains(db: Session) -> list[int]:
    """Every chain that has an entry or a head, the installation's first."""
    found = set(db.exec(select(AuditHead.chain)).all()) | set(db.exec(select(AuditEntry.chain).distinct()).all())
    return sorted(found)


def head(db: Session, chain: int = INSTALLATION) -> tuple[int, str]:
    h = db.get(AuditHead, chain)
    return (h.seq, h.hash) if h is not None else (0, GENESIS)


def heads(db: Session) -> dict[int, tuple[int, str]]:
    return {h.chain: (h.seq, h.hash) for h in db.exec(select(AuditHead).order_by(col(AuditHead.chain))).all()}


def entry_at(db: Session, chain: int, chain_seq: int) -> AuditEntry | None:
    return db.exec(select(AuditEntry).where(AuditEntry.chain == chain, AuditEntry.chain_seq == chain_seq)).first()


def verify_chain(db: Session, chain: int, batch: int = 5000) -> ChainBreak | None:
    """Walk one chain in order; name the first entry that does not hold."""
    prev_hash, expected, last, v2_seen = GENESIS, 1, 0, False
    while True:
        rows = db.exec(
            select(AuditEntry)
            .where(AuditEntry.chain == chain, AuditEntry.chain_seq > last)
            .order_by(col(AuditEntry.chain_seq))
            .limit(batch)
        ).all()
        if not rows:
            break
        for e in rows:
            if e.chain_seq != expected:
                return ChainBreak(expected, "entry missing (deleted)", chain)
            if e.prev_hash != prev_hash:
                return ChainBreak(e.chain_seq, "does not follow the entry before it (reordered or replaced)", chain)
            if e.hv == HASH_V1 and (chain != INSTALLATION or v2_seen or e.seq != e.chain_seq):
                return ChainBreak(e.chain_seq, "an entry of the old single chain out of its place (moved)", chain)
            if e.hv not in (HASH_V1, HASH_V2) or entry_hash(e) != e.hash:
                return ChainBreak(e.chain_seq, "content does not match its hash (edited)", chain)
            v2_seen = v2_seen or e.hv == HASH_V2
            prev_hash, expected, last = e.hash, e.chain_seq + 1, e.chain_seq
        db.expunge_all()
    h = db.get(AuditHead, chain)
    if h is None and last > 0:
        return ChainBreak(last + 1, "the chain's head is missing (deleted)", chain)
    if h is not None and (h.seq != last or h.hash != prev_hash):
        return ChainBreak(last + 1, "newest entries missing (deleted after the last one shown)", chain)
    return None


def verify_all(db: Session, batch: int = 5000) -> list[ChainBreak]:
    """Every chain of the installation; the first break of each chain that does not hold."""
    return [b for c in chains(db) if (b := verify_chain(db, c, batch)) is not None]


def verify(db: Session, batch: int = 5000) -> ChainBreak | None:
    """Every chain; the first break found (the installation's chain first, then by institution)."""
    for c in chains(db):
        broken = verify_chain(db, c, batch)
        if broken is not None:
            return broken
    return None


def diff_of(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON diff: only fields that changed, as [old, new]."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
