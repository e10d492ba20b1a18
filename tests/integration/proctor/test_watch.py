"""``proctor watch`` against a real server: prints the room's live state as it changes,
only the room asked for, and stops on a refusal (R-DAY-3)."""

from __future__ import annotations

import io
import threading
import time
import uuid

import httpx

from proctor.watch import watch
from tests.integration.proctor.support import room_world, served


def test_watch_prints_the_room_as_it_changes(app, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)
    out = io.StringIO()
    with served(app) as url:
        result = {}
        t = threading.Thread(
            target=lambda: result.setdefault(
                "rc", watch(url, rw.tokens["p1"], rw.batch_id, "T01", out=out, max_events=2)
            )
        )
        t.start()
        deadline = time.monotonic() + 20
        while "snapshot" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.05)
        for c in (rw.in_room("T02")[0], rw.in_room("T01")[0], rw.in_room("T01")[1]):
            resp = httpx.post(
                f"{url}/api/v1/checkins",
                headers=rw.h("kiosk"),
                json={
                    "ticket_number": c.ticket_number,
                    "batch_id": rw.batch_id,
                    "id_number": c.id_number,
                    "kiosk_nonce": uuid.uuid4().hex,
                },
                timeout=10,
            )
            assert resp.status_code == 200, resp.text
        t.join(timeout=30)
        assert result.get("rc") == 0, out.getvalue()
    text = out.getvalue()
    assert "T02" not in text  # p1 proctors T01 only
    blocks = text.split("[")
    assert "实到 present 0" in blocks[1]
    assert "checkin T01" in text and text.rstrip().count("实到 present 2") == 1
    assert "P P · · · ·" in text  # seats 1 and 2 present on the map's first row


def test_watch_stops_on_a_refusal(app, db, world, clock, capsys):
    rw = room_world(db, world, clock.now())
    with served(app) as url:
        assert watch(url, rw.tokens["evaluator"], rw.batch_id, out=io.StringIO()) == 2
        assert watch(url, "not-a-token", rw.batch_id, out=io.StringIO()) == 2
    assert "无权" in capsys.readouterr().err
