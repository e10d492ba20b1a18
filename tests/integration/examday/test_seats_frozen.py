"""Seats freeze when tickets go out (issue #15, R-SEAT-1): on SQLite and PostgreSQL.

Reproduces the finding "the whole batch is re-seated on exam day with one click: after tickets,
door lists and sign-in sheets were printed and while check-in was open, every candidate moved,
with no confirmation and no trace on the page of what changed".
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.clock import CST
from examday.plans.models import Candidate, Ticket
from examday.plans.seating_models import SeatChange
from tests.integration.examday.test_seating_api import make_world, seat_map, snapshot
from tests.support import assert_refusal

EXAM = date(2026, 12, 14)


def pages_of(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def printed_since(engine, when: datetime) -> set[int]:
    """Candidates whose ticket was drawn for printing at or after ``when``."""
    with Session(engine) as db:
        return set(db.exec(select(Ticket.candidate_id).where(Ticket.printed_at >= when)).all())


def ticket_of(w, cid: int) -> str:
    return next(c.ticket_number for c in w["cands"] if c.id == cid)


def test_re_allocation_is_refused_once_tickets_are_out_r_seat_1(world, client, clock):
    w = make_world(world, n=10)
    url = f"/api/v1/batches/{w['bid']}/seating"
    assert client.post(url, json={"seed": 1}, headers=w["admin"]).status_code == 200
    # Before anything is printed the office may still re-run the allocation.
    assert client.post(url, json={"seed": 2}, headers=w["admin"]).status_code == 200
    pdf = client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf", headers=w["admin"])
    assert pdf.status_code == 200 and pages_of(pdf.content) == 3  # four tickets a page
    # Exam day, check-in open (08:40 for a 09:00 start): one click would move everyone.
    clock.at = datetime.combine(EXAM, time(8, 40), CST)
    before, seats = snapshot(world.engine), seat_map(client, w)
    got = assert_refusal(client.post(url, json={"seed": 3}, headers=w["admin"]), 409, "tickets_out", "R-SEAT-1")
    assert got["detail"]["printed"] == 10
    assert snapshot(world.engine) == before and seat_map(client, w) == seats
    # Workstations are drawn by lot and not drawn again either.
    r = client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 3}, headers=w["admin"])
    assert r.status_code == 200  # not drawn yet: tickets printed without a station get one
    r = client.post(f"/api/v1/batches/{w['bid']}/stations", json={"seed": 4}, headers=w["admin"])
    assert_refusal(r, 409, "tickets_out", "R-SEAT-1")


def test_a_broken_desk_moves_one_candidate_recorded_and_only_that_ticket_reprints_r_seat_1(world, client, clock):
    w = make_world(world, n=20)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 5}, headers=w["admin"])
    client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf", headers=w["admin"])
    clock.at = datetime.combine(EXAM, time(8, 40), CST)
    seats = seat_map(client, w)
    cid, (room, seat) = sorted(seats.items())[0]
    taken = set(seats.values())
    free = next(n for n in range(1, 31) if ("T02", n) not in taken)
    number = ticket_of(w, cid)
    url = f"/api/v1/batches/{w['bid']}/seating/moves"
    body = {"ticket_number": number, "room_code": "T02", "seat": free, "reason": "课桌损坏 broken desk"}
    # A taken seat, a seat that does not exist, a missing reason: refused, nothing changes.
    before = snapshot(world.engine)
    other = next(p for c, p in seats.items() if c != cid)
    r = client.post(url, json={**body, "room_code": other[0], "seat": other[1]}, headers=w["admin"])
    assert assert_refusal(r, 422, "invalid_seat_move", "R-SEAT-1")["detail"]["reason"] == "seat_taken"
    r = client.post(url, json={**body, "seat": 99}, headers=w["admin"])
    assert assert_refusal(r, 422, "invalid_seat_move")["detail"]["reason"] == "no_such_seat"
    assert_refusal(client.post(url, json={**body, "reason": " "}, headers=w["admin"]), 422, "reason_required")
    assert snapshot(world.engine) == before
    r = client.post(url, json=body, headers=w["admin"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["moves"] == [
        {
            "candidate_id": cid,
            "ticket_number": number,
            "from": {"room_code": room, "seat": seat},
            "to": {"room_code": "T02", "seat": free},
        }
    ]
    assert got["reprint"] == {"tickets": [number], "rooms": sorted({room, "T02"})}
    after = seat_map(client, w)
    assert after[cid] == ("T02", free) and {c: p for c, p in after.items() if c != cid} == {
        c: p for c, p in seats.items() if c != cid
    }
    # The allocation still re-derives from its seed once the recorded move is undone.
    assert client.get(f"/api/v1/batches/{w['bid']}/seating/check", headers=w["admin"]).json()["matches"] is True
    with Session(world.engine) as db:
        change = db.exec(select(SeatChange)).one()
        assert (change.candidate_id, change.from_seat, change.to_seat, change.drop_id) == (cid, seat, free, None)
        assert db.exec(select(AuditEntry).where(AuditEntry.action == "seating.move")).one()
    # Only the moved candidate's ticket is due again; after it is printed, nothing is.
    clock.at = datetime.combine(EXAM, time(8, 45), CST)
    pdf = client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf?reprint=true", headers=w["admin"])
    assert pdf.status_code == 200 and pages_of(pdf.content) == 1
    assert printed_since(world.engine, clock.now()) == {cid}
    page = client.get(f"/office/batches/{w['bid']}/seating", headers=w["admin"]).text
    assert f'data-ticket="{number}"' in page and f"{room}-{seat}" in page and f"T02-{free}" in page
    assert "课桌损坏" in page and "已重印" in page


def test_a_room_dropped_after_tickets_are_out_names_what_to_reprint(world, client, clock):
    w = make_world(world, n=20)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 7}, headers=w["admin"])
    client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf", headers=w["admin"])
    clock.at = datetime.combine(EXAM, time(8, 35), CST)
    seats = seat_map(client, w)
    in_t01 = sorted(ticket_of(w, c) for c, (code, _) in seats.items() if code == "T01")
    r = client.post(f"/api/v1/batches/{w['bid']}/rooms/T01/drop", json={"reason": "停电"}, headers=w["admin"])
    assert r.status_code == 200, r.text
    assert r.json()["reprint"] == {"tickets": in_t01, "rooms": ["T01", "T02"]}
    page = client.get(f"/office/batches/{w['bid']}/seating", headers=w["admin"]).text
    assert 'id="reprint"' in page and all(t in page for t in in_t01)
    assert "/tickets.pdf?reprint=true" in page
    clock.at = datetime.combine(EXAM, time(8, 40), CST)
    pdf = client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf?reprint=true", headers=w["admin"])
    assert pdf.status_code == 200
    moved = {c for c, (code, _) in seats.items() if code == "T01"}
    assert printed_since(world.engine, clock.now()) == moved


def test_the_page_asks_before_re_allocating_and_offers_nothing_once_tickets_are_out(world, client):
    w = make_world(world, n=12)
    run = f"/office/batches/{w['bid']}/seating/run"
    r = client.post(run, data={"seed": "3"}, headers=w["admin"], follow_redirects=False)
    assert r.status_code in (302, 303)
    page = client.get(f"/office/batches/{w['bid']}/seating", headers=w["admin"]).text
    assert 'name="confirm"' in page and "重新编排全部座位" in page
    before = snapshot(world.engine)
    r = client.post(run, data={"seed": "4"}, headers=w["admin"])
    assert r.status_code == 422 and "请勾选确认" in r.text
    assert snapshot(world.engine) == before
    r = client.post(run, data={"seed": "4", "confirm": "yes"}, headers=w["admin"], follow_redirects=False)
    assert r.status_code in (302, 303)
    cid = w["cands"][0].id
    assert client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=w["admin"]).status_code == 200
    with Session(world.engine) as db:
        printed = db.exec(
            select(Ticket.printed_at).join(Candidate, Candidate.id == Ticket.candidate_id).where(Candidate.id == cid)
        ).one()
        assert printed is not None
    page = client.get(f"/office/batches/{w['bid']}/seating", headers=w["admin"]).text
    assert 'id="frozen"' in page and 'id="allocate"' not in page and 'action="/office/batches/' in page
    assert f'action="/office/batches/{w["bid"]}/seating/move"' in page
    r = client.post(run, data={"seed": "5", "confirm": "yes"}, headers=w["admin"])
    assert r.status_code == 409 and "准考证已打印发出" in r.text
