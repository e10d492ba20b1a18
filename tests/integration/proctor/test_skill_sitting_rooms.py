"""A skill room's views are per sitting (issue #15, R-SEAT-1, R-DAY-3): on SQLite and PostgreSQL.

Reproduces the finding that the proctor's views of a skill room listed every sitting's
candidates: the live room state (GET /rooms, the feed), the entry-cutoff notice and the
exam-room record (考场记录表) of the 11:00 sitting expected all nine candidates of the three
sittings, so the six of the later sittings were counted absent in the first sitting's record.
Now a skill session's room lists only the candidates drawn for that sitting.
"""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from proctor.feed import emit_cutoffs
from proctor.models import CutoffNotice
from tests.integration.kiosk.skill_world import SkillWorld, at, skill_world
from tests.support import assert_refusal, bearer


@pytest.fixture
def sw(db, clock, settings) -> SkillWorld:
    return skill_world(db, clock.now(), settings.secret_key)


@pytest.fixture
def heads(world, sw):
    return {
        "admin": bearer(world.token("office", "admin", sw.institution_id)),
        "kiosk": bearer(world.token("kiosk1", "kiosk", sw.institution_id)),
        "proctor": bearer(world.token("proctor-s01", "proctor", sw.institution_id, staff_id=sw.proctors[0].id)),
    }


def scan(client, sw, heads, c):
    body = {"ticket": sw.tickets[c.id], "id_number": c.id_number, "kiosk_nonce": uuid.uuid4().hex}
    r = client.post("/api/v1/checkins", json=body, headers=heads["kiosk"])
    assert r.status_code == 200, r.text


def s01(client, sw, heads, k, who="admin"):
    rooms = client.get(f"/api/v1/batches/{sw.batch_id}/rooms?session_id={sw.sittings[k]}", headers=heads[who])
    assert rooms.status_code == 200, rooms.text
    return next(r for r in rooms.json() if r["room_code"] == "S01")


def test_the_live_room_lists_only_its_sittings_candidates_r_seat_1(client, clock, sw, heads):
    first = sw.of_sitting(0)
    clock.at = at(10, 45)
    scan(client, sw, heads, first[0])
    scan(client, sw, heads, first[1])
    clock.at = at(11, 45)  # past the first sitting's cutoff (11:30)
    room = s01(client, sw, heads, 0, "proctor")
    assert (room["expected"], room["present"], room["absent"]) == (3, 2, 1)
    assert {s["candidate_id"] for s in room["seats"]} == {c.id for c in first}
    absent = [s["candidate_id"] for s in room["seats"] if s["status"] == "absent"]
    assert absent == [first[2].id]
    assert {s["seat"] for s in room["seats"]} == {sw.station[c.id][1] for c in first}
    # The second sitting's room, before it opens, expects its own three.
    later = s01(client, sw, heads, 1)
    assert (later["expected"], later["present"], later["absent"]) == (3, 0, 0)
    assert {s["candidate_id"] for s in later["seats"]} == {c.id for c in sw.of_sitting(1)}


def test_the_cutoff_counts_only_the_sittings_absentees_r_day_3(client, db, app, clock, sw, heads):
    first = sw.of_sitting(0)
    clock.at = at(10, 45)
    scan(client, sw, heads, first[0])
    clock.at = at(11, 31)
    emit_cutoffs(app.state, clock.now())
    notice = db.exec(select(CutoffNotice).where(CutoffNotice.session_id == sw.sittings[0])).one()
    db.commit()
    assert notice.absent == 2  # of its three, not the eight of all three sittings


def test_the_exam_room_record_of_a_sitting_names_only_its_candidates_r_day_3(client, db, clock, sw, heads):
    first, second = sw.of_sitting(0), sw.of_sitting(1)
    clock.at = at(10, 45)
    scan(client, sw, heads, first[0])
    scan(client, sw, heads, first[1])
    clock.at = at(13, 5)  # the first sitting has ended
    url = f"/api/v1/batches/{sw.batch_id}/sessions/{sw.sittings[0]}/rooms/S01/record"
    r = client.post(url, json={}, headers=heads["proctor"])
    assert r.status_code == 201, r.text
    record = client.get(url, headers=heads["admin"]).json()
    content = record.get("content") or record
    assert (content["expected"], content["present"], content["absent"]) == (3, 2, 1)
    assert [a["candidate_id"] for a in content["absent_candidates"]] == [first[2].id]
    assert [a["seat"] for a in content["absent_candidates"]] == [sw.station[first[2].id][1]]
    # A later sitting's candidate is not absent from this one: their own record says so later.
    clock.at = at(13, 45)
    scan(client, sw, heads, second[0])
    clock.at = at(16, 5)
    later = client.get(
        f"/api/v1/batches/{sw.batch_id}/sessions/{sw.sittings[1]}/rooms/S01/record", headers=heads["admin"]
    ).json()
    draft = later["draft"]
    assert (draft["expected"], draft["present"], draft["absent"]) == (3, 1, 2)
    assert {a["candidate_id"] for a in draft["absent_candidates"]} == {c.id for c in second[1:]}


def test_a_proctor_acts_only_on_the_sittings_candidates_r_seat_1(client, clock, sw, heads):
    """An incident or a manual admission (人工放行) for a candidate of another sitting is refused:
    not in this room now; the room's running session is the sitting under way."""
    clock.at = at(11, 10)
    other, own = sw.of_sitting(2)[0], sw.of_sitting(0)[0]

    def post(path, body):
        return client.post(f"/api/v1/batches/{sw.batch_id}{path}", headers=heads["proctor"], json=body)

    incident = {"room_code": "S01", "kind": "wrong_seat", "description": "不在本场次"}
    assert_refusal(post("/incidents", {**incident, "candidate_id": other.id}), 422, "candidate_not_in_room", "R-SEAT-1")
    r = post("/admissions", {"room_code": "S01", "candidate_id": other.id, "reason": "忘带准考证，核验身份证后放行"})
    assert_refusal(r, 422, "candidate_not_in_room", "R-SEAT-1")
    r = post("/incidents", {**incident, "candidate_id": own.id})
    assert r.status_code == 201, r.text
    assert r.json()["session_id"] == sw.sittings[0]
