"""The audit chain catches edits, deletions and reordering (R-AUDIT-1)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from examday import audit
from examday.actor import SYSTEM


def fill(engine, clock, n=5):
    with Session(engine) as db:
        for i in range(n):
            audit.record(db, SYSTEM, "test.step", "thing", i, {"n": [None, i]}, clock.now())
        db.commit()


def verify(engine):
    with Session(engine) as db:
        return audit.verify(db)


def test_intact_chain_verifies(engine, clock):
    fill(engine, clock)
    assert verify(engine) is None


def test_edited_row_is_caught_at_its_position(engine, clock):
    # R-AUDIT-1
    fill(engine, clock)
    with engine.begin() as c:
        c.execute(text("UPDATE auditentry SET diff = '{\"n\":[null,99]}' WHERE seq = 3"))
    brk = verify(engine)
    assert brk is not None and brk.seq == 3 and "edited" in brk.reason


def test_deleted_row_is_caught(engine, clock):
    # R-AUDIT-1
    fill(engine, clock)
    with engine.begin() as c:
        c.execute(text("DELETE FROM auditentry WHERE seq = 2"))
    brk = verify(engine)
    assert brk is not None and brk.seq == 2 and "missing" in brk.reason


def test_deleted_newest_row_is_caught(engine, clock):
    # R-AUDIT-1
    fill(engine, clock)
    with engine.begin() as c:
        c.execute(text("DELETE FROM auditentry WHERE seq = 5"))
    brk = verify(engine)
    assert brk is not None and brk.seq == 5


def test_reordered_rows_are_caught(engine, clock):
    # R-AUDIT-1: swap the content of entries 2 and 4, keeping each one's own hash valid.
    fill(engine, clock)
    with engine.begin() as c:
        c.execute(text("UPDATE auditentry SET seq = 1000 WHERE seq = 2"))
        c.execute(text("UPDATE auditentry SET seq = 2 WHERE seq = 4"))
        c.execute(text("UPDATE auditentry SET seq = 4 WHERE seq = 1000"))
    brk = verify(engine)
    assert brk is not None and brk.seq == 2


def test_rewritten_chain_without_head_is_caught(engine, clock):
    # Recomputing every hash after an edit still leaves the head pointing at the old hash.
    fill(engine, clock)
    with Session(engine) as db:
        rows = db.exec(audit.select(audit.AuditEntry).order_by(audit.AuditEntry.seq)).all()
        prev = audit.GENESIS
        for e in rows:
            if e.seq == 3:
                e.diff = '{"n":[null,42]}'
            e.prev_hash = prev
            e.hash = audit.entry_hash(e)
            prev = e.hash
            db.add(e)
        db.commit()
    assert verify(engine) is not None


def test_entries_recorded_in_china_time_still_verify(engine, clock):
    # R-AUDIT-1: a service that passes a +08:00 time must not leave an entry that reads back as edited.
    from examday.clock import CST

    with Session(engine) as db:
        audit.record(db, SYSTEM, "test.cst", "thing", 1, {}, clock.now().astimezone(CST))
        db.commit()
    assert verify(engine) is None


def test_replaced_middle_entry_with_its_hash_recomputed_is_caught_by_the_link(engine, clock):
    # R-AUDIT-1: entry 3 is rewritten and its own hash recomputed, so it checks on its own;
    # entry 4's prev_hash still names the old entry 3, and the link is what catches it.
    fill(engine, clock)
    with Session(engine) as db:
        e = db.get(audit.AuditEntry, 3)
        e.diff = '{"n":[null,42]}'
        e.hash = audit.entry_hash(e)
        db.add(e)
        db.commit()
    brk = verify(engine)
    assert brk is not None and brk.seq == 4 and "does not follow" in brk.reason
