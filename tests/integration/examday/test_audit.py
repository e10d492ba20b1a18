"""The audit chains catch edits, deletions, reordering and truncation (R-AUDIT-1), on every chain.

Issue #18: one chain per institution and the installation's own (chain 0), each counted from 1
with its own head. A break is named with its chain, so a break in institution B's chain is B's.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import SYSTEM

A, B = 7, 8  # two institutions' chains (the chain is the institution's id)


def fill(engine, clock, n=5):
    """n entries on each of three chains, interleaved as a morning's writers would."""
    with Session(engine) as db:
        for i in range(n):
            for inst in (None, A, B):
                audit.record(db, SYSTEM, "test.step", "thing", i, {"n": [None, i]}, clock.now(), inst)
        db.commit()


def verify(engine):
    with Session(engine) as db:
        return audit.verify(db)


def sql(engine, *statements, **params):
    with engine.begin() as c:
        for s in statements:
            c.execute(text(s), params)


def test_r_audit_1_every_chain_counts_from_one_and_verifies(engine, clock):
    """Issue #18: each chain has its own sequence, genesis and head."""
    fill(engine, clock)
    assert verify(engine) is None
    with Session(engine) as db:
        assert audit.chains(db) == [0, A, B]
        for chain in (0, A, B):
            rows = db.exec(
                select(audit.AuditEntry).where(audit.AuditEntry.chain == chain).order_by(col(audit.AuditEntry.seq))
            ).all()
            assert [e.chain_seq for e in rows] == [1, 2, 3, 4, 5]
            assert rows[0].prev_hash == audit.GENESIS
            assert audit.head(db, chain) == (5, rows[-1].hash)
        # The installation-wide key still orders the writing.
        assert [e.seq for e in db.exec(select(audit.AuditEntry)).all()] == list(range(1, 16))


def test_r_audit_1_an_edited_row_is_caught_at_its_position_in_its_chain(engine, clock):
    fill(engine, clock)
    sql(engine, "UPDATE auditentry SET diff = '{\"n\":[null,99]}' WHERE chain = :c AND chain_seq = 3", c=B)
    brk = verify(engine)
    assert brk is not None and (brk.chain, brk.seq) == (B, 3) and "edited" in brk.reason
    assert str(brk).startswith(f"audit chain of institution {B} broken at entry 3")


def test_r_audit_1_a_deleted_row_is_caught(engine, clock):
    fill(engine, clock)
    sql(engine, "DELETE FROM auditentry WHERE chain = :c AND chain_seq = 2", c=B)
    brk = verify(engine)
    assert brk is not None and (brk.chain, brk.seq) == (B, 2) and "missing" in brk.reason


def test_r_audit_1_a_deleted_newest_row_is_caught(engine, clock):
    fill(engine, clock)
    sql(engine, "DELETE FROM auditentry WHERE chain = :c AND chain_seq = 5", c=B)
    brk = verify(engine)
    assert brk is not None and (brk.chain, brk.seq) == (B, 5)


def test_r_audit_1_a_truncated_chain_without_its_head_is_caught(engine, clock):
    """Deleting the newest rows and the head row: the entries left have no head to end at."""
    fill(engine, clock)
    sql(
        engine,
        "DELETE FROM auditentry WHERE chain = :c AND chain_seq >= 4",
        "DELETE FROM audithead WHERE chain = :c",
        c=A,
    )
    brk = verify(engine)
    assert brk is not None and brk.chain == A and "head" in brk.reason


def test_r_audit_1_reordered_rows_are_caught(engine, clock):
    # Swap the places of entries 2 and 4 of B, keeping each one's own hash valid.
    fill(engine, clock)
    sql(
        engine,
        "UPDATE auditentry SET chain_seq = 1000 WHERE chain = :c AND chain_seq = 2",
        "UPDATE auditentry SET chain_seq = 2 WHERE chain = :c AND chain_seq = 4",
        "UPDATE auditentry SET chain_seq = 4 WHERE chain = :c AND chain_seq = 1000",
        c=B,
    )
    brk = verify(engine)
    assert brk is not None and (brk.chain, brk.seq) == (B, 2)


def test_r_audit_1_an_entry_moved_to_another_chain_is_caught(engine, clock):
    """The hash covers the chain: B's entry 5 cannot become A's entry 6."""
    fill(engine, clock)
    with Session(engine) as db:
        a_head = audit.head(db, A)
    sql(
        engine,
        "UPDATE auditentry SET chain = :a, chain_seq = 6, prev_hash = :h WHERE chain = :b AND chain_seq = 5",
        "UPDATE audithead SET seq = 6 WHERE chain = :a",
        a=A,
        b=B,
        h=a_head[1],
    )
    with Session(engine) as db:
        moved, b_4 = audit.entry_at(db, A, 6).hash, audit.entry_at(db, B, 4).hash
    sql(engine, "UPDATE audithead SET hash = :h WHERE chain = :a", h=moved, a=A)
    sql(engine, "UPDATE audithead SET seq = 4, hash = :h WHERE chain = :b", h=b_4, b=B)
    with Session(engine) as db:
        breaks = audit.verify_all(db)
    assert [(b.chain, b.seq) for b in breaks] == [(A, 6)] and "edited" in breaks[0].reason


def test_r_audit_1_verify_all_names_every_broken_chain(engine, clock):
    fill(engine, clock)
    sql(engine, "UPDATE auditentry SET username = 'x' WHERE chain = :c AND chain_seq = 2", c=A)
    sql(engine, "UPDATE auditentry SET username = 'x' WHERE chain = 0 AND chain_seq = 4")
    with Session(engine) as db:
        breaks = audit.verify_all(db)
    assert [(b.chain, b.seq) for b in breaks] == [(0, 4), (A, 2)]
    assert str(breaks[0]).startswith("audit chain of the installation broken at entry 4")


def test_r_audit_1_a_rewritten_chain_without_head_is_caught(engine, clock):
    # Recomputing every hash after an edit still leaves the head pointing at the old hash.
    fill(engine, clock)
    with Session(engine) as db:
        rows = db.exec(
            select(audit.AuditEntry).where(audit.AuditEntry.chain == B).order_by(col(audit.AuditEntry.chain_seq))
        ).all()
        prev = audit.GENESIS
        for e in rows:
            if e.chain_seq == 3:
                e.diff = '{"n":[null,42]}'
            e.prev_hash = prev
            e.hash = audit.entry_hash(e)
            prev = e.hash
            db.add(e)
        db.commit()
    brk = verify(engine)
    assert brk is not None and brk.chain == B


def test_r_audit_1_entries_recorded_in_china_time_still_verify(engine, clock):
    # A service that passes a +08:00 time must not leave an entry that reads back as edited.
    from examday.clock import CST

    with Session(engine) as db:
        audit.record(db, SYSTEM, "test.cst", "thing", 1, {}, clock.now().astimezone(CST), A)
        db.commit()
    assert verify(engine) is None


def test_r_audit_1_a_replaced_middle_entry_with_its_hash_recomputed_is_caught_by_the_link(engine, clock):
    # Entry 3 of A is rewritten and its own hash recomputed, so it checks on its own; entry 4's
    # prev_hash still names the old entry 3, and the link is what catches it.
    fill(engine, clock)
    with Session(engine) as db:
        e = audit.entry_at(db, A, 3)
        e.diff = '{"n":[null,42]}'
        e.hash = audit.entry_hash(e)
        db.add(e)
        db.commit()
    brk = verify(engine)
    assert brk is not None and (brk.chain, brk.seq) == (A, 4) and "does not follow" in brk.reason


def _old_entries(engine, clock, n=3):
    """Entries as the single chain wrote them before issue #18 (hash v1 over seq), as migration
    0015 leaves them: the beginning of the installation's chain."""
    with Session(engine) as db:
        prev = audit.GENESIS
        for i in range(1, n + 1):
            e = audit.AuditEntry(
                seq=i, chain=0, chain_seq=i, hv=audit.HASH_V1, at=clock.now(), username="root", role="admin",
                institution_id=A, action="old.step", object_type="thing", object_id=str(i), diff="{}",
                prev_hash=prev, hash="",
            )  # fmt: skip
            e.hash = audit.entry_hash(e)
            prev = e.hash
            db.add(e)
        db.add(audit.AuditHead(chain=0, seq=n, hash=prev))
        db.commit()
        return prev


def test_r_audit_1_entries_of_the_old_single_chain_still_verify_and_the_chain_goes_on(engine, clock):
    """Issue #18: what was written before keeps its sequence numbers and hashes (old checkpoints
    and seals name them); the installation's chain continues after them, institutions start anew."""
    old_head = _old_entries(engine, clock)
    if engine.dialect.name == "postgresql":  # as migration 0015 does: the database numbers seq from here
        sql(engine, "SELECT setval(pg_get_serial_sequence('auditentry', 'seq'), 4, false)")
    fill(engine, clock, 2)
    assert verify(engine) is None
    with Session(engine) as db:
        assert audit.entry_at(db, 0, 3).hash == old_head
        assert audit.entry_at(db, 0, 4).prev_hash == old_head and audit.head(db, 0)[0] == 5
        assert audit.head(db, A)[0] == 2


def test_r_audit_1_the_old_formula_is_refused_after_the_new_one_and_off_the_installation_chain(engine, clock):
    """A rewrite cannot fall back to the v1 formula: not after a v2 entry, not on an institution's chain."""
    _old_entries(engine, clock)
    if engine.dialect.name == "postgresql":
        sql(engine, "SELECT setval(pg_get_serial_sequence('auditentry', 'seq'), 4, false)")
    fill(engine, clock, 2)
    for chain, at in ((0, 5), (A, 2)):
        with Session(engine) as db:
            e = audit.entry_at(db, chain, at)
            saved = (e.hv, e.hash)
            e.hv = audit.HASH_V1
            forged = audit.entry_hash(e)  # the old formula, which covers neither chain nor place
        sql(
            engine,
            "UPDATE auditentry SET hv = 1, hash = :h WHERE chain = :c AND chain_seq = :q",
            h=forged,
            c=chain,
            q=at,
        )
        brk = verify(engine)
        assert brk is not None and (brk.chain, brk.seq) == (chain, at) and "old single chain" in brk.reason
        sql(engine, "UPDATE auditentry SET hv = :v, hash = :h WHERE chain = :c AND chain_seq = :q",
            v=saved[0], h=saved[1], c=chain, q=at)  # fmt: skip
        assert verify(engine) is None
