"""The offline roster's ID hashes (签到名单, R-PRIV-1): made once for the installation, kept in
``RosterIdHash``, read by every server process.

Each hash costs tens of milliseconds on purpose (``kiosk/idhash.py``). They used to be kept in
each process's memory, so with ``examday serve --workers 4`` every process made every candidate's
hash again as the kiosks' roster refreshes reached it: on a province's morning (issue #18) that
was most of the installation's CPU, while the doors were open. Now the first roster of a batch
makes the missing ones and stores them; any process, now or after a restart, reads them back.

Two processes may make the same candidate's hash at once (with different salts): the first one
stored wins (the insert of the second does nothing, the replacement of a stale one is a
compare-and-set), and both hand out the stored one, so kiosks never see two salts for one
candidate. A number corrected since (``number_key``) or new hash parameters (``made_with``)
make the hash again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from examday import audit
from examday.actor import Actor
from examday.rows import table_of
from kiosk import idhash
from kiosk.models import RosterIdHash

# (candidate id, keyed digest of the number on record, the number): what a roster asks for.
Wanted = tuple[int, str, str]

MADE_WITH = hashlib.sha256(audit.canonical(idhash.PARAMS).encode()).hexdigest()[:16]
# Kiosks ask for the same roster together at the start of the day: in one process, one request
# makes the hashes and the others wait for it and find them stored.
_MAKING = threading.Lock()

_T = table_of(RosterIdHash)
_ADVISORY = text("SELECT pg_advisory_xact_lock(:kind, :batch)")
_LOCK_KIND = 7242040  # examday's advisory locks: 724203x migrations and upgrades, 724204x the domain
_STORED = sa_select(_T.c.candidate_id, _T.c.number_key, _T.c.made_with, _T.c.salt, _T.c.hash).where(
    _T.c.candidate_id.in_(bindparam("ids", expanding=True))
)
_REPLACE_STALE = (
    update(_T)
    .where(
        _T.c.candidate_id == bindparam("b_id"),
        _T.c.number_key == bindparam("b_old_key"),
        _T.c.made_with == bindparam("b_old_made_with"),
    )
    .values(
        number_key=bindparam("number_key"),
        made_with=bindparam("made_with"),
        salt=bindparam("salt"),
        hash=bindparam("hash"),
    )
)


def _stored(db: Session, ids: Sequence[int], end: bool = True) -> dict[int, Any]:
    if not ids:
        return {}
    rows = {r.candidate_id: r for r in db.connection().execute(_STORED, {"ids": list(ids)})}
    if end:  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE): a read ends at once
        db.rollback()
    return rows


def _one_maker(db: Session, batch_id: int) -> bool:
    """On PostgreSQL, one server process at a time makes a batch's hashes: the others wait here
    and then find them stored. The lock lasts until the transaction ends (a few seconds of
    hashing, no row locked). SQLite serves from one process, where ``_MAKING`` does it."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(_ADVISORY, {"kind": _LOCK_KIND, "batch": batch_id})
    return True


def _fits(row: Any, key: str) -> bool:
    return row is not None and row.number_key == key and row.made_with == MADE_WITH


def roster_hashes(
    db: Session, actor: Actor, now: datetime, institution_id: int, batch_id: int, wanted: list[Wanted]
) -> dict[int, tuple[str, str]]:
    """(salt, hash) per candidate id. Call with no transaction open: the slow hashes run outside
    any (on SQLite a transaction holds the write lock, and check-ins would wait behind it)."""
    ids = [cid for cid, _, _ in wanted]
    stored = _stored(db, ids)
    if all(_fits(stored.get(cid), key) for cid, key, _ in wanted):
        return {cid: (stored[cid].salt, stored[cid].hash) for cid in ids}
    with _MAKING:
        # Another request of this process, or another process, may have made them meanwhile.
        stored = _stored(db, ids, end=not _one_maker(db, batch_id))
        missing = [w for w in wanted if not _fits(stored.get(w[0]), w[1])]
        if missing:
            # argon2 runs outside the GIL: a first roster of a large batch uses every core.
            with ThreadPoolExecutor(max_workers=max(1, min(len(missing), os.cpu_count() or 1))) as pool:
                made = list(pool.map(lambda m: idhash.entry(m[2]), missing))
            _keep(db, stored, missing, made)
            audit.record(
                db,
                actor,
                "roster.id_hashes_made",
                "batch",
                batch_id,
                {"candidates": len(missing), "made_with": MADE_WITH},
                now,
                institution_id,
            )
            db.commit()
            stored.update(_stored(db, [cid for cid, _, _ in missing]))
        else:
            db.rollback()  # the other maker's lock, if taken, goes with it
    return {cid: (stored[cid].salt, stored[cid].hash) for cid in ids}


def _keep(db: Session, stored: dict[int, Any], missing: list[Wanted], made: list[tuple[str, str]]) -> None:
    conn = db.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    fresh, stale = [], []
    for (cid, key, _), (salt, digest) in zip(missing, made, strict=True):
        row = {"number_key": key, "made_with": MADE_WITH, "salt": salt, "hash": digest}
        old = stored.get(cid)
        if old is None:
            fresh.append({"candidate_id": cid, **row})
        else:
            stale.append({"b_id": cid, "b_old_key": old.number_key, "b_old_made_with": old.made_with, **row})
    if fresh:  # another process's, stored first, stands
        conn.execute(dialect.insert(_T).on_conflict_do_nothing(index_elements=["candidate_id"]), fresh)
    if stale:
        conn.execute(_REPLACE_STALE, stale)
