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
