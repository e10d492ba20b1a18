"""Seats over HTTP on SQLite and PostgreSQL: capacity (R-DAY-2), per-room limit, kept-free
seats and workstations by lot (R-SEAT-1), the seed, a room dropped on the day, the page."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.identity import make_id_number
from examday.plans.models import Batch, Candidate, Seat, SeatingRun
from examday.plans.seating_models import RoomDrop, SeatChange
from examday.registry.models import Room, Staff
from tests import builders
from tests.support import DEMO_USCC, OTHER_USCC, assert_refusal, bearer

EXAM = date(2026, 12, 14)  # a Monday well after the clock's day


def make_world(
    world,
    n: int = 40,
    theory: int = 2,
    exam_day: date = EXAM,
    uscc: str = DEMO_USCC,
    limit: int | None = None,
    employers: int = 5,
) -> dict:
    with Session(world.engine, expire_on_commit=False) as db:
        now = world.clock.now()
        inst = builders.institution(db, now, uscc=uscc)
        rooms = builders.rooms(db, inst, theory=theory)
        people = builders.staff(db, inst, n_proctors=2 * theory)
        batch = builders.batch(db, inst, exam_day, rooms[:theory], people["proctor"], skill_room=rooms[-1], now=now)
        if limit is not None:
            batch.config = json.dumps({"max_per_theory_room": limit})
            db.add(batch)
        cands = builders.candidates(db, batch, n, employers=employers, now=now)
        db.commit()
        admin = world.token(f"office{inst.id}", "admin", inst.id)
        return {"iid": inst.id, "bid": batch.id, "rooms": rooms, "cands": cands, "admin": bearer(admin)}


def snapshot(engine) -> tuple:
    """Everything a seating write may touch."""
    with Session(engine) as db:
        seats = sorted((s.candidate_id, s.part, s.room_id, s.seat_no) for s in db.exec(select(Seat)).all())
        runs = db.exec(select(func.count()).select_from(SeatingRun)).one()
        drops = db.exec(select(func.count()).select_from(RoomDrop)).one()
        changes = db.exec(select(func.count()).select_from(SeatChange)).one()
        audit = db.exec(select(func.count()).select_from(AuditEntry)).one()
        return seats, runs, drops, changes, audit


def seat_map(client, w, part: str = "theory") -> dict[int, tuple[str, int]]:
    r = client.get(f"/api/v1/batches/{w['bid']}/seating?part={part}", headers=w["admin"])
    assert r.status_code == 200, r.text
    return {row["candidate_id"]: (row["room_code"], row["seat"]) for row in r.json()}


def neighbours(rows: int, cols: int, seats: int, seat: int) -> set[int]:
    r, c = divmod(seat - 1, cols)
    out = set()
    for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        if 0 <= r + dr < rows and 0 <= c + dc < cols and (r + dr) * cols + c + dc + 1 <= seats:
            out.add((r + dr) * cols + c + dc + 1)
    return out


def same_org_pairs(engine, seats: dict[int, tuple[str, int]]) -> int:
    """Counted here from the candidates' rows, independently of the allocator."""
    with Session(engine) as db:
        cands = {c.id: c for c in db.exec(select(Candidate)).all()}
        rooms = {r.code: r for r in db.exec(select(Room)).all()}
    at = {place: cid for cid, place in seats.items()}
    pairs = 0
    for (code, seat), cid in at.items():
        room = rooms[code]
        for other in neighbours(room.rows, room.cols, room.seats, seat):
            mate = at.get((code, other))
            if mate is not None and other > seat:
                a, b = cands[cid], cands[mate]
                if {a.employer, a.training_org} & {b.employer, b.training_org}:
                    pairs += 1
    return pairs


def test_capacity_and_the_per_room_limit_are_never_exceeded(world, client):  # R-DAY-2, R-SEAT-1
    w = make_world(world, n=50, limit=26)
    r = client.post(
        f"/api/v1/batches/{w['bid']}/seating", json={"seed": 9, "blocked": {"T01": [1, 2, 3, 4, 5]}}, headers=w["admin"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    seats = seat_map(client, w)
    assert len(seats) == 50 and len(set(seats.values())) == 50  # one candidate per desk
    per_room = Counter(code for code, _ in seats.values())
    assert per_room["T01"] <= 25 and per_room["T02"] <= 26 and sum(per_room.values()) == 50
    assert all(1 <= no <= 30 for _, no in seats.values())
    assert not {no for code, no in seats.values() if code == "T01"} & {1, 2, 3, 4, 5}  # kept free
    assert {x["room_code"]: x["filled"] for x in body["rooms"]} == dict(per_room)
    assert body["limit"] == 26 and body["blocked"] == {"T01": [1, 2, 3, 4, 5], "T02": []}
    assert body["tickets_issued"] == 50
    # Two more candidates than the 25 + 26 places: refused, and nothing changes.
    with Session(world.engine) as db:
        for i in range(2):
            db.add(
                Candidate(
                    batch_id=w["bid"],
                    name="王五",
                    id_number=make_id_number(date(1980, 5, 5), seq=i + 1),
                    ticket_number=f"X{i}",
                    created_at=world.clock.now(),
                )
            )
        db.commit()
    before = snapshot(world.engine)
    r = client.post(
        f"/api/v1/batches/{w['bid']}/seating", json={"seed": 9, "blocked": {"T01": [1, 2, 3, 4, 5]}}, headers=w["admin"]
    )
    refusal = assert_refusal(r, 422, "not_enough_seats", "R-DAY-2")
    assert refusal["detail"] == {"needed": 52, "available": 51}
    assert snapshot(world.engine) == before


def test_the_same_seed_gives_the_same_seats_and_the_run_is_recorded(world, client):  # R-SEAT-1
    w = make_world(world, n=45)
    first = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 77}, headers=w["admin"]).json()
    seats = seat_map(client, w)
    again = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 77}, headers=w["admin"]).json()
    assert seat_map(client, w) == seats and again["seats"] == first["seats"]
    assert again["tickets_issued"] == 0  # tickets stand: the token binds no seat
    other = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 78}, headers=w["admin"]).json()
    assert seat_map(client, w) != seats and other["seed"] == 78
    # No seed given: one is drawn and recorded, and it re-derives the same seats.
    drawn = client.post(f"/api/v1/batches/{w['bid']}/seating", headers=w["admin"]).json()
    chosen = seat_map(client, w)
    check = client.get(f"/api/v1/batches/{w['bid']}/seating/check", headers=w["admin"]).json()
    assert check == {"run_id": drawn["run_id"], "seed": drawn["seed"], "matches": True}
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": drawn["seed"]}, headers=w["admin"])
    assert seat_map(client, w) == chosen
    with Session(world.engine) as db:
        runs = db.exec(select(SeatingRun).where(SeatingRun.batch_id == w["bid"]).order_by(SeatingRun.id)).all()
        entries = db.exec(
            select(AuditEntry).where(AuditEntry.action == "seating.allocate").order_by(AuditEntry.seq)
        ).all()
    assert [r.seed for r in runs] == [77, 77, 78, drawn["seed"], drawn["seed"]]
    assert len(entries) == 5 and json.loads(entries[0].diff)["seed"] == 77
    assert json.loads(entries[1].diff)["seats_sha256"] == json.loads(entries[0].diff)["seats_sha256"]


def test_same_organisation_candidates_are_not_neighbours_when_the_rooms_allow(world, client):  # R-SEAT-1
    w = make_world(world, n=30, employers=2)  # 15 a room: a checkerboard keeps everyone apart
    body = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 3}, headers=w["admin"]).json()
    assert body["adjacent_pairs"] == 0 == same_org_pairs(world.engine, seat_map(client, w))
    # Crowded: pairs can remain, and the reported number is the true one.
    crowded = make_world(world, n=56, employers=2, uscc=OTHER_USCC)
    body = client.post(f"/api/v1/batches/{crowded['bid']}/seating", json={"seed": 3}, headers=crowded["admin"]).json()
    assert body["adjacent_pairs"] == same_org_pairs(world.engine, seat_map(client, crowded)) > 0


def test_bad_kept_free_seats_and_seeds_are_refused_and_change_nothing(world, client):  # R-SEAT-1
    w = make_world(world, n=10)
    before = snapshot(world.engine)
    r = client.post(
        f"/api/v1/batches/{w['bid']}/seating", json={"blocked": {"T09": [1], "T01": [0, 31]}}, headers=w["admin"]
    )
    errors = assert_refusal(r, 422, "invalid_blocked", "R-SEAT-1")["detail"]["errors"]
    assert {(e["room_code"], e["reason"]) for e in errors} == {
        ("T09", "not_a_theory_room_of_this_batch"),
        ("T01", "no_such_seat"),
    }
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 2**40}, headers=w["admin"]),
        422,
        "invalid_seed",
    )
    assert snapshot(world.engine) == before


def test_a_dropped_room_moves_everyone_out_and_records_each_move(world, client, app):  # R-DAY-2, R-SEAT-1
    w = make_world(world, n=40, theory=3)
    heard: list[tuple[str, str]] = []
    app.state.events.subscribe(lambda bid, msg: heard.append((msg["event"], msg["room_code"])))
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 5}, headers=w["admin"])
    before = seat_map(client, w)
    leaving = {cid for cid, (code, _) in before.items() if code == "T02"}
    assert leaving
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/rooms/T02/drop", json={"reason": " "}, headers=w["admin"]),
        422,
        "reason_required",
    )
    r = client.post(
        f"/api/v1/batches/{w['bid']}/rooms/T02/drop", json={"reason": "投影仪故障，停电", "seed": 4}, headers=w["admin"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    after = seat_map(client, w)
    assert body["moved"] == len(leaving) and {m["candidate_id"] for m in body["moves"]} == leaving
    assert set(after) == set(before) and len(set(after.values())) == len(after)
    assert all(code != "T02" for code, _ in after.values())
    assert all(after[c] == before[c] for c in set(before) - leaving)  # nobody else moves
    # R-DAY-3: the live feed hears of every room whose seats changed.
    into = {m["to"]["room_code"] for m in body["moves"]}
    assert heard[-1 - len(into) :] == [("room_dropped", "T02")] + [("seats_changed", c) for c in sorted(into)]
    with Session(world.engine) as db:
        changes = db.exec(select(SeatChange).where(SeatChange.batch_id == w["bid"])).all()
        rooms = {r.id: r.code for r in db.exec(select(Room)).all()}
        drop = db.exec(select(RoomDrop)).one()
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "seating.room_drop")).one()
    assert {
        c.candidate_id: ((rooms[c.from_room_id], c.from_seat), (rooms[c.to_room_id], c.to_seat)) for c in changes
    } == {c: (before[c], after[c]) for c in leaving}
    assert all(c.drop_id == drop.id and c.reason == "投影仪故障，停电" for c in changes)
    assert drop.seed == 4 and drop.moved == len(leaving)
    assert len(json.loads(entry.diff)["moves"]) == len(leaving)
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/rooms/T02/drop", json={"reason": "again"}, headers=w["admin"]),
        409,
        "room_already_dropped",
    )
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/rooms/T99/drop", json={"reason": "x"}, headers=w["admin"]),
        404,
        "not_found",
    )
    # The allocation still re-derives from its seed, and a new run leaves the dropped room out.
    assert client.get(f"/api/v1/batches/{w['bid']}/seating/check", headers=w["admin"]).json()["matches"] is True
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 5}, headers=w["admin"])
    assert {code for code, _ in seat_map(client, w).values()} == {"T01", "T03"}


def test_a_drop_that_would_overfill_the_other_rooms_is_refused(world, client):  # R-DAY-2
    w = make_world(world, n=40)
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/rooms/T01/drop", json={"reason": "x"}, headers=w["admin"]),
        409,
        "not_seated",
    )
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"])
    before = snapshot(world.engine)
    r = client.post(f"/api/v1/batches/{w['bid']}/rooms/T01/drop", json={"reason": "漏水"}, headers=w["admin"])
    assert assert_refusal(r, 422, "not_enough_seats", "R-DAY-2")["detail"] == {"needed": 20, "available": 10}
    assert snapshot(world.engine) == before


def test_skill_stations_are_drawn_by_lot_and_recorded(world, client):  # R-SEAT-1
    w = make_world(world, n=8)
    r = client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 12}, headers=w["admin"])
    assert r.status_code == 200, r.text
    stations = seat_map(client, w, "skill")
    assert set(stations) == {c.id for c in w["cands"]}
    assert {code for code, _ in stations.values()} == {"S01"}
    assert len({no for _, no in stations.values()}) == 8 and all(1 <= no <= 10 for _, no in stations.values())
    client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 12}, headers=w["admin"])
    assert seat_map(client, w, "skill") == stations
    with Session(world.engine) as db:
        runs = db.exec(select(SeatingRun).where(SeatingRun.part == "skill")).all()
        assert [x.seed for x in runs] == [12, 12]
        assert (
            db.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "seating.stations")).one()
            == 2
        )
    assert seat_map(client, w) == {}  # the theory seats are a separate allocation
    crowded = make_world(world, n=11, uscc=OTHER_USCC)
    before = snapshot(world.engine)
    r = client.post(f"/api/v1/batches/{crowded['bid']}/stations", json={}, headers=crowded["admin"])
    assert assert_refusal(r, 422, "not_enough_stations", "R-SEAT-1")["detail"] == {"needed": 11, "available": 10}
    assert snapshot(world.engine) == before


def test_seats_are_fixed_once_the_part_starts_or_the_batch_moves_on(world, client, clock):  # R-SEAT-1
    today = clock.now().astimezone(CST).date()
    w = make_world(world, n=10, exam_day=today)  # theory at 09:00, skill at 14:00; the clock says 08:00
    assert client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"]).status_code == 200
    clock.advance(minutes=60)
    before = snapshot(world.engine)
    r = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 2}, headers=w["admin"])
    assert assert_refusal(r, 409, "exam_started", "R-SEAT-1")["detail"]["starts_at"] == "2026-11-26T09:00:00+08:00"
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/rooms/T01/drop", json={"reason": "x"}, headers=w["admin"]),
        409,
        "exam_started",
    )
    assert snapshot(world.engine) == before
    assert (
        client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 1}, headers=w["admin"]).status_code == 200
    )  # skill starts at 14:00
    with Session(world.engine) as db:
        batch = db.get(Batch, w["bid"])
        batch.status = "publicity"
        db.add(batch)
        db.commit()
    before = snapshot(world.engine)
    assert_refusal(
        client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 1}, headers=w["admin"]), 409, "seating_closed"
    )
    assert snapshot(world.engine) == before


def test_only_the_institutions_exam_office_seats_candidates(world, client):
    w = make_world(world, n=10)
    other = make_world(world, n=2, uscc=OTHER_USCC)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"])
    people = [
        bearer(world.token(name, role, w["iid"]))
        for name, role in (("p1", "proctor"), ("s1", "supervisor"), ("k1", "kiosk"))
    ] + [other["admin"]]
    before = snapshot(world.engine)
    for h in people:
        for path, body in (("seating", {"seed": 2}), ("rooms/T01/drop", {"reason": "x"}), ("stations", {})):
            assert_refusal(client.post(f"/api/v1/batches/{w['bid']}/{path}", json=body, headers=h), 403, "forbidden")
    assert snapshot(world.engine) == before
    assert_refusal(client.get(f"/api/v1/batches/{w['bid']}/seating", headers=other["admin"]), 403, "forbidden")
    assert client.get(f"/api/v1/batches/{w['bid']}/seating", headers=people[1]).status_code == 200


def test_room_papers_for_the_room_staff(world, client):  # R-SEAT-1, R-DAY-3
    w = make_world(world, n=12)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1, "blocked": {"T01": [2]}}, headers=w["admin"])
    client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 1}, headers=w["admin"])
    with Session(world.engine) as db:  # builders.batch assigns the first two proctors to T01
        first = db.exec(
            select(Staff.id).where(Staff.institution_id == w["iid"], Staff.roles == "proctor,staff")
        ).first()
    supervisor = bearer(world.token("s1", "supervisor", w["iid"]))
    proctor = bearer(world.token("p1", "proctor", w["iid"], staff_id=first))
    for room in ("T01", "T02", "S01"):
        for paper in ("chart", "door-list", "signin-sheet"):
            for who in (supervisor, proctor) if room == "T01" else (supervisor,):
                r = client.get(f"/api/v1/batches/{w['bid']}/rooms/{room}/{paper}.png", headers=who)
                assert r.status_code == 200 and r.headers["content-type"] == "image/png"
                assert r.content.startswith(b"\x89PNG")
            if room != "T01":  # issue #14 finding 9: a proctor reads their own rooms' papers only
                r = client.get(f"/api/v1/batches/{w['bid']}/rooms/{room}/{paper}.png", headers=proctor)
                assert_refusal(r, 403, "forbidden")
    assert_refusal(client.get(f"/api/v1/batches/{w['bid']}/rooms/T09/chart.png", headers=proctor), 404, "not_found")
    with Session(world.engine) as db:  # an evaluator acts as one of the institution's examiners (R-SCORE-1)
        examiner = db.exec(select(Staff.id).where(Staff.institution_id == w["iid"], Staff.roles == "examiner")).first()
    evaluator = bearer(world.token("e1", "evaluator", w["iid"], staff_id=examiner))
    assert_refusal(client.get(f"/api/v1/batches/{w['bid']}/rooms/T01/chart.png", headers=evaluator), 403, "forbidden")


def test_the_office_page_shows_each_room_filled(world, client):
    w = make_world(world, n=24)
    page = client.get(f"/office/batches/{w['bid']}", headers=w["admin"])
    assert f'href="/office/batches/{w["bid"]}/seating"' in page.text
    r = client.post(
        f"/office/batches/{w['bid']}/seating/run",
        data={"seed": "31", "blocked": "T01:1,2"},
        headers=w["admin"],
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), r.text
    page = client.get(f"/office/batches/{w['bid']}/seating", headers=w["admin"])
    assert page.status_code == 200
    assert "12 / 28" in page.text and "12 / 30" in page.text  # filled / places per room
    assert f"/api/v1/batches/{w['bid']}/rooms/T01/chart.png" in page.text
    assert f"/office/batches/{w['bid']}/tickets/print" in page.text and "<code>31</code>" in page.text
    assert "matches</small>" in page.text  # re-derived from the recorded seed
    bad = client.post(
        f"/office/batches/{w['bid']}/seating/run", data={"seed": "", "blocked": "T01 1"}, headers=w["admin"]
    )
    assert bad.status_code == 422 and "停用座位格式" in bad.text
    with Session(world.engine) as db:
        assert db.exec(select(func.count()).select_from(SeatingRun)).one() == 1
