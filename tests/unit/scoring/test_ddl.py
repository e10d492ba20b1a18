"""The lock triggers cover every table of a batch's scoring record (R-SCORE-3, R-AUDIT-1)."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

import scoring.models
from scoring.ddl import APPEND_ONLY, LOCKED_TABLES, lock_trigger_statements

# Certificates are made after the lock, from the sealed results; they are not part of the seal. Nor is the
# centre's review of the locked batch (R-CERT-1), nor its receipt of the reported data (R-PUB-2).
AFTER_THE_LOCK = {"certificate", "certificate_issue", "batch_seal", "batch_review", "report_receipt"}


def scoring_tables_with_batch_id() -> set[str]:
    models = [
        obj
        for obj in vars(scoring.models).values()
        if isinstance(obj, type) and issubclass(obj, SQLModel) and hasattr(obj, "__table__")
    ]
    return {m.__table__.name for m in models if "batch_id" in m.__table__.c}


def test_every_scoring_table_with_a_batch_is_locked():
    assert scoring_tables_with_batch_id() - AFTER_THE_LOCK == set(LOCKED_TABLES)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_statements_cover_insert_update_delete_of_each_table(dialect):
    sql = "\n".join(lock_trigger_statements(dialect))
    for table in LOCKED_TABLES:
        if dialect == "sqlite":
            for event in ("INSERT", "UPDATE", "DELETE"):
                assert f"BEFORE {event} ON {table} " in sql
        else:
            assert f"BEFORE INSERT OR UPDATE OR DELETE ON {table} " in sql
    for table in APPEND_ONLY:
        assert f"{table}_append_only" in sql
    assert "ON batch " in sql and "ON batch_seal " in sql


def test_statements_recreate_rather_than_skip():
    # Idempotent and up to date: every CREATE TRIGGER follows a DROP of the same trigger.
    for dialect in ("sqlite", "postgresql"):
        statements = lock_trigger_statements(dialect)
        creates = [s for s in statements if s.startswith("CREATE TRIGGER")]
        drops = [s for s in statements if s.startswith("DROP TRIGGER IF EXISTS")]
        assert len(creates) == len(drops) > 0


def test_unknown_dialect_is_refused():
    with pytest.raises(ValueError):
        lock_trigger_statements("mysql")
