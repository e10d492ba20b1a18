"""The proctors' pages (R-DAY-3): the list of batches to watch and the dashboard shell."""

from __future__ import annotations

from tests.integration.proctor.support import room_world


def test_batches_to_watch(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    link = f'href="/proctor/batches/{rw.batch_id}"'
    for who in ("p1", "admin", "supervisor", "centre"):
        page = client.get("/proctor", headers=rw.h(who))
        assert page.status_code == 200 and link in page.text, who
    for who in ("evaluator", "centre_other"):
        assert link not in client.get("/proctor", headers=rw.h(who)).text
    stranger = world.token("p-idle", "proctor", rw.institution_id)  # a proctor bound to nobody has no room
    assert link not in client.get("/proctor", headers={"Authorization": f"Bearer {stranger}"}).text


def test_dashboard_shell(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    page = client.get(f"/proctor/batches/{rw.batch_id}", headers=rw.h("p1"))
    assert page.status_code == 200
    assert f'data-batch="{rw.batch_id}"' in page.text and 'data-proctor="1"' in page.text
    assert 'id="f-incident"' in page.text  # proctors act from the tablet
    sup = client.get(f"/proctor/batches/{rw.batch_id}", headers=rw.h("supervisor"))
    assert sup.status_code == 200 and 'id="f-incident"' not in sup.text  # the supervisor only watches
    assert 'id="f-finding"' in sup.text and 'id="f-finding"' not in page.text  # and notes findings
    refused = client.get(f"/proctor/batches/{rw.batch_id}", headers=rw.h("evaluator"))
    assert refused.status_code == 403 and "无权" in refused.text
    assert client.get(
        f"/proctor/batches/{rw.batch_id}", headers={"Accept": "text/html"}, follow_redirects=False
    ).status_code in (302, 303)
