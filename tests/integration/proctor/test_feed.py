"""The live feed WS /ws/batches/{bid} (R-DAY-3): snapshot first, then one event per change
with a sequence number that rises by one, also under concurrent check-ins; proctors see
only their own rooms; a lost event leads to a fresh snapshot, never to a silent gap."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from tests.integration.proctor.support import check_in, room_world
from tests.support import bearer


def recv(ws, timeout: float = 30) -> dict:
    """The next message; a missing one fails the test instead of hanging it."""
    return ws.receive_json(timeout=timeout)


def feed(client, rw, who: str, query: str = ""):
    return client.websocket_connect(f"/ws/batches/{rw.batch_id}{query}", headers=rw.h(who))


def test_snapshot_then_events_carry_absolute_room_state(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40, entry open
    first, second = rw.in_room("T01")[:2]
    check_in(client, rw, first)
    with feed(client, rw, "admin") as ws:
        snap = recv(ws)
        assert snap["type"] == "snapshot"
        assert [r["room_code"] for r in snap["rooms"]] == ["T01", "T02"]
        t01 = snap["rooms"][0]
        assert set(t01) >= {"room_code", "expected", "present", "absent", "late", "incidents", "cameras"}
        assert (t01["expected"], t01["present"]) == (len(rw.in_room("T01")), 1)
        s = snap["seq"]

        check_in(client, rw, second)
        ev = recv(ws)
        assert (ev["type"], ev["seq"], ev["event"], ev["room_code"]) == ("event", s + 1, "checkin", "T01")
        assert ev["room"]["present"] == 2 and ev["room"]["expected"] == t01["expected"]
        assert ev["seat_state"]["candidate_id"] == second.id and ev["seat_state"]["status"] == "present"
        assert ev["seat_state"]["seat"] == rw.seat_of[second.id][1]
        assert ev["seat_state"]["name"] != second.name  # R-PRIV-1: masked on the live view


def test_no_gaps_under_concurrent_check_ins_and_publishes(client, db, world, clock, app):
    rw = room_world(db, world, clock.now(), n=40)
    clock.advance(minutes=45)
    bus = app.state.events
    with feed(client, rw, "admin") as ws:
        s = recv(ws)["seq"]

        def publish_many(k: int) -> None:
            for i in range(15):
                bus.publish(rw.batch_id, "note", "T01" if (k + i) % 2 else "T02", session_id=rw.session_id, k=k, i=i)

        with ThreadPoolExecutor(max_workers=12) as pool:
            futures = [pool.submit(check_in, client, rw, c) for c in rw.candidates]
            futures += [pool.submit(publish_many, k) for k in range(8)]
            for f in futures:
                f.result()
        total = len(rw.candidates) + 8 * 15
        seqs, checkins = [], set()
        for _ in range(total):
            ev = recv(ws)
            seqs.append(ev["seq"])
            if ev["event"] == "checkin":
                checkins.add(ev["candidate_id"])
        assert seqs == list(range(s + 1, s + total + 1))  # rises by one: no gap, no repeat, in order
        assert checkins == {c.id for c in rw.candidates}
        # The last event of each room carries the final state (absolute, not a delta).
        ws.send_json({"type": "snapshot"})
        snap = recv(ws)
        assert snap["seq"] == s + total
        assert sum(r["present"] for r in snap["rooms"]) == 40


def test_proctor_sees_only_their_room_with_their_own_gapless_numbers(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)
    t01, t02 = rw.in_room("T01"), rw.in_room("T02")
    with feed(client, rw, "p1") as ws, feed(client, rw, "admin") as admin:
        snap = recv(ws)
        assert [r["room_code"] for r in snap["rooms"]] == ["T01"]
        s, _ = snap["seq"], recv(admin)["seq"]  # the admin's snapshot is read too
        check_in(client, rw, t02[0])
        check_in(client, rw, t01[0])
        check_in(client, rw, t02[1])
        check_in(client, rw, t01[1])
        got = [recv(ws) for _ in range(2)]
        assert [(e["seq"], e["room_code"], e["candidate_id"]) for e in got] == [
            (s + 1, "T01", t01[0].id),
            (s + 2, "T01", t01[1].id),
        ]
        assert [recv(admin)["room_code"] for _ in range(4)] == ["T02", "T01", "T02", "T01"]
        ws.send_json({"type": "ping"})
        assert recv(ws) == {"type": "pong", "seq": s + 2}  # nothing of T02 came through


def test_a_lost_event_brings_a_fresh_snapshot(client, db, world, clock, app, monkeypatch):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)
    bus = app.state.events
    c1, c2 = rw.in_room("T01")[:2]
    with feed(client, rw, "admin") as ws:
        s = recv(ws)["seq"]
        deliver = bus._deliver
        monkeypatch.setattr(bus, "_deliver", lambda payload, channel: None)  # lost in transport
        check_in(client, rw, c1)
        monkeypatch.setattr(bus, "_deliver", deliver)
        check_in(client, rw, c2)
        msg = recv(ws)
        assert msg["type"] == "snapshot" and msg["seq"] >= s + 2
        assert msg["rooms"][0]["present"] == 2  # both check-ins, the lost one too


def test_client_asks_for_a_snapshot_and_reconnects(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)
    with feed(client, rw, "p1") as ws:
        s = recv(ws)["seq"]
        check_in(client, rw, rw.in_room("T01")[0])
        assert recv(ws)["seq"] == s + 1
    check_in(client, rw, rw.in_room("T01")[1])  # while nobody listens
    with feed(client, rw, "p1") as ws:
        snap = recv(ws)
        assert snap["type"] == "snapshot" and snap["seq"] == s + 2
        assert snap["rooms"][0]["present"] == 2
        ws.send_json({"type": "snapshot", "session_id": rw.skill_session_id})
        other = recv(ws)
        assert other["session"]["id"] == rw.skill_session_id and other["rooms"] == []  # p1 proctors no skill room


@pytest.mark.parametrize("who, code", [(None, 4401), ("evaluator", 4403), ("kiosk", 4403)])
def test_who_may_not_connect(client, db, world, clock, who, code):
    rw = room_world(db, world, clock.now())
    headers = rw.h(who) if who else {}
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=headers) as ws:
        msg = recv(ws)
        assert msg["type"] == "error" and msg["code"] == ("unauthenticated" if who is None else "forbidden")
        with pytest.raises(WebSocketDisconnect) as closed:
            recv(ws)
        assert closed.value.code == code


def test_an_expired_token_is_told_so_at_connect_R_STAFF_4(client, db, world, clock):
    """The tablet must say "sign in again", not "not allowed": the feed answers token_expired."""
    rw = room_world(db, world, clock.now())
    clock.advance(days=401)  # past the test tokens' lifetime (tests/support.py)
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=rw.h("p1")) as ws:
        msg = recv(ws)
        assert (msg["type"], msg["code"], msg["rule"]) == ("error", "token_expired", "R-STAFF-4")
        with pytest.raises(WebSocketDisconnect) as closed:
            recv(ws)
        assert closed.value.code == 4401


def test_unknown_session_is_refused(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    with feed(client, rw, "admin", "?session_id=999") as ws:
        assert recv(ws)["code"] == "not_found"
        with pytest.raises(WebSocketDisconnect) as closed:
            recv(ws)
        assert closed.value.code == 4404


def test_other_institution_and_other_province_may_not_connect(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    other_iid = world.institution(uscc="91440101MA5CJQ4N59", name="另一机构", province="广东")
    stranger = world.token("p-other", "proctor", other_iid)  # borrowing rw's staff is refused when made
    for token in (stranger, rw.tokens["centre_other"]):
        with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=bearer(token)) as ws:
            assert recv(ws)["code"] == "forbidden"
    with feed(client, rw, "centre") as ws:
        assert len(recv(ws)["rooms"]) == 2
    with feed(client, rw, "supervisor") as ws:
        assert len(recv(ws)["rooms"]) == 2


def test_the_page_session_cookie_connects(app, db, world, clock):
    rw = room_world(db, world, clock.now())
    from sqlmodel import Session, select

    from examday.accounts.models import Account

    with Session(world.engine) as s:  # proctors[2] acts under one account only (R-STAFF-4): give it a password
        acc = s.exec(select(Account).where(Account.staff_id == rw.proctors[2].id)).one()
        acc.password_hash = app.state.passwords.hash("s3cret-pass")
        s.add(acc)
        s.commit()
        username = acc.username
    with TestClient(app) as c:
        resp = c.post(
            "/login",
            data={"username": username, "password": "s3cret-pass", "next": "/proctor"},
            follow_redirects=False,
        )
        assert resp.status_code in (302, 303)
        with c.websocket_connect(f"/ws/batches/{rw.batch_id}") as ws:
            assert [r["room_code"] for r in recv(ws)["rooms"]] == ["T02"]


def test_events_are_published_after_commit_from_worker_threads(client, db, world, clock, app):
    """A publish from a plain thread (no event loop) reaches the socket: the bus hands it to the loop."""
    rw = room_world(db, world, clock.now())
    with feed(client, rw, "admin") as ws:
        s = recv(ws)["seq"]
        t = threading.Thread(
            target=app.state.events.publish, args=(rw.batch_id, "note", "T02"), kwargs={"session_id": rw.session_id}
        )
        t.start()
        t.join()
        ev = recv(ws)
        assert (ev["seq"], ev["event"], ev["room"]["room_code"]) == (s + 1, "note", "T02")
