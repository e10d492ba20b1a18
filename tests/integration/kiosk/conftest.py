"""Kiosk integration fixtures: a live server for tests whose clients must run truly in parallel."""

from __future__ import annotations

import pytest

from tests.e2e.live import live


@pytest.fixture
def live_server(app):
    with live(app) as url:
        yield url
