"""Offline kiosks: the roster, the offline decision, and POST /api/v1/checkins/sync with the
original scan times; a candidate let in at two offline kiosks is counted once and flagged
(R-DAY-1, R-TIME-1, R-PRIV-1)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from examday.clock import iso
from examday.registry.models import Staff
from kiosk import offline
from kiosk.models import Attendance, CheckIn, OfflineConflict
from tests.integration.kiosk.support import body, checkin_world
from tests.support import bearer


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key, n=6)


@pytest.fixture
def kiosks(world, w):
    return [bearer(world.token(f"kiosk{k}", "kiosk", w.institution_id)) for k in (1, 2)]


@pytest.fixture
def events(app):
    got: list[tuple[int, dict]] = []
    app.state.events.subscribe(lambda bid, msg: got.append((bid, msg)))
    return got


def record(w, i, scanned_at, **over):
    return {**body(w, i), "scanned_at": iso(scanned_at), **over}


def sync(client, headers, records):
    r = client.post("/api/v1/checkins/sync", json=records, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_two_offline_kiosks_one_candidate_accepted_once_and_flagged(client, db, clock, w, kiosks, events):
    t0 = clock.now() + timedelta(minutes=35)  # 08:35, both kiosks offline
    clock.advance(minutes=50)  # the network is back at 08:50
    a = sync(client, kiosks[0], [record(w, 0, t0), record(w, 1, t0 + timedelta(minutes=1))])
    assert [x["status"] for x in a] == ["accepted", "accepted"]
    b = sync(client, kiosks[1], [record(w, 0, t0 + timedelta(minutes=2))])
    assert len(b) == 1 and b[0]["status"] == "refused" and b[0]["code"] == "already_checked_in"
    assert b[0]["http_status"] == 409 and b[0]["detail"]["offline_conflict"] is True
    assert b[0]["detail"]["kiosk"] == "kiosk1"
    cand = w.candidates[0].id
    att = db.exec(select(Attendance).where(Attendance.candidate_id == cand)).all()
    assert len(att) == 1 and att[0].at == t0  # the time the candidate came in, not the upload time
    flag = db.exec(select(OfflineConflict)).one()
    other = db.get(CheckIn, flag.other_checkin_id)
    db.commit()
    assert (flag.candidate_id, flag.reason, flag.kept_checkin_id) == (cand, "double_checkin", att[0].checkin_id)
    assert other.offline and other.scanned_at == t0 + timedelta(minutes=2) and other.at == clock.now()
    conflict_events = [m for _, m in events if m["event"] == "offline_conflict"]
    assert conflict_events == [{**conflict_events[0], "candidate_id": cand, "room_code": "T01"}]


def test_offline_record_is_judged_at_its_scan_time(client, db, clock, w, kiosks):
    clock.advance(hours=3)  # 11:00: long after entry closed at 09:30
    res = sync(
        client,
        kiosks[0],
        [
            record(w, 0, clock.now().replace(hour=1, minute=20)),  # 09:20 CST
            record(w, 1, clock.now().replace(hour=1, minute=45)),
        ],
    )  # 09:45 CST
    assert res[0]["status"] == "accepted" and res[0]["late"] is True  # R-TIME-1 at the scan time
    assert res[1]["code"] == "too_late" and res[1]["rule"] == "R-TIME-1"
    # The kiosk let the second one in offline; the server refuses: the proctors hear of it.
    assert res[1]["detail"]["offline_conflict"] is True
    flag = db.exec(select(OfflineConflict)).one()
    db.commit()
    assert (flag.reason, flag.code, flag.kept_checkin_id) == ("server_refused", "too_late", None)


def test_scan_time_in_the_servers_future_is_refused(client, db, clock, w, kiosks):
    # 08:20 on the server; the kiosk's clock runs 40 minutes fast and says 09:00 (R-TIME-1).
    clock.advance(minutes=20)
    res = sync(client, kiosks[0], [record(w, 0, clock.now() + timedelta(minutes=40))])
    assert res[0]["code"] == "scanned_in_future" and res[0]["detail"]["clamped"] is True
    row = db.exec(select(CheckIn)).one()
    db.commit()
    assert row.scanned_at == clock.now() + timedelta(minutes=40)  # recorded as the kiosk said
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 0
    db.commit()


def test_a_record_the_kiosk_refused_offline_lets_nobody_in(client, db, clock, w, kiosks):
    clock.advance(minutes=40)
    res = sync(client, kiosks[0], [record(w, 0, clock.now(), offline_status="refused")])
    assert res[0]["status"] == "refused" and res[0]["code"] == "not_admitted_offline"
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 0
    assert db.exec(select(func.count()).select_from(OfflineConflict)).one() == 0
    db.commit()


def test_sync_again_replays_and_stores_nothing(client, db, clock, w, kiosks):
    clock.advance(minutes=40)
    records = [record(w, i, clock.now() - timedelta(minutes=5 - i)) for i in range(3)]
    first = sync(client, kiosks[0], records)
    n = db.exec(select(func.count()).select_from(CheckIn)).one()
    db.commit()
    again = sync(client, kiosks[0], list(reversed(records)))
    assert [x["kiosk_nonce"] for x in again] == [r["kiosk_nonce"] for r in reversed(records)]  # order sent
    assert [{**x, "replay": None} for x in again] == [{**x, "replay": None} for x in reversed(first)]
    assert all(x["replay"] for x in again)
    assert db.exec(select(func.count()).select_from(CheckIn)).one() == n
    db.commit()


def test_roster_has_digests_not_numbers(client, db, clock, w, kiosks, world):
    r = client.get(f"/api/v1/batches/{w.batch_id}/roster", headers=kiosks[0])
    assert r.status_code == 200
    roster = r.json()
    for c in w.candidates:
        assert c.id_number not in r.text and c.name not in r.text  # R-PRIV-1
    assert {c["ticket_number"] for c in roster["candidates"]} == {c.ticket_number for c in w.candidates}
    assert roster["sessions"][0]["entry_opens_at"] == "2026-11-26T08:30:00+08:00"
    assert roster["keys"]["keys"] and all(base64.b64decode(c["id_salt"]) for c in roster["candidates"])
    other = world.token("other-kiosk", "kiosk", world.institution(uscc="91440101MA5CJQ4N59", name="另一机构"))
    assert client.get(f"/api/v1/batches/{w.batch_id}/roster", headers=bearer(other)).status_code == 403


def test_offline_kiosk_decides_like_the_server_and_syncs(client, db, clock, w, kiosks, tmp_path):
    client.headers.update(kiosks[0])
    store = offline.Store(tmp_path / "kiosk")
    store.save_roster(client.get(f"/api/v1/batches/{w.batch_id}/roster").json())
    rosters = store.rosters()
    clock.advance(minutes=40)
    now, inst = clock.now(), w.institution_id
    ok_status, ok, _ = offline.decide(rosters, w.qr(0), w.candidates[0].id_number, now, inst, "kiosk1", {})
    assert ok_status == 200 and (ok["room_code"], ok["seat"]) == ("T01", 1)
    assert (
        offline.decide(rosters, w.qr(1), w.candidates[2].id_number, now, inst, "kiosk1", {})[1]["code"] == "id_mismatch"
    )
    assert (
        offline.decide(rosters, w.qr(1), w.candidates[1].id_number, now - timedelta(minutes=20), inst, "kiosk1", {})[1][
            "code"
        ]
        == "not_open_yet"
    )
    assert (
        offline.decide(rosters, w.qr(1) + "x", w.candidates[1].id_number, now, inst, "kiosk1", {})[1]["code"]
        == "invalid_ticket"
    )
    assert (
        offline.decide(rosters, w.qr(1), w.candidates[1].id_number, now, inst + 1, "kiosk1", {})[1]["code"]
        == "wrong_institution"
    )
    # The same candidate again at this kiosk while still offline.
    local = {(rosters[w.batch_id]["sessions"][0]["id"], w.candidates[0].id): now}
    assert offline.decide(rosters, w.qr(0), w.candidates[0].id_number, now, inst, "kiosk1", local)[0] == 409
    # Queue, reconnect, sync: the queue empties and the server keeps the acceptance.
    for i in (0, 1):
        store.enqueue({**body(w, i), "scanned_at": iso(now), "offline_status": "accepted"})
    assert offline.local_acceptances(store) == {}  # no session/candidate ids kept: nothing local to add
    results = offline.sync(client, store)
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert store.pending() == []
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 2
    db.commit()


def test_attempts_and_conflicts_for_proctors(client, db, clock, world, w, kiosks):
    clock.advance(minutes=40)
    client.post("/api/v1/checkins", json=body(w, 0), headers=kiosks[0])
    client.post("/api/v1/checkins", json=body(w, 1, id_number=w.candidates[0].id_number), headers=kiosks[0])
    # builders.batch puts the first two proctors in T01, the next two in T02; candidates sit round-robin.
    t01, _, t02, _ = db.exec(
        select(Staff.id).where(Staff.institution_id == w.institution_id, Staff.roles == "proctor,staff")
    ).all()
    db.commit()  # SQLite transactions are BEGIN IMMEDIATE: never hold one while the server works
    supervisor = bearer(world.token("supervisor1", "supervisor", w.institution_id))
    rows = client.get(f"/api/v1/batches/{w.batch_id}/checkins", headers=supervisor).json()
    assert [(r["status"], r["code"], r["kiosk"], r["room_code"]) for r in rows] == [
        ("accepted", None, "kiosk1", "T01"),
        ("refused", "id_mismatch", "kiosk1", "T02"),
    ]
    assert all(w.candidates[0].id_number not in str(r) for r in rows)
    # Issue #14 finding 9 (R-DAY-3): each room's proctor reads that room's attempts only.
    proctor = bearer(world.token("proctor1", "proctor", w.institution_id, staff_id=t01))
    mine = client.get(f"/api/v1/batches/{w.batch_id}/checkins", headers=proctor).json()
    assert [(r["status"], r["room_code"]) for r in mine] == [("accepted", "T01")]
    other = bearer(world.token("proctor3", "proctor", w.institution_id, staff_id=t02))
    refused_only = client.get(f"/api/v1/batches/{w.batch_id}/checkins?status=refused", headers=other).json()
    assert [r["code"] for r in refused_only] == ["id_mismatch"]
    assert client.get(f"/api/v1/batches/{w.batch_id}/checkins?status=refused", headers=proctor).json() == []
    assert client.get(f"/api/v1/batches/{w.batch_id}/checkins", headers=kiosks[0]).status_code == 403
    assert client.get(f"/api/v1/batches/{w.batch_id}/offline-conflicts", headers=proctor).json() == []
