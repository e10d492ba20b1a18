"""Fixtures for whole journeys against a live server."""

from __future__ import annotations

import pytest

from tests.e2e.live import live


@pytest.fixture
def live_server(app):
    """Base URL of uvicorn serving the test's app (same database, same clock)."""
    with live(app) as url:
        yield url
