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
from tests.support import fast_settings

PG_URL = os.environ.get("EXAMDAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


# Session-scoped fixtures built once per run rather than once per xdist worker: the tests that
# read them share one worker (the demo's day walked through every page, tests/browser/demo_walk.py).
ONE_WORKER_SESSION_FIXTURES = {"tests.browser.demo_walk:walk"}


def shared_group(item) -> str | None:
    """The xdist group of a test that uses a package- or module-scoped fixture (or one of
    ONE_WORKER_SESSION_FIXTURES): that fixture's package or module and its parameter, the
    backend, e.g. ``tests/security:postgres``.

    Under ``--dist loadgroup`` a group runs on one worker, contiguously and in collection order.
    Spread over workers, such a fixture would be built again on each of them (the security world
    and its walk, a journey's story) and, between two of its tests, another test on the same
    worker would empty the worker's PostgreSQL schema that the fixture stands on; a journey's
    steps must also follow one another on one live server. One group per backend lets SQLite and
    PostgreSQL run side by side."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    params = item.callspec.params if hasattr(item, "callspec") else {}
    best, node, values = 0, "", []
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name)
        if not defs:
            continue
        fixture = defs[-1]
        if fixture.scope == "session" and f"{fixture.func.__module__}:{name}" in ONE_WORKER_SESSION_FIXTURES:
            rank, here = 3, f"{fixture.func.__module__}:{name}"
        elif fixture.scope == "package":
            rank, here = 2, fixture.baseid
        elif fixture.scope == "module":
            rank, here = 1, item.nodeid.split("::")[0]
        else:
            continue
        if rank > best:
            best, node, values = rank, here, []
        if rank == best and name in params:
            value = params[name]
            values.append("-".join(map(str, value)) if isinstance(value, tuple) else str(value))
    if not best:
        return None
    # No "[", "]" or "@" in a group's name: pytest-xdist finds the group after the id's last "@"
    # only when no "]" follows it.
    name = f"{node}:{'-'.join(sorted(values))}" if values else node
    return name.translate(str.maketrans("[]@", "()_"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test that shares a fixture beyond itself with its group (``shared_group``);
    ``./dev test`` runs the suite with ``--dist loadgroup``."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None and (group := shared_group(item)):
            item.add_marker(pytest.mark.xdist_group(group))
    if config.getoption("loadgroup", False) and hasattr(config, "workerinput"):
        tag_groups(items)


def tag_groups(items) -> None:
    """End a grouped test's id with ``@group`` on an xdist worker, as pytest-xdist does: its
    scheduler reads the group from the id. pytest-xdist 3.8 sets ``item._nodeid``, which pytest
    9.2 no longer reads (pytest-dev/pytest-xdist#1386), and every group would silently scatter
    over the workers; tests/unit/test_xdist_groups.py checks that they do not."""
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # an older pytest: pytest-xdist's own tagging works there
        return
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")
        }
        if names and item.nodeid.rfind("@") <= item.nodeid.rfind("]"):
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(sorted(names))}")


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
    return fast_settings(db_url, tmp_path / "data")


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
