"""Migration 0015 (issue #18, R-AUDIT-1): a database written with the one installation-wide chain
keeps every entry verifiable, and goes on with one chain per institution.

The entries already written keep their sequence numbers and hashes (old checkpoints and seals
name them) as the beginning of the installation's chain; its head is the old head; new entries
of an institution start its own chain; the installation-wide key goes on after the old ones.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from examday import audit
from examday.actor import SYSTEM
from storage.db import alembic_config, make_engine, migrate
from tests.integration.storage.test_migrations import PG_URL, empty_schema

AT = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


def _old_hash(seq: int, prev: str) -> str:
    """The formula before issue #18, written out as it was (examday/audit.py at 0014)."""
    payload = [seq, AT.isoformat(), None, "root", "admin", 3, "old.step", "thing", str(seq), "{}", prev]
    text_ = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text_.encode()).hexdigest()


def _write_old_chain(url: str, n: int = 4) -> list[str]:
    engine = make_engine(url)
    hashes, prev = [], audit.GENESIS
    with engine.begin() as c:
        for seq in range(1, n + 1):
            h = _old_hash(seq, prev)
            c.execute(
                text(
                    "INSERT INTO auditentry (seq, at, account_id, username, role, institution_id, action,"
                    " object_type, object_id, diff, prev_hash, hash) VALUES (:seq, :at, NULL, 'root', 'admin',"
                    " 3, 'old.step', 'thing', :oid, '{}', :prev, :h)"
                ),
                {"seq": seq, "at": AT, "oid": str(seq), "prev": prev, "h": h},
            )
            hashes.append(h)
            prev = h
        c.execute(text("INSERT INTO audithead (id, seq, hash) VALUES (1, :n, :h)"), {"n": n, "h": prev})
    engine.dispose()
    return hashes


def _upgrade_and_check(url: str) -> None:
    command.upgrade(alembic_config(url), "0014")
    old = _write_old_chain(url)
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            assert audit.verify_all(db) == []
            assert audit.head(db, audit.INSTALLATION) == (4, old[-1])  # an old checkpoint's (seq, hash)
            assert [audit.entry_at(db, 0, i).hash for i in (1, 2, 3, 4)] == old
            a = audit.record(db, SYSTEM, "new.step", "thing", 1, {}, AT, 3)
            mine = audit.record(db, SYSTEM, "new.root", "thing", 1, {}, AT)
            db.commit()
            assert (a.chain, a.chain_seq, a.hv) == (3, 1, audit.HASH_V2)
            assert (mine.chain, mine.chain_seq, mine.prev_hash) == (0, 5, old[-1])
            assert (a.seq, mine.seq) == (5, 6)  # the database numbers the key from after the old entries
        with Session(engine) as db:
            assert audit.verify_all(db) == []
    finally:
        engine.dispose()


def test_r_audit_1_issue_18_sqlite_upgrade_keeps_the_old_chain(tmp_path):
    _upgrade_and_check(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_r_audit_1_issue_18_postgres_upgrade_keeps_the_old_chain():
    with empty_schema() as url:
        _upgrade_and_check(url)
