"""One access policy (examday/access.py, issue #14): every endpoint that returns a
batch's rooms, check-ins, sign-in sheets, door lists, seat charts, candidates or
photos shows a proctor only their own rooms' rows (finding 9, R-DAY-3, R-STAFF-4);
a centre reads the same through plans, scoring and proctor routes however its
province is spelt."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from examday.identity import make_id_number
from examday.registry.models import Institution, Staff
from tests.integration.proctor.support import check_in, room_world
from tests.support import assert_refusal, bearer


@pytest.fixture
def rw(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40: entry is open
    return rw


def _get(client, rw, who: str, path: str, status: int = 200):
    resp = client.get(f"/api/v1/batches/{rw.batch_id}{path}", headers=rw.h(who))
    assert resp.status_code == status, resp.text
    return resp.json() if resp.headers.get("content-type", "").startswith("application/json") else resp


def test_a_proctor_reads_only_their_rooms_check_ins(client, rw):
    """R-DAY-3 (issue #14 finding 9): a T01 proctor does not read T02's check-ins."""
    a, b = rw.in_room("T01")[0], rw.in_room("T02")[0]
    check_in(client, rw, a)
    check_in(client, rw, b)
    assert {r["room_code"] for r in _get(client, rw, "p1", "/checkins")} == {"T01"}
    assert {r["room_code"] for r in _get(client, rw, "p3", "/checkins")} == {"T02"}
    for who in ("admin", "supervisor"):
        assert {r["room_code"] for r in _get(client, rw, who, "/checkins")} == {"T01", "T02"}
    assert _get(client, rw, "p1", "/offline-conflicts") == []


def test_a_proctor_gets_no_photo_of_another_rooms_check_in(client, rw):
    """R-DAY-3, R-PRIV-1: the check-in's photo and the candidate's photo stay in their room."""
    b = rw.in_room("T02")[0]
    checkin = check_in(client, rw, b)
    ciid = next(r["id"] for r in _get(client, rw, "admin", "/checkins") if r["candidate_id"] == b.id)
    assert checkin["status"] == "accepted"
    refused = client.get(f"/api/v1/checkins/{ciid}/photo", headers=rw.h("p1"))
    assert_refusal(refused, 403, "forbidden")
    # The room's own proctor is let through to the question of whether there is a photo.
    assert_refusal(client.get(f"/api/v1/checkins/{ciid}/photo", headers=rw.h("p3")), 404, "not_found")
    assert_refusal(client.get(f"/api/v1/candidates/{b.id}/photo", headers=rw.h("p1")), 403, "forbidden")
    assert_refusal(client.get(f"/api/v1/candidates/{b.id}/photo", headers=rw.h("p3")), 404, "not_found")


@pytest.mark.parametrize("paper", ["signin-sheet", "door-list", "chart"])
def test_a_proctor_reads_only_their_rooms_papers(client, rw, paper):
    """R-DAY-3 (finding 9): another room's sign-in sheet, door list or seating chart is refused."""
    assert_refusal(
        client.get(f"/api/v1/batches/{rw.batch_id}/rooms/T02/{paper}.png", headers=rw.h("p1")), 403, "forbidden"
    )
    own = client.get(f"/api/v1/batches/{rw.batch_id}/rooms/T01/{paper}.png", headers=rw.h("p1"))
    assert own.status_code == 200 and own.content.startswith(b"\x89PNG")
    assert (
        client.get(f"/api/v1/batches/{rw.batch_id}/rooms/T02/{paper}.png", headers=rw.h("supervisor")).status_code
        == 200
    )


def test_a_proctor_lists_only_their_rooms_seats_and_candidates(client, rw):
    """R-DAY-3, R-PRIV-1 (finding 9): the seat list and the candidate list hold the proctor's rooms only."""
    t01 = {c.id for c in rw.in_room("T01")}
    assert {r["room_code"] for r in _get(client, rw, "p1", "/seating")} == {"T01"}
    rows = _get(client, rw, "p1", "/candidates")
    assert {r["id"] for r in rows} == t01
    assert all("*" in r["id_number"] and "phone" not in r for r in rows)  # R-PRIV-1
    assert len(_get(client, rw, "admin", "/candidates")) == len(rw.candidates)
    assert {r["room_code"] for r in _get(client, rw, "supervisor", "/seating")} == {"T01", "T02"}


def test_a_proctor_reads_only_their_rooms_records_and_live_state(client, rw):
    """R-DAY-3: the live rooms and the exam-room record of another room are not the proctor's."""
    assert [r["room_code"] for r in _get(client, rw, "p1", "/rooms")] == ["T01"]
    record = f"/sessions/{rw.session_id}/rooms/T02/record"
    assert_refusal(client.get(f"/api/v1/batches/{rw.batch_id}{record}", headers=rw.h("p1")), 403, "forbidden")


def test_a_proctor_of_no_room_of_the_batch_reads_none_of_it(client, rw, world, engine):
    """R-STAFF-4: a proctor account of the institution, assigned to no room, is refused the rows."""
    with Session(engine) as s:
        person = Staff(
            institution_id=rw.institution_id,
            name="闲置监考",
            roles="proctor,staff",
            id_number=make_id_number(date(1980, 5, 5), seq=377),
            full_time=True,
        )
        s.add(person)
        s.commit()
        staff_id = person.id
    stray = world.token("stray-proctor", "proctor", rw.institution_id, staff_id=staff_id)
    for path in ("/checkins", "/seating", "/candidates", "/rooms", "/rooms/T01/signin-sheet.png"):
        resp = client.get(f"/api/v1/batches/{rw.batch_id}{path}", headers=bearer(stray))
        assert_refusal(resp, 403, "forbidden")


# -- one province, two spellings --------------------------------------------------------------

ENDPOINTS = [
    "/api/v1/batches",
    "/api/v1/batches/{bid}",
    "/api/v1/batches/{bid}/candidates",
    "/api/v1/batches/{bid}/seating",
    "/api/v1/batches/{bid}/rooms",
    "/api/v1/batches/{bid}/scores",
    "/api/v1/institutions",
    "/api/v1/institutions/{iid}",
]


def _answers(client, rw, token: str) -> list[tuple[int, object]]:
    out = []
    for path in ENDPOINTS:
        resp = client.get(path.format(bid=rw.batch_id, iid=rw.institution_id), headers=bearer(token))
        body = resp.json()
        if isinstance(body, list):
            body = sorted(str(x) for x in body)
        out.append((resp.status_code, body))
    return out


@pytest.mark.parametrize(("account", "institution"), [("吉林省", "吉林"), ("吉林", "吉林省")])
def test_a_centre_reads_the_same_however_the_province_is_spelt(client, rw, world, engine, account, institution):
    """Issue #14: "吉林省" and "吉林" are one province on plans, scoring, proctor and registry routes."""
    with Session(engine) as s:
        inst = s.get(Institution, rw.institution_id)
        assert inst is not None
        inst.province = institution
        s.add(inst)
        s.commit()
    spelt = world.token(f"centre-{len(account)}-{len(institution)}", "centre", None, province=account)
    got = _answers(client, rw, spelt)
    assert all(status == 200 for status, _ in got), got
    assert got == _answers(client, rw, rw.tokens["centre"])
    other = [status for status, _ in _answers(client, rw, rw.tokens["centre_other"])]
    assert other == [200, 403, 403, 403, 403, 403, 200, 403]
