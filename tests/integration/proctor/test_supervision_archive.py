"""The supervision report filed goes to the batch's archive (issue #15, R-ARCH-1, R-SUP-1):
its form was stored as a permanent file, but no list of the batch named it."""

from __future__ import annotations

from datetime import datetime

from examday.clock import CST
from tests.integration.proctor.support import room_world
from tests.integration.proctor.test_supervision import REPORT


def test_the_filed_supervision_report_is_in_the_batch_archive_R_ARCH_1(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    db.commit()
    clock.at = datetime(2026, 11, 26, 17, 0, tzinfo=CST)  # after the skill session
    resp = client.post(f"/api/v1/batches/{rw.batch_id}/supervision/report", headers=rw.h("supervisor"), json=REPORT)
    assert resp.status_code == 201, resp.text
    for who in ("admin", "centre", "supervisor"):
        got = client.get(f"/api/v1/batches/{rw.batch_id}/archive", headers=rw.h(who))
        assert got.status_code == 200, got.text
        forms = [d for d in got.json()["documents"] if d["kind"] == "supervision_form"]
        assert [(d["retention_class"], d["kept_until"], d["made_by"]) for d in forms] == [
            ("key_documents", None, "supervisor")
        ]
    png = client.get(forms[0]["download"], headers=rw.h("admin"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
