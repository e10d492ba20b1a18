"""Two institutions' writers no longer wait on each other (issue #18, R-AUDIT-1).

Before issue #18 every writer of the installation locked the one head of the one audit chain
until its commit. Now each institution's chain has its own head: a writer of institution A
holding its transaction open after ``record()`` does not hold up institution B's ``record()``,
while a second writer of A still waits for A's head — so A's chain still cannot fork.
PostgreSQL only: SQLite has one writer per database anyway (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from examday import audit
from examday.actor import SYSTEM

A, B = 11, 12


def _record(engine, clock, inst, out, lock_timeout_ms=None):
    try:
        with Session(engine) as db:
            if lock_timeout_ms is not None:
                db.connection().execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            started = time.monotonic()
            entry = audit.record(db, SYSTEM, "test.concurrent", "thing", inst, {}, clock.now(), inst)
            db.commit()
            out.append(("ok", entry.chain, entry.chain_seq, time.monotonic() - started))
    except OperationalError as exc:
        out.append(("timeout", inst, str(exc.orig)[:80], 0.0))


def test_r_audit_1_issue_18_institutions_do_not_queue_on_each_others_head(engine, clock):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks across connections: PostgreSQL")
    for inst in (A, B):  # both chains exist, as on a morning after the first check-ins
        with Session(engine) as db:
            audit.record(db, SYSTEM, "test.first", "thing", inst, {}, clock.now(), inst)
            db.commit()

    holder = Session(engine)
    try:
        audit.record(holder, SYSTEM, "test.held", "thing", A, {}, clock.now(), A)  # A's head locked, not committed

        other: list = []
        t = threading.Thread(target=_record, args=(engine, clock, B, other, 2000))
        t.start()
        t.join(timeout=5)
        assert not t.is_alive() and other and other[0][0] == "ok", other
        assert other[0][1:3] == (B, 2) and other[0][3] < 1.0  # B's record went through at once

        same: list = []
        t = threading.Thread(target=_record, args=(engine, clock, A, same, 500))
        t.start()
        t.join(timeout=5)
        assert same and same[0][0] == "timeout", same  # a second writer of A waits for A's head
        assert "lock timeout" in same[0][2]

        waiting: list = []
        t = threading.Thread(target=_record, args=(engine, clock, A, waiting))
        t.start()
        time.sleep(0.3)
        assert t.is_alive() and not waiting  # still queued behind the holder
        holder.commit()
        t.join(timeout=5)
        assert waiting and waiting[0][:3] == ("ok", A, 3)  # after the holder: A's next entry, no fork
    finally:
        holder.close()
    with Session(engine) as db:
        assert audit.verify_all(db) == []
        assert audit.head(db, A)[0] == 3 and audit.head(db, B)[0] == 2


def test_r_audit_1_issue_18_the_first_writers_of_a_new_chain_do_not_fork_it(engine, clock):
    """Two first writers of a chain with no head yet: one creates the head, both entries follow."""
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    out: list = []
    threads = [threading.Thread(target=_record, args=(engine, clock, A, out)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(o[2] for o in out if o[0] == "ok") == [1, 2, 3, 4], out
    with Session(engine) as db:
        assert audit.verify_all(db) == []
