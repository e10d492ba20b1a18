from __future__ import annotations

import pytest

from tests.integration.scoring.scoring_world import build


@pytest.fixture
def sw(client, world, engine, clock):
    return build(client, world, engine, clock)
