"""Proctor actions: incidents with their tier (R-DISC-1), seat moves with a reason
(R-SEAT-1), early hand-ins never in the first 30 minutes (R-TIME-1). Only a proctor of
that room in that session acts (R-STAFF-4); every action is audited (R-AUDIT-1); a
refused action changes nothing."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from sqlmodel import select

from examday.audit import AuditEntry
from proctor.models import HandIn, Incident, SeatMove
from storage.blobs import Blob
from tests.integration.proctor.support import check_in, room_world
from tests.support import assert_refusal


def post(client, rw, who, path, body):
    return client.post(f"/api/v1/batches/{rw.batch_id}{path}", headers=rw.h(who), json=body)


def counts(db, *models) -> tuple[int, ...]:
    out = tuple(len(db.exec(select(m)).all()) for m in models)
    db.commit()
    return out


def png_b64() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def started(client, db, world, clock):
    """09:05 on exam day: T01's first two candidates checked in, the session running."""
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)
    for c in rw.in_room("T01")[:2] + rw.in_room("T02")[:1]:
        check_in(client, rw, c)
    clock.advance(minutes=25)
    return rw


def test_incident_with_its_tier_and_photo(client, db, started):
    rw = started
    c = rw.in_room("T01")[0]
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=rw.h("p2")) as ws:
        s = ws.receive_json(timeout=30)["seq"]
        resp = post(
            client,
            rw,
            "p1",
            "/incidents",
            {
                "room_code": "T01",
                "candidate_id": c.id,
                "kind": "copying",
                "description": "抄袭邻座答案",
                "photo": png_b64(),
            },
        )
        assert resp.status_code == 201, resp.text
        body = resp.json()
        # R-DISC-1: copying is tier (b), that part treated as cheating.
        assert (body["tier"], body["voids"], body["voided_parts"], body["cheating"]) == ("b", "part", ["theory"], True)
        ev = ws.receive_json(timeout=30)
        assert (ev["seq"], ev["event"], ev["incident"]["id"]) == (s + 1, "incident", body["id"])
        assert ev["seat_state"]["status"] == "incident" and ev["room"]["incidents"] == 1
    blob = db.get(Blob, body["photo_blob_id"])
    assert blob.content_type == "image/png" and blob.size > 0
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "incident.record")).one()
    assert entry.account_id is not None and entry.object_id == str(body["id"])
    db.commit()


def test_tier_c_voids_every_part_of_the_sitting(client, db, started):
    rw = started
    c = rw.in_room("T01")[1]
    resp = post(
        client,
        rw,
        "p2",
        "/incidents",
        {"room_code": "T01", "candidate_id": c.id, "kind": "using_electronic_device", "description": "使用手机"},
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["tier"], resp.json()["voided_parts"]) == ("c", ["theory", "skill"])  # R-DISC-1


def test_refused_incidents_change_nothing(client, db, started):
    rw = started
    t01, t02 = rw.in_room("T01")[0], rw.in_room("T02")[0]
    before = counts(db, Incident, AuditEntry)
    ok = {"room_code": "T01", "candidate_id": t01.id, "kind": "disturbance", "description": "喧哗"}
    assert_refusal(
        post(client, rw, "p1", "/incidents", {**ok, "kind": "chatting"}), 422, "unknown_incident_kind", "R-DISC-1"
    )
    assert_refusal(post(client, rw, "p1", "/incidents", {**ok, "description": "  "}), 422, "invalid_description")
    assert_refusal(post(client, rw, "p1", "/incidents", {**ok, "photo": "bm90IGFuIGltYWdl"}), 422, "invalid_photo")
    # A proctor of T01 cannot act on T02, nor on a T02 candidate by naming their own room.
    assert_refusal(
        post(client, rw, "p1", "/incidents", {**ok, "room_code": "T02", "candidate_id": t02.id}), 403, "forbidden"
    )
    assert_refusal(post(client, rw, "p1", "/incidents", {**ok, "candidate_id": t02.id}), 422, "candidate_not_in_room")
    for who in ("admin", "supervisor", "centre", "kiosk"):
        assert_refusal(post(client, rw, who, "/incidents", ok), 403, "forbidden")
    assert_refusal(client.post(f"/api/v1/batches/{rw.batch_id}/incidents", json=ok), 401, "unauthenticated")
    assert_refusal(post(client, rw, "p1", "/incidents", {**ok, "session_id": rw.skill_session_id}), 404, "not_found")
    assert counts(db, Incident, AuditEntry) == before


def test_incident_outside_the_session_is_refused(client, db, started, clock):
    rw = started
    clock.advance(hours=2)  # 11:05, the theory session ended at 10:30
    body = {"room_code": "T01", "candidate_id": rw.in_room("T01")[0].id, "kind": "disturbance", "description": "x"}
    assert_refusal(post(client, rw, "p1", "/incidents", body), 409, "session_not_in_progress")
    assert_refusal(
        post(client, rw, "p1", "/incidents", {**body, "session_id": rw.session_id}), 409, "session_not_in_progress"
    )


def test_seat_move_with_reason(client, db, started, clock):
    rw = started
    c, other = rw.in_room("T01")[:2]
    free = len(rw.in_room("T01")) + 5
    before = counts(db, SeatMove, AuditEntry)
    assert_refusal(
        post(
            client, rw, "p1", "/seat-moves", {"room_code": "T01", "candidate_id": c.id, "to_seat": free, "reason": ""}
        ),
        422,
        "reason_required",
    )
    # R-SEAT-1: one candidate per desk.
    assert_refusal(
        post(
            client,
            rw,
            "p1",
            "/seat-moves",
            {"room_code": "T01", "candidate_id": c.id, "to_seat": rw.seat_of[other.id][1], "reason": "桌子坏了"},
        ),
        409,
        "seat_taken",
        "R-SEAT-1",
    )
    assert_refusal(
        post(
            client,
            rw,
            "p1",
            "/seat-moves",
            {"room_code": "T01", "candidate_id": c.id, "to_seat": 31, "reason": "桌子坏了"},
        ),
        422,
        "no_such_seat",
    )
    absent_one = rw.in_room("T01")[3]
    assert_refusal(
        post(
            client,
            rw,
            "p1",
            "/seat-moves",
            {"room_code": "T01", "candidate_id": absent_one.id, "to_seat": free, "reason": "x"},
        ),
        409,
        "not_present",
    )
    assert_refusal(
        post(
            client, rw, "p3", "/seat-moves", {"room_code": "T01", "candidate_id": c.id, "to_seat": free, "reason": "x"}
        ),
        403,
        "forbidden",
    )
    assert counts(db, SeatMove, AuditEntry) == before
    resp = post(
        client,
        rw,
        "p1",
        "/seat-moves",
        {"room_code": "T01", "candidate_id": c.id, "to_seat": free, "reason": "桌子坏了"},
    )
    assert resp.status_code == 201, resp.text
    assert (resp.json()["from_seat"], resp.json()["to_seat"]) == (rw.seat_of[c.id][1], free)
    seat = next(
        s
        for s in client.get(f"/api/v1/batches/{rw.batch_id}/rooms", headers=rw.h("p1")).json()[0]["seats"]
        if s["candidate_id"] == c.id
    )
    assert (seat["seat"], seat["allocated_seat"], seat["moved"]) == (free, rw.seat_of[c.id][1], True)
    # After the cutoff an absent candidate's desk is free (R-TIME-1).
    clock.advance(minutes=30)
    resp = post(
        client,
        rw,
        "p1",
        "/seat-moves",
        {"room_code": "T01", "candidate_id": other.id, "to_seat": rw.seat_of[absent_one.id][1], "reason": "光线不好"},
    )
    assert resp.status_code == 201, resp.text
    assert counts(db, SeatMove)[0] == 2
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "seat.move")).all()) == 2
    db.commit()


def test_no_hand_in_during_the_first_30_minutes(client, db, started, clock):
    rw = started  # 09:05
    c = rw.in_room("T01")[0]
    body = {"room_code": "T01", "candidate_id": c.id}
    clock.advance(minutes=24, seconds=59)  # 09:29:59
    resp = post(client, rw, "p1", "/hand-ins", body)
    assert_refusal(resp, 422, "handin_too_early", "R-TIME-1")  # R-TIME-1
    assert resp.json()["detail"]["allowed_from"] == "2026-11-26T09:30:00+08:00"
    assert counts(db, HandIn) == (0,)
    clock.advance(seconds=1)  # 09:30:00
    resp = post(client, rw, "p1", "/hand-ins", body)
    assert resp.status_code == 201, resp.text
    assert_refusal(post(client, rw, "p2", "/hand-ins", body), 409, "already_handed_in")
    assert_refusal(
        post(client, rw, "p1", "/hand-ins", {"room_code": "T01", "candidate_id": rw.in_room("T01")[4].id}),
        409,
        "not_present",
    )
    assert_refusal(
        post(client, rw, "p3", "/hand-ins", {"room_code": "T01", "candidate_id": rw.in_room("T01")[1].id}),
        403,
        "forbidden",
    )
    clock.advance(hours=1)  # 10:30, the end: no longer an early hand-in
    assert_refusal(
        post(
            client,
            rw,
            "p1",
            "/hand-ins",
            {"room_code": "T01", "candidate_id": rw.in_room("T01")[1].id, "session_id": rw.session_id},
        ),
        409,
        "session_over",
    )
    assert counts(db, HandIn) == (1,)
    seat = next(
        s
        for s in client.get(
            f"/api/v1/batches/{rw.batch_id}/rooms", headers=rw.h("p1"), params={"session_id": rw.session_id}
        ).json()[0]["seats"]
        if s["candidate_id"] == c.id
    )
    assert seat["handed_in"] is True


def test_an_incident_places_a_legal_hold_on_its_session(client, db, started):
    # R-VIDEO-1, R-ARCH-1: the session's video is held from the purge once an incident is recorded.
    from storage.holds import LegalHold

    rw = started
    c = rw.in_room("T01")[0]
    resp = post(
        client,
        rw,
        "p1",
        "/incidents",
        {"room_code": "T01", "candidate_id": c.id, "kind": "disturbance", "description": "喧哗"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    holds = db.exec(select(LegalHold).where(LegalHold.source == f"incident:{body['id']}")).all()
    assert len(holds) == 1 and holds[0].object_type == "session" and holds[0].object_id == str(body["session_id"])
