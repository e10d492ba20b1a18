"""Fault: the database unreachable for 30 s in the middle of check-in (PostgreSQL behind a proxy).

The proxy resets the server's open connections and leaves new ones unanswered, as a dead link
would. The server must answer quickly and cleanly, 503 ``service_unavailable`` (zh + en), never a
500 or a hang; the kiosk takes that as its cue to decide offline (R-DAY-1, cached roster) and
uploads its queue once the database is back.

What was lost: nothing. The request refused with 503 stored nothing and goes through when sent
again with the same nonce; every candidate let in offline has exactly one attendance after the
sync; no kiosk record is left over.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy.engine import make_url

from examday.app import create_app
from examday.settings import Settings
from kiosk import offline
from kiosk.program import Kiosk
from tests.conftest import PG_URL
from tests.e2e.live import live
from tests.faults.support import (
    CuttableProxy,
    attendance_by_candidate,
    checkins,
    conflicts,
    kiosk_tokens,
    lost_and_doubled,
)
from tests.integration.kiosk.support import checkin_world
from tests.support import assert_refusal, bearer

OUTAGE = 30.0  # seconds, as the issue says
BEFORE, DURING, AFTER = 3, 4, 2  # candidates checked in before, during and after the outage


@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="EXAMDAY_TEST_POSTGRES_URL not set: the outage is cut in front of PostgreSQL")
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_database_down_30s_kiosks_go_offline_and_sync(db_url, db, clock, tmp_path):
    w = checkin_world(db, clock.now(), "faults-secret", n=BEFORE + DURING + AFTER + 1)
    token = kiosk_tokens(db, w.institution_id, 1, clock.now())[0]
    clock.advance(minutes=40)  # 08:40: entry is open (R-TIME-1)
    url = make_url(db_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(
        database_url=proxied,
        data_dir=tmp_path / "data",
        hook_secret="h",
        secret_key="faults-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
    app = create_app(settings, clock)
    people = [(w.qr(i), w.candidates[i].id_number) for i in range(len(w.candidates))]
    probe_person, people = people[-1], people[:-1]
    try:
        with live(app) as base:
            kiosk = Kiosk(base, token, offline.Store(tmp_path / "kiosk"), [w.batch_id])
            statuses: list[int] = []
            kiosk.http.event_hooks = {"response": [lambda r: statuses.append(r.status_code)]}
            kiosk.prepare()
            kinds = [kiosk.check_in(t, i, None).kind for t, i in people[:BEFORE]]
            assert kiosk.online and not kiosk.store.pending()

            proxy.cut()
            cut_at = time.monotonic()
            nonce = uuid.uuid4().hex
            probe = {"ticket": probe_person[0], "id_number": probe_person[1], "kiosk_nonce": nonce}
            t0 = time.monotonic()
            r = httpx.post(base + "/api/v1/checkins", json=probe, headers=bearer(token), timeout=30)
            answered_in = time.monotonic() - t0
            body = assert_refusal(r, 503, "service_unavailable")
            assert "数据库" in body["message"] and "database" in body["message_en"]
            assert answered_in < 8, f"a clean answer, not a hang: {answered_in:.1f} s"
            for t, i in people[BEFORE : BEFORE + DURING]:
                kinds.append(kiosk.check_in(t, i, None).kind)  # offline, from the cached roster
            assert not kiosk.online and len(kiosk.store.pending()) == DURING

            time.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
            proxy.restore()
            for t, i in people[BEFORE + DURING :]:
                kinds.append(kiosk.check_in(t, i, None).kind)  # online again: the queue goes up with it
            again = httpx.post(base + "/api/v1/checkins", json=probe, headers=bearer(token), timeout=30)
            assert again.status_code == 200 and again.json()["status"] == "accepted", again.text
            kiosk.sync()
    finally:
        proxy.close()
        app.state.engine.dispose()

    assert kinds == ["accepted"] * len(people)
    assert kiosk.online and kiosk.store.pending() == []
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    db.expire_all()
    present = attendance_by_candidate(db, w.batch_id)
    rows = checkins(db)
    assert lost_and_doubled(present, (c.id for c in w.candidates)) == (set(), set())
    assert len(rows) == len(w.candidates)  # the 503'd probe stored nothing the first time
    assert sum(r.offline for r in rows) == DURING
    assert all(r.status == "accepted" for r in rows) and conflicts(db) == []
    db.commit()


def test_a_database_that_cannot_be_opened_is_a_clean_503(tmp_path, clock):
    """The same answer on SQLite, whose file cannot be opened (its folder is gone): 503, not 500."""
    from litestar.testing import TestClient

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gone' / 'examday.db'}",
        data_dir=tmp_path / "data",
        hook_secret="h",
        secret_key="s",
    ).resolved()
    with TestClient(create_app(settings, clock)) as client:
        r = client.post(
            "/api/v1/checkins",
            json={"ticket": "EX1.x", "id_number": "x", "kiosk_nonce": "n"},
            headers=bearer("some-kiosk-token"),
        )
    assert_refusal(r, 503, "service_unavailable")
    assert r.headers["retry-after"] == "5"
