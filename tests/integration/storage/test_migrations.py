"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from examday.models import metadata
from storage.db import make_engine, migrate

PG_URL = os.environ.get("EXAMDAY_TEST_POSTGRES_URL")


def drift(url: str) -> list:
    eng = make_engine(url)
    with eng.connect() as c:
        diffs = compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}), metadata)
    eng.dispose()
    return diffs


def test_sqlite_migrations_match_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    migrate(url)  # running again is a no-op
    assert drift(url) == []


@contextmanager
def empty_schema():
    """The URL of a new, empty PostgreSQL schema, dropped afterwards."""
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"examday_m{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_postgres_migrations_match_models():
    with empty_schema() as url:
        migrate(url)
        assert drift(url) == []


def test_migrated_sqlite_database_has_the_lock_triggers(tmp_path):
    # R-SCORE-3: a database built by the migrations refuses changes to locked scores like one built in tests.
    url = f"sqlite:///{tmp_path / 't.db'}"
    migrate(url)
    eng = make_engine(url)
    with eng.connect() as c:
        names = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
    eng.dispose()
    assert any("score_entry" in n for n in names) and any("batch" in n for n in names), names


@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_processes_starting_together_migrate_once():
    # Several `examday serve` processes behind the proxy start at the same moment: each runs the
    # migrations, one of them does the work, and none fails on a table another just made.
    import subprocess
    import sys

    with empty_schema() as url:
        code = "import sys; from storage.db import migrate; migrate(sys.argv[1])"
        procs = [
            subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(3)
        ]
        results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
        assert [rc for rc, _ in results] == [0, 0, 0], [err[-2000:] for _, err in results]
        assert drift(url) == []


def _triggers(url: str) -> dict[str, str]:
    """Every trigger, and on PostgreSQL every trigger function, with its definition."""
    eng = make_engine(url)
    with eng.connect() as c:
        if eng.dialect.name == "sqlite":
            rows = c.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        else:
            rows = c.execute(
                text(
                    "SELECT tgname, replace(pg_get_triggerdef(t.oid), current_schema() || '.', '')"
                    " FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid"
                    " WHERE NOT tgisinternal AND r.relnamespace = current_schema()::regnamespace"
                    " UNION ALL SELECT proname, prosrc FROM pg_proc"
                    " WHERE proname LIKE 'examday_%' AND pronamespace = current_schema()::regnamespace"
                )
            ).all()
    eng.dispose()
    return {str(name): str(sql) for name, sql in rows}


def _from_models(url: str) -> str:
    from examday.models import install_extras

    eng = make_engine(url)
    metadata.create_all(eng)
    install_extras(eng)
    eng.dispose()
    return url


RESULTS_TRIGGERS = ("candidate", "seat", "ticket", "checkin", "attendance", "certificate_issue", "certificate")


# Finding 6 (issue #14), R-SCORE-3: the migrations (0005, a frozen copy) install the same lock triggers
# as scoring.ddl installs on a database built from the models, on the tables the results rest on too.
def test_sqlite_migrations_install_the_same_lock_triggers_as_the_models(tmp_path):
    migrated = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(migrated)
    built = _from_models(f"sqlite:///{tmp_path / 'b.db'}")
    assert _triggers(migrated) == _triggers(built)
    names = _triggers(migrated)
    assert all(f"{t}_locked_upd" in names and f"{t}_locked_del" in names for t in RESULTS_TRIGGERS), names


@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_postgres_migrations_install_the_same_lock_triggers_as_the_models():
    with empty_schema() as migrated, empty_schema() as built:
        migrate(migrated)
        _from_models(built)
        assert _triggers(migrated) == _triggers(built)
        names = _triggers(migrated)
        assert all(f"{t}_locked" in names for t in RESULTS_TRIGGERS), names


def _seal_at_0004(url: str) -> None:
    """A database at 0004 with a batch locked by the code of the time: its seal has no version."""
    from alembic import command

    from storage.db import alembic_config

    command.upgrade(alembic_config(url), "0004")
    eng = make_engine(url)
    with eng.begin() as c:
        at = "2026-12-03 00:30:00"
        c.execute(
            text(
                "INSERT INTO institution (id, name, uscc, province, profile, created_at)"
                " VALUES (1, 'x', '91350200776049653A', '吉林', 'standard', :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO batch (id, institution_id, occupation_code, occupation_name, level, exam_date, parts,"
                " status, config, created_at) VALUES (1, 1, '6-31-01-03', '电工', 4, '2026-11-26', 'theory,skill',"
                " 'publicity', '{}', :at)"
            ),
            {"at": at},
        )
        c.execute(
            text(
                "INSERT INTO batch_seal (batch_id, locked_at, trigger, digest, kid, signature, results, entries)"
                " VALUES (1, :at, 'command', :d, 'k', 's', 0, 0)"
            ),
            {"at": at, "d": "0" * 64},
        )
        c.execute(
            text(
                "INSERT INTO candidate (batch_id, name, id_number, ticket_number, status, eligibility, created_at)"
                " VALUES (1, '张三', '110101199001010011', '000100001', 'registered', 'eligible', :at)"
            ),
            {"at": at},
        )
        c.execute(text("UPDATE batch SET status = 'locked' WHERE id = 1"))
    eng.dispose()


def _upgrade_then_downgrade(url: str, fresh: str) -> None:
    from alembic import command
    from sqlalchemy.exc import DBAPIError

    from storage.db import alembic_config

    _seal_at_0004(url)
    migrate(url)
    eng = make_engine(url)
    with eng.connect() as c:
        assert c.execute(text("SELECT version FROM batch_seal")).scalar_one() == "examday-seal/v1"
    with pytest.raises(DBAPIError, match="locked"), eng.begin() as c:
        c.execute(text("UPDATE candidate SET name = '李四'"))
    eng.dispose()
    command.downgrade(alembic_config(url), "0004")
    eng = make_engine(url)
    with eng.begin() as c:
        c.execute(text("UPDATE candidate SET name = '李四'"))  # as before 0005
    with pytest.raises(DBAPIError, match="locked"), eng.begin() as c:
        c.execute(text("DELETE FROM batch_seal"))  # the seal's own triggers stay
    eng.dispose()
    command.upgrade(alembic_config(fresh), "0004")
    assert _triggers(url) == _triggers(fresh)  # 0003's triggers are frozen too


# Finding 6 (issue #14), R-AUDIT-1: a seal made before 0005 is marked v1, so it keeps verifying as it was
# made; 0005 goes back down to 0004's triggers.
def test_sqlite_upgrade_marks_old_seals_v1_and_downgrades(tmp_path):
    _upgrade_then_downgrade(f"sqlite:///{tmp_path / 'u.db'}", f"sqlite:///{tmp_path / 'f.db'}")


@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set")
def test_postgres_upgrade_marks_old_seals_v1_and_downgrades():
    with empty_schema() as url, empty_schema() as fresh:
        _upgrade_then_downgrade(url, fresh)
