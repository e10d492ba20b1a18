"""The demo's tickets print the exam site's address (考点地址, issue #16): the demo institution
has one, entered through the same service as the office's page, so a ticket drawn for a demo
candidate carries it."""

from __future__ import annotations

import io

from sqlmodel import Session, col, select

from examday.demo.seed import DEMO_ADDRESS, seed_demo
from examday.plans.models import Candidate
from examday.registry.models import Institution
from tests.integration.examday.test_tickets_api import views  # noqa: F401 - the fixture
from tests.integration.examday.test_tickets_for_people import texts
from tests.support import bearer


def test_the_demos_ticket_prints_the_exam_sites_address(app, engine, settings, clock, world, client, views):  # noqa: F811
    made = seed_demo(engine, settings, clock, io.StringIO())
    assert made is not None
    with Session(engine) as db:
        inst = db.exec(select(Institution)).one()
        assert inst.address == DEMO_ADDRESS
        cid = db.exec(
            select(Candidate.id).where(Candidate.batch_id == made["today"][0]).order_by(col(Candidate.id))
        ).first()
    office = bearer(world.token("office-address", "admin", inst.id))
    r = client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=office)
    assert r.status_code == 200, r.text
    assert f"地址 {DEMO_ADDRESS}" in texts(views[-1])
