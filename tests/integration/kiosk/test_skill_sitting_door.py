"""Skill sittings at the door (issue #15, R-SEAT-1, R-DAY-1): on SQLite and PostgreSQL.

Reproduces three findings left after the sittings were drawn: the kiosk's answer for a skill
sitting named the candidate's THEORY room as ``room_name``; the offline roster carried no
sitting or workstation (nor the skill sessions), so an offline kiosk could not judge a skill
sitting as the server does; and the sync measured a skill record's lateness against the
theory session. Now the answer names the skill room, the sitting and the workstation (工位),
online and offline alike, and both decide with the one rule (``kiosk.rules.decide``:
``wrong_sitting``, R-SEAT-1).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import func, select

from examday.clock import iso
from kiosk import offline, rules, screen
from kiosk.client import Kiosk
from kiosk.models import Attendance, CheckIn, OfflineConflict
from kiosk.services import facts as F
from tests.integration.kiosk.skill_world import SkillWorld, at, skill_world
from tests.support import bearer


@pytest.fixture
def sw(db, clock, settings) -> SkillWorld:
    return skill_world(db, clock.now(), settings.secret_key)


@pytest.fixture
def kiosk(world, sw):
    return bearer(world.token("kiosk1", "kiosk", sw.institution_id))


def scan(client, sw, kiosk, c):
    body = {"ticket": sw.tickets[c.id], "id_number": c.id_number, "kiosk_nonce": uuid.uuid4().hex}
    return client.post("/api/v1/checkins", json=body, headers=kiosk)


def test_the_answer_names_the_skill_room_sitting_and_workstation_r_seat_1(client, clock, sw, kiosk):
    first = sw.of_sitting(0)[0]
    clock.at = at(10, 45)  # the first sitting's entry is open
    r = scan(client, sw, kiosk, first)
    assert r.status_code == 200, r.text
    answer = r.json()
    s01 = sw.rooms["S01"]
    sitting, station = sw.station[first.id]
    assert (answer["room_code"], answer["room_name"], answer["seat"]) == ("S01", s01.name, station)
    assert answer["room_name"] != sw.rooms[sw.theory_room[first.id]].name
    assert answer["station"] == station
    assert answer["sitting"] == {
        "id": sitting,
        "no": 1,
        "of": 3,
        "starts_at": "2026-11-26T11:00:00+08:00",
        "ends_at": "2026-11-26T13:00:00+08:00",
    }
    assert answer["session"]["id"] == sitting and answer["session"]["part"] == "skill"
    # The contract's fields stay as they were.
    assert {"status", "candidate", "room_code", "seat", "session"} <= set(answer)


def test_a_theory_answer_is_as_before(client, clock, sw, kiosk):
    c = sw.candidates[0]
    clock.at = at(8, 45)
    answer = scan(client, sw, kiosk, c).json()
    assert answer["status"] == "accepted" and answer["session"]["part"] == "theory"
    assert (answer["room_code"], answer["room_name"]) == (sw.theory_room[c.id], sw.rooms[sw.theory_room[c.id]].name)
    assert answer["sitting"] is None and answer["station"] is None


def rosters(client, sw, kiosk, store_dir):
    r = client.get(f"/api/v1/batches/{sw.batch_id}/roster", headers=kiosk)
    assert r.status_code == 200, r.text
    store = offline.Store(store_dir)
    store.save_roster(r.json())
    return r.json(), store.rosters()


def test_the_roster_carries_each_candidates_sitting_and_workstation_r_seat_1(client, sw, kiosk, tmp_path):
    roster, _ = rosters(client, sw, kiosk, tmp_path / "kiosk")
    listed = [(s["id"], s["part"], s["entry_opens_at"]) for s in roster["sessions"]]
    assert listed == [
        (sw.theory_id, "theory", "2026-11-26T08:30:00+08:00"),
        (sw.sittings[0], "skill", "2026-11-26T10:30:00+08:00"),
        (sw.sittings[1], "skill", "2026-11-26T13:30:00+08:00"),
        (sw.sittings[2], "skill", "2026-11-26T16:00:00+08:00"),
    ]
    rows = {row["id"]: row for row in roster["candidates"]}
    for c in sw.candidates:
        sitting, station = sw.station[c.id]
        row = rows[c.id]
        assert (row["sitting"], row["station_room_code"], row["station"]) == (sitting, "S01", station)
        assert row["station_room_name"] == sw.rooms["S01"].name
        assert row["room_name"] == sw.rooms[sw.theory_room[c.id]].name


def test_an_offline_kiosk_refuses_another_sittings_candidate_r_seat_1(client, clock, sw, kiosk, tmp_path):
    _, cached = rosters(client, sw, kiosk, tmp_path / "kiosk")
    first, second = sw.of_sitting(0)[0], sw.of_sitting(1)[0]
    now = at(10, 45)  # the first sitting's entry

    def decide(c):
        return offline.decide(cached, sw.tickets[c.id], c.id_number, now, sw.institution_id, "kiosk1", {})

    status, body, d = decide(second)
    assert (status, body["code"], body["rule"]) == (422, "wrong_sitting", "R-SEAT-1")
    assert body["detail"]["session_id"] == sw.sittings[1] and "14:00" in body["message"]
    status, body, d = decide(first)
    assert status == 200, body
    sitting, station = sw.station[first.id]
    assert body["session"]["id"] == sitting and d.session is not None and d.session.session_id == sitting
    assert (body["room_code"], body["room_name"], body["seat"], body["station"]) == (
        "S01",
        sw.rooms["S01"].name,
        station,
        station,
    )
    assert body["sitting"]["id"] == sitting and body["sitting"]["no"] == 1


def test_offline_and_online_decide_alike_at_every_sitting_r_seat_1(client, db, clock, settings, sw, kiosk, tmp_path):
    """The one rule (kiosk.rules.decide) over the roster's facts and over the server's."""
    _, cached = rosters(client, sw, kiosk, tmp_path / "kiosk")
    seen = set()
    for hh, mm in ((8, 45), (10, 45), (13, 45), (16, 15), (17, 30)):
        now = at(hh, mm)
        for c in sw.candidates:
            _, _, d = offline.decide(cached, sw.tickets[c.id], c.id_number, now, sw.institution_id, "kiosk1", {})
            facts = F.load(db, sw.batch_id, c.ticket_number, settings.secret_key)
            presented = rules.Presented.from_claims(
                rules.check_ticket(sw.tickets[c.id], *offline._keys(cached))  # type: ignore[arg-type]
            )
            server = rules.decide(
                presented,
                facts.batch,
                facts.sessions,
                facts.candidate,
                c.id_number,
                facts.salt,
                now,
                sw.institution_id,
                facts.prior,
            )
            db.rollback()
            mine = (d.accepted, d.code, d.session.session_id if d.session else None)
            theirs = (server.accepted, server.code, server.session.session_id if server.session else None)
            assert mine == theirs, (hh, mm, c.id)
            if d.accepted:
                assert d.candidate is not None and server.candidate is not None
                assert (d.candidate.room_code, d.candidate.seat_no) == (
                    server.candidate.room_code,
                    server.candidate.seat_no,
                )
            seen.add(d.code)
    assert {None, "wrong_sitting", "too_late"} <= seen


def test_a_sync_admits_nobody_to_another_sitting_r_seat_1(client, db, clock, sw, kiosk):
    """A kiosk with an old roster let a second-sitting candidate into the first sitting: refused, flagged."""
    second = sw.of_sitting(1)[0]
    clock.at = at(10, 50)
    record = {
        "ticket": sw.tickets[second.id],
        "id_number": second.id_number,
        "kiosk_nonce": uuid.uuid4().hex,
        "scanned_at": iso(at(10, 45)),
        "offline_status": "accepted",
    }
    r = client.post("/api/v1/checkins/sync", json=[record], headers=kiosk)
    assert r.status_code == 200, r.text
    got = r.json()[0]
    assert (got["status"], got["code"], got["rule"]) == ("refused", "wrong_sitting", "R-SEAT-1")
    assert got["detail"]["offline_conflict"] is True
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 0
    flag = db.exec(select(OfflineConflict)).one()
    assert (flag.candidate_id, flag.code) == (second.id, "wrong_sitting")
    db.commit()


def test_a_late_sittings_record_is_measured_against_its_own_sitting_r_day_1(client, db, clock, settings, sw, kiosk):
    """The grace runs from the end of the candidate's own sitting, not from the theory session's."""
    settings.offline_sync_grace_minutes = 30
    second = sw.of_sitting(1)[0]
    clock.at = at(14, 40)  # theory ended at 10:30; the second sitting ends at 16:00
    record = {
        "ticket": sw.tickets[second.id],
        "id_number": second.id_number,
        "kiosk_nonce": uuid.uuid4().hex,
        "scanned_at": iso(at(13, 45)),
        "offline_status": "accepted",
    }
    r = client.post("/api/v1/checkins/sync", json=[record], headers=kiosk)
    got = r.json()[0]
    assert got["status"] == "accepted", got
    assert (got["session"]["id"], got["room_code"], got["station"]) == (sw.sittings[1], "S01", sw.station[second.id][1])
    row = db.exec(select(CheckIn)).one()
    assert (row.session_id, row.room_id, row.seat_no) == (sw.sittings[1], sw.rooms["S01"].id, sw.station[second.id][1])
    db.commit()
    # And still not one minute past its own grace.
    clock.at = at(16, 31)
    third = sw.of_sitting(1)[1]
    late = {**record, "ticket": sw.tickets[third.id], "id_number": third.id_number, "kiosk_nonce": uuid.uuid4().hex}
    got = client.post("/api/v1/checkins/sync", json=[late], headers=kiosk).json()[0]
    assert (got["code"], got["rule"]) == ("offline_sync_too_late", "R-DAY-1")


def test_the_kiosk_program_offline_sends_each_to_their_own_sitting_r_seat_1(world, client, db, clock, sw, tmp_path):
    """kiosk.program's Kiosk, cut off from the server: the cached roster decides as the server
    would (wrong_sitting, or the workstation drawn), and the sync makes only the right one present."""
    token = world.token("kiosk1", "kiosk", sw.institution_id)
    kiosk = Kiosk("http://testserver.local", token, offline.Store(tmp_path / "kiosk"), start=at(10, 45))
    kiosk.http.close()
    client.headers["Authorization"] = f"Bearer {token}"
    clock.at = at(10, 45)  # the first sitting's entry
    kiosk.http = client  # the real server, in process: the roster
    kiosk.prepare()
    kiosk.http = httpx.Client(base_url="http://127.0.0.1:9", timeout=httpx.Timeout(1.0, connect=0.5))  # gone
    first, second = sw.of_sitting(0)[0], sw.of_sitting(1)[0]
    turned_away = kiosk.check_in(sw.tickets[second.id], second.id_number, None)
    assert (turned_away.kind, turned_away.code) == ("warn", "wrong_sitting")
    assert f"{sw.station[second.id][1]} 号工位" in screen.describe(turned_away)
    let_in = kiosk.check_in(sw.tickets[first.id], first.id_number, None)
    text = screen.describe(let_in)
    assert let_in.kind == "accepted" and "第1场（共3场）" in text and f"{sw.station[first.id][1]} 号工位" in text
    assert not kiosk.online and len(kiosk.store.pending()) == 2
    kiosk.http.close()
    kiosk.http = client  # back
    kiosk.sync()
    assert not kiosk.store.pending()
    present = db.exec(select(Attendance.candidate_id, Attendance.session_id, Attendance.room_id)).all()
    db.commit()
    assert present == [(first.id, sw.sittings[0], sw.rooms["S01"].id)]
