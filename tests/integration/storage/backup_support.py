"""Installations for the backup tests (issue #19): a database made by the migrations (so it has a
schema revision, as a real one does), on SQLite or in a PostgreSQL database of its own, and
settings pointing at it and at a data folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from examday.settings import Settings
from tests.support import fast_settings

PG_URL = os.environ.get("EXAMDAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def _admin():
    assert PG_URL
    return create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@contextmanager
def new_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a database that does not exist yet (SQLite) or is empty (a new PostgreSQL
    database, its tables in ``public`` as in production), dropped afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'examday.db'}"
        return
    name = f"examday_b{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert PG_URL
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def installation(url: str, folder: Path) -> Settings:
    return fast_settings(url, folder / "data")
