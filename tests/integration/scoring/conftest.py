from __future__ import annotations

import pytest

from tests.integration.scoring.scoring_world import build
from tests.integration.scoring.test_exports import AFTER_END


@pytest.fixture
def sw(client, world, engine, clock):
    return build(client, world, engine, clock)


@pytest.fixture
def approved(sw, clock):
    """A batch published, locked after its publicity and approved by the centre (R-CERT-1)."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()
    return sw
