"""The two-institution world of tests/security, built once for the package and each backend."""

from __future__ import annotations

from datetime import datetime

import pytest
from litestar.testing import TestClient

from examday.clock import CST, FixedClock
from examday.settings import Settings
from tests.conftest import BACKENDS
from tests.security.world import build


@pytest.fixture(scope="package", params=BACKENDS)
def route_world(request, tmp_path_factory):
    """SQLite, and PostgreSQL when EXAMDAY_TEST_POSTGRES_URL is set (as .ci/run sets it)."""
    from examday.app import create_app
    from tests.conftest import empty_database

    root = tmp_path_factory.mktemp("routes")
    pg = request.getfixturevalue("pg_schema_url") if request.param == "postgres" else None
    settings = Settings(
        database_url=empty_database(request.param, root, pg),
        data_dir=root / "data",
        hook_secret="routes-hook-secret",
        secret_key="routes-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    clock = FixedClock(datetime(2026, 11, 26, 8, 40, tzinfo=CST))  # check-in opened ten minutes ago
    app = create_app(settings, clock)
    with TestClient(app) as client:
        yield app, build(client, app, app.state.engine, clock)


@pytest.fixture(scope="package")
def walk(route_world):
    """The route-by-role walk (tests/security/walk.py), before anything else of the package."""
    from tests.security.walk import run_walk

    app, w = route_world
    return run_walk(app, w)
