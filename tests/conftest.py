"""Shared fixtures. Database tests run on SQLite and, when
EXAMDAY_TEST_POSTGRES_URL is set, on PostgreSQL too (each test gets an empty
schema: a fresh SQLite file, or truncated tables in a PostgreSQL schema made
for this run)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from examday.clock import CST, FixedClock
from examday.models import metadata
from examday.settings import Settings
from storage.db import make_engine

PG_URL = os.environ.get("EXAMDAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


@pytest.fixture(scope="session", autouse=True)
def providers():
    """What the packages register at start-up, for tests that call the purge, holds or rooms
    directly without building the application (examday.providers)."""
    from examday.providers import register_all

    register_all()


def _pg_base() -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@pytest.fixture(scope="session")
def pg_schema_url():
    """One schema for this test run, made from the models, dropped at the end."""
    if not PG_URL:
        yield None
        return
    schema = f"examday_t{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_base(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in _pg_base() else "?"
    url = f"{_pg_base()}{sep}options=-csearch_path%3D{schema}"
    eng = make_engine(url)
    metadata.create_all(eng)
    install_db_extras(eng)
    eng.dispose()
    yield url
    with admin.connect() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def install_db_extras(engine) -> None:
    """Triggers and other DDL that create_all does not emit (kept with the migrations)."""
    from examday.models import install_extras

    install_extras(engine)


def empty_database(backend: str, folder: Path, pg_schema_url: str | None) -> str:
    """The URL of an empty database: a new SQLite file in ``folder``, or this run's PostgreSQL
    schema with every table emptied (the journeys keep one for a whole module)."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'examday.db'}"
        eng = make_engine(url)
        metadata.create_all(eng)
        install_db_extras(eng)
        eng.dispose()
        return url
    eng = make_engine(pg_schema_url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with eng.begin() as c:
        c.execute(text("SET session_replication_role = replica"))  # let TRUNCATE pass lock triggers
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        c.execute(text("SET session_replication_role = DEFAULT"))
    eng.dispose()
    return pg_schema_url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, pg_schema_url):
    yield empty_database(request.param, tmp_path, pg_schema_url)


@pytest.fixture
def clock():
    # A Thursday morning in China: most tests stand on an ordinary working day.
    return FixedClock(datetime(2026, 11, 26, 8, 0, tzinfo=CST))


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    s = Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        hook_secret="test-hook-secret",
        secret_key="test-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    )
    return s.resolved()


@pytest.fixture
def app(settings, clock):
    from examday.app import create_app

    return create_app(settings, clock)


@pytest.fixture
def engine(app):
    return app.state.engine


@pytest.fixture
def db(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(app, engine, clock):
    from tests.support import World

    return World(app, engine, clock)
