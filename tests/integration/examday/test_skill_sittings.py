"""Skill sittings (技能考核场次), issue #15, R-SEAT-1: on SQLite and PostgreSQL.

Reproduces the finding "draw_batch_stations gives each candidate a workstation across all
sittings and refuses a batch of 90 over 30 stations, though filing accepts three sittings of
30; the ticket lists every sitting without saying which is the candidate's". Stations are drawn
per sitting; each candidate has one sitting and one station; the ticket, the door list and the
check-in answer say which; a sitting's check-in admits only its own candidates.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from examday.actor import SYSTEM
from examday.clock import CST
from examday.identity import make_id_number
from examday.plans import seating_controllers, ticket_render
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SessionRoom
from examday.plans.services import tickets as ticket_service
from examday.plans.tickets import current_ticket, issue_batch_tickets
from examday.registry.models import Room
from tests import builders
from tests.support import assert_refusal, bearer

DAY = date(2026, 11, 26)  # the clock fixture's day: the draw at 08:00, check-ins later that day
SITTINGS = (time(11, 0), time(14, 0), time(16, 30))  # the builder's skill session is the 14:00 one


@pytest.fixture
def sw(world, engine):
    with Session(engine, expire_on_commit=False) as db:
        w = builders.exam_world(db, world.clock.now(), DAY, n_candidates=90)
        skill_room = w["rooms"][2]
        skill_room.seats, skill_room.rows, skill_room.cols = 30, 3, 10
        db.add(skill_room)
        for start in (SITTINGS[0], SITTINGS[2]):
            at = datetime.combine(DAY, start, CST)
            s = ExamSession(batch_id=w["batch"].id, part="skill", starts_at=at, ends_at=at + timedelta(hours=2))
            db.add(s)
            db.flush()
            db.add(SessionRoom(session_id=s.id, room_id=skill_room.id))
        db.commit()
        sessions = db.exec(
            select(ExamSession).where(ExamSession.batch_id == w["batch"].id, ExamSession.part == "skill")
        ).all()
        iid, bid = w["institution"].id, w["batch"].id
    return {
        "iid": iid,
        "bid": bid,
        "cands": w["candidates"],
        "sittings": [s.id for s in sorted(sessions, key=lambda s: s.starts_at)],
        "admin": bearer(world.token("office", "admin", iid)),
    }


def drawn(engine, bid: int) -> dict[int, tuple[int, int, int]]:
    with Session(engine) as db:
        seats = db.exec(select(Seat).where(Seat.batch_id == bid, Seat.part == "skill")).all()
        return {s.candidate_id: (s.sitting, s.room_id, s.seat_no) for s in seats}


def test_ninety_candidates_over_three_sittings_of_thirty_stations_r_seat_1(world, client, engine, sw, clock):
    r = client.post(f"/api/v1/batches/{sw['bid']}/stations", json={"seed": 11}, headers=sw["admin"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(s["session_id"], s["stations"], s["candidates"]) for s in body["sittings"]] == [
        (sid, 30, 30) for sid in sw["sittings"]
    ]
    seats = drawn(engine, sw["bid"])
    assert sorted(seats) == sorted(c.id for c in sw["cands"])  # one sitting and one station each
    for sid in sw["sittings"]:  # every station once per sitting
        assert sorted(no for s, _, no in seats.values() if s == sid) == list(range(1, 31))
    rows = {row["candidate_id"]: (row["session_id"], row["seat"]) for row in body["stations"]}
    assert rows == {cid: (s, no) for cid, (s, _, no) in seats.items()}
    listed = client.get(f"/api/v1/batches/{sw['bid']}/seating?part=skill", headers=sw["admin"]).json()
    assert {row["candidate_id"]: (row["session_id"], row["seat"]) for row in listed} == rows
    # Same seed, same draw (R-SEAT-1: the run keeps its seed).
    client.post(f"/api/v1/batches/{sw['bid']}/stations", json={"seed": 11}, headers=sw["admin"])
    assert drawn(engine, sw["bid"]) == seats
    # One more candidate than the three sittings hold is refused, naming all 90 stations.
    with Session(engine) as db:
        db.add(
            Candidate(
                batch_id=sw["bid"],
                name="新考生",
                id_number=make_id_number(date(1991, 5, 5), seq=7),
                ticket_number="X0091",
                eligibility="eligible",
                created_at=clock.now(),
            )
        )
        db.commit()
    r = client.post(f"/api/v1/batches/{sw['bid']}/stations", json={"seed": 12}, headers=sw["admin"])
    assert assert_refusal(r, 422, "not_enough_stations", "R-SEAT-1")["detail"] == {"needed": 91, "available": 90}


def test_the_ticket_and_the_door_list_name_the_candidates_own_sitting(world, client, engine, sw, monkeypatch):
    client.post(f"/api/v1/batches/{sw['bid']}/stations", json={"seed": 3}, headers=sw["admin"])
    seats = drawn(engine, sw["bid"])
    cid = sw["cands"][0].id
    sitting, _, station = seats[cid]
    seen: list[ticket_render.TicketView] = []
    monkeypatch.setattr(seating_controllers, "render_ticket_png", lambda v: seen.append(v) or b"png")
    assert client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=sw["admin"]).status_code == 200
    view = seen[0]
    skill_lines = [(a, b) for p, a, b in view.sessions if p == "skill"]
    with Session(engine) as db:
        mine = db.get(ExamSession, sitting)
        assert skill_lines == [(mine.starts_at, mine.ends_at)]  # only their sitting, not all three
    assert view.places == {"skill": f"S01 工位 {station}"}
    assert ticket_render.render_ticket_png(view).startswith(b"\x89PNG")
    lists: list[tuple] = []
    monkeypatch.setattr(ticket_service, "render_door_list_png", lambda *a: lists.append(a) or b"png")
    for sid in sw["sittings"]:
        r = client.get(f"/api/v1/batches/{sw['bid']}/rooms/S01/door-list.png?sitting={sid}", headers=sw["admin"])
        assert r.status_code == 200, r.text
    tickets = {c.id: c.ticket_number for c in sw["cands"]}
    for sid, (_, session, entries) in zip(sw["sittings"], lists):
        with Session(engine) as db:
            s = db.get(ExamSession, sid)
            assert session == ("skill", s.starts_at, s.ends_at)
        assert sorted(t for t, _, _ in entries) == sorted(tickets[c] for c, (x, _, _) in seats.items() if x == sid)
    r = client.get(f"/api/v1/batches/{sw['bid']}/rooms/S01/door-list.png?sitting=999999", headers=sw["admin"])
    assert_refusal(r, 404, "not_found")


def test_a_skill_sitting_admits_only_its_own_candidates_r_seat_1(world, client, engine, sw, clock, settings):
    client.post(f"/api/v1/batches/{sw['bid']}/stations", json={"seed": 5}, headers=sw["admin"])
    seats = drawn(engine, sw["bid"])
    with Session(engine) as db:
        issue_batch_tickets(db, SYSTEM, db.get(Batch, sw["bid"]), settings.secret_key, clock.now())
        db.commit()
        qr = {c.id: current_ticket(db, c.id).qr_text for c in sw["cands"]}
        s01 = db.exec(select(Room).where(Room.institution_id == sw["iid"], Room.code == "S01")).one()
    kiosk = bearer(world.token("kiosk1", "kiosk", sw["iid"]))
    second = next(c for c in sw["cands"] if seats[c.id][0] == sw["sittings"][1])
    by_sitting = Counter(s for s, _, _ in seats.values())
    assert set(by_sitting.values()) == {30}

    def scan(c):
        body = {"ticket": qr[c.id], "id_number": c.id_number, "kiosk_nonce": uuid.uuid4().hex}
        return client.post("/api/v1/checkins", json=body, headers=kiosk)

    clock.at = datetime.combine(DAY, time(10, 45), CST)  # sitting 1's entry is open
    got = assert_refusal(scan(second), 422, "wrong_sitting", "R-SEAT-1")
    assert got["detail"]["session_id"] == sw["sittings"][1]
    assert got["detail"]["starts_at"].startswith("2026-11-26T14:00") and "14:00" in got["message"]
    first = next(c for c in sw["cands"] if seats[c.id][0] == sw["sittings"][0])
    r = scan(first)
    assert r.status_code == 200, r.text
    assert r.json()["session"]["id"] == sw["sittings"][0]
    assert (r.json()["room_code"], r.json()["seat"]) == ("S01", seats[first.id][2])
    clock.at = datetime.combine(DAY, time(13, 45), CST)  # their own sitting: admitted, sent to their station
    r = scan(second)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["session"]["id"] == sw["sittings"][1] and answer["session"]["part"] == "skill"
    assert (answer["room_code"], answer["seat"]) == ("S01", seats[second.id][2])
    assert s01.id == seats[second.id][1]
