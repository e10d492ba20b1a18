"""Tickets for people (issue #16): the ticket names the room as well as its code and prints the
entry window of the filed plan (R-TIME-1: the institution's timing profile, not a constant), the
photo when one exists; the office prints every ticket in the background with the count shown and a
link once done, readable only by the account that started it (R-PRIV-1)."""

from __future__ import annotations

import json
import time

from sqlmodel import Session

from examday.plans import ticket_render
from examday.plans.models import Batch
from tests.integration.examday.test_seating_api import make_world
from tests.integration.examday.test_tickets_api import views  # noqa: F401 - the fixture
from tests.support import bearer


def texts(view: ticket_render.TicketView) -> str:
    return " ".join(
        op.text for op in ticket_render.ticket_ops(view) if hasattr(op, "text") and isinstance(op.text, str)
    )


def test_the_ticket_names_the_room_and_the_plans_entry_window(world, client, views):  # noqa: F811
    w = make_world(world, n=4)
    assert client.post(f"/api/v1/batches/{w['bid']}/seating", headers=w["admin"]).status_code == 200
    cid = w["cands"][0].id
    assert client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=w["admin"]).status_code == 200
    view = views[-1]
    words = texts(view)
    assert view.room_name and view.room_name in words and view.room_code in words
    # The plan's own window (R-TIME-1): this world's batch keeps the national 30 minutes.
    assert "开考30分钟后不得入场" in words and "开考前30分钟起入场" in words
    with Session(world.engine) as db:  # a plan filed with another window prints that one
        batch = db.get(Batch, w["bid"])
        config = json.loads(batch.config)
        config["entry_close_minutes"] = 20
        batch.config = json.dumps(config)
        db.add(batch)
        db.commit()
    client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=w["admin"])
    assert "开考20分钟后不得入场" in texts(views[-1])
    assert "地址" not in texts(views[-1])  # no address entered: no address line
    # The installation administrator enters the exam site's address; the ticket prints it.
    root = bearer(world.token("root", "admin"))
    r = client.post(
        f"/admin/institutions/{w['iid']}/address",
        data={"address": "长春市朝阳区 示范路 1 号"},
        headers=root,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "长春市朝阳区 示范路 1 号" in client.get("/admin/institutions", headers=root).text
    client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=w["admin"])
    assert "地址 长春市朝阳区 示范路 1 号" in texts(views[-1])


def test_every_ticket_is_printed_in_the_background_with_a_link_when_done(world, client):
    w = make_world(world, n=12)
    bid = w["bid"]
    assert client.post(f"/api/v1/batches/{bid}/seating", headers=w["admin"]).status_code == 200
    r = client.post(f"/office/batches/{bid}/tickets/print", headers=w["admin"], follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"]
    assert job.startswith(f"/office/batches/{bid}/tickets/print/")
    page = client.get(job, headers=w["admin"]).text
    deadline = time.monotonic() + 60
    while 'id="pdf-link"' not in page:
        assert "/ 12 张" in page and 'http-equiv="refresh"' in page  # the count, and the page refreshes
        assert time.monotonic() < deadline
        time.sleep(0.2)
        page = client.get(job, headers=w["admin"]).text
    assert "12 张准考证已生成" in page and 'http-equiv="refresh"' not in page
    pdf = client.get(f"{job}/tickets.pdf", headers=w["admin"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "private, no-store"
    # Another account of the same office does not read this job (R-PRIV-1).
    other = bearer(world.token("office-b", "admin", w["iid"]))
    assert client.get(job, headers=other).status_code == 404
    assert client.get(f"{job}/tickets.pdf", headers=other).status_code == 404
