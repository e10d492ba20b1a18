"""GET /api/v1/batches/{bid}/rooms (R-DAY-3) and the automatic absence at the entry
cutoff (R-TIME-1): computed from the clock, announced once per room on the feed."""

from __future__ import annotations

from sqlmodel import select

from examday.audit import AuditEntry
from proctor.feed import emit_cutoffs
from proctor.models import CutoffNotice
from tests.integration.proctor.support import check_in, room_world
from tests.support import assert_refusal

CONTRACT = {"room_code", "expected", "present", "absent", "late", "incidents", "cameras"}


def rooms(client, rw, who: str, **params) -> list[dict]:
    resp = client.get(f"/api/v1/batches/{rw.batch_id}/rooms", headers=rw.h(who), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_rooms_as_the_contract_says(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40
    t01 = rw.in_room("T01")
    check_in(client, rw, t01[0])
    clock.advance(minutes=30)  # 09:10: after the start, before the cutoff
    check_in(client, rw, t01[1])
    got = rooms(client, rw, "admin")
    assert [r["room_code"] for r in got] == ["T01", "T02"]
    r = got[0]
    assert set(r) >= CONTRACT
    assert (r["expected"], r["present"], r["late"], r["absent"], r["incidents"]) == (len(t01), 2, 1, 0, 0)
    # Camera states come from the video hooks; none reported yet during a running session.
    assert [c["code"] for c in r["cameras"]] == ["T01-C1", "T01-C2"] and all(c["state"] for c in r["cameras"])
    assert got[1]["present"] == 0 and got[1]["expected"] == len(rw.in_room("T02"))


def test_each_role_sees_what_it_may(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    assert [r["room_code"] for r in rooms(client, rw, "p1")] == ["T01"]
    assert [r["room_code"] for r in rooms(client, rw, "p4")] == ["T02"]
    for who in ("admin", "supervisor", "centre"):
        assert len(rooms(client, rw, who)) == 2
    for who in ("evaluator", "kiosk", "centre_other"):
        assert_refusal(client.get(f"/api/v1/batches/{rw.batch_id}/rooms", headers=rw.h(who)), 403, "forbidden")
    assert_refusal(client.get(f"/api/v1/batches/{rw.batch_id}/rooms"), 401, "unauthenticated")
    assert_refusal(client.get("/api/v1/batches/999/rooms", headers=rw.h("admin")), 404, "not_found")


def test_a_session_can_be_named(client, db, world, clock):
    rw = room_world(db, world, clock.now())
    skill = rooms(client, rw, "admin", session_id=rw.skill_session_id)
    assert [(r["room_code"], r["part"]) for r in skill] == [("S01", "skill")]
    assert rooms(client, rw, "p1", session_id=rw.skill_session_id) == []  # p1 proctors no skill room


def test_absent_automatically_after_the_cutoff(client, db, world, clock):
    # R-TIME-1: after start + entry_close_minutes (30 as filed), registered but not present = absent.
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=45)  # 08:45
    t01 = rw.in_room("T01")
    check_in(client, rw, t01[0])
    clock.advance(minutes=44, seconds=59)  # 09:29:59
    before = rooms(client, rw, "admin")[0]
    assert (before["absent"], before["waiting"]) == (0, len(t01) - 1)
    clock.advance(seconds=1)  # 09:30:00, the cutoff
    after = rooms(client, rw, "admin")
    assert after[0]["absent"] == len(t01) - 1 and after[0]["waiting"] == 0
    assert after[1]["absent"] == len(rw.in_room("T02"))
    absent_ids = {s["candidate_id"] for s in after[0]["seats"] if s["status"] == "absent"}
    assert absent_ids == {c.id for c in t01[1:]}


def test_the_cutoff_is_announced_once_per_room(client, db, world, clock, app):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=45)
    check_in(client, rw, rw.in_room("T02")[0])
    assert emit_cutoffs(app.state, clock.now()) == []  # before the cutoff: nothing
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=rw.h("p3")) as ws:
        s = ws.receive_json(timeout=30)["seq"]
        clock.advance(minutes=45)  # 09:30, the cutoff
        # The app's own task may win the race to announce; either way each room is announced once.
        announced = emit_cutoffs(app.state, clock.now()) + emit_cutoffs(app.state, clock.now())
        assert len(announced) == len(set(announced)) and set(announced) <= {
            (rw.session_id, "T01"),
            (rw.session_id, "T02"),
        }
        ev = ws.receive_json(timeout=30)  # p3 proctors T02: only T02's announcement reaches them
        assert (ev["seq"], ev["event"], ev["room_code"]) == (s + 1, "absent", "T02")
        assert ev["room"]["absent"] == len(rw.in_room("T02")) - 1
        assert {x["candidate_id"] for x in ev["seats"]} == {c.id for c in rw.in_room("T02")[1:]}
        assert all(x["status"] == "absent" for x in ev["seats"])
        ws.send_json({"type": "ping"})
        assert ws.receive_json(timeout=30) == {"type": "pong", "seq": s + 1}  # no second announcement
    notices = db.exec(select(CutoffNotice)).all()
    assert sorted(n.absent for n in notices) == sorted([len(rw.in_room("T01")), len(rw.in_room("T02")) - 1])
    assert len(db.exec(select(AuditEntry).where(AuditEntry.action == "room.entry_closed")).all()) == 2
    db.commit()


def test_cutoff_is_not_announced_after_the_session_or_for_drafts(client, db, world, clock, app):
    room_world(db, world, clock.now())
    clock.advance(hours=3)  # 11:00, the theory session is over
    assert emit_cutoffs(app.state, clock.now()) == []


def test_camera_states_come_from_the_cameras_health(client, db, world, clock):
    # R-VIDEO-1: what the recorder hooks last said of each camera (CameraHealth) is what the room
    # shows; an offline camera raises the room's camera_down alert, a recording one none.
    from examday.registry.models import Camera
    from proctor.video_models import CameraHealth

    rw = room_world(db, world, clock.now())
    cams = {c.code: c.id for c in db.exec(select(Camera)).all()}
    db.add(CameraHealth(camera_id=cams["T01-C2"], state="offline", reason="power", changed_at=clock.now()))
    db.add(
        CameraHealth(
            camera_id=cams["T02-C1"],
            state="recording",
            last_segment_at=clock.now(),
            last_hook_at=clock.now(),
            changed_at=clock.now(),
        )
    )
    db.commit()
    got = rooms(client, rw, "admin")
    assert got[0]["cameras"] == [
        {"code": "T01-C1", "state": "unknown", "reason": ""},
        {"code": "T01-C2", "state": "offline", "reason": "power"},
    ]
    assert got[1]["cameras"][0] == {"code": "T02-C1", "state": "recording", "reason": ""}
    assert [a["kind"] for a in got[0]["alerts"]] == ["camera_down"] and got[0]["alerts"][0]["camera"] == "T01-C2"
    assert got[1]["alerts"] == []


def test_offline_kiosk_conflict_raises_an_alert(client, db, world, clock, settings):
    from examday.actor import SYSTEM
    from examday.plans.models import Batch
    from examday.plans.tickets import current_ticket, issue_batch_tickets

    rw = room_world(db, world, clock.now())
    issue_batch_tickets(db, SYSTEM, db.get(Batch, rw.batch_id), settings.secret_key, clock.now())
    db.commit()
    cand = rw.in_room("T02")[0]
    qr = current_ticket(db, cand.id).qr_text
    db.commit()
    other_kiosk = world.token("kiosk2", "kiosk", rw.institution_id)
    clock.advance(minutes=40)
    check_in(client, rw, cand)
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}", headers=rw.h("p3")) as ws:
        s = ws.receive_json(timeout=30)["seq"]
        # A second kiosk, offline meanwhile, let the same candidate in: it syncs now.
        resp = client.post(
            "/api/v1/checkins/sync",
            headers={"Authorization": f"Bearer {other_kiosk}"},
            json=[
                {
                    "ticket": qr,
                    "id_number": cand.id_number,
                    "kiosk_nonce": "offline-1",
                    "scanned_at": "2026-11-26T08:39:00+08:00",
                    "offline_status": "accepted",
                }
            ],
        )
        assert resp.status_code == 200, resp.text
        ev = ws.receive_json(timeout=30)
        assert (ev["seq"], ev["event"], ev["room_code"]) == (s + 1, "offline_conflict", "T02")
        assert {"kind": "offline_conflict", "rule": "R-DAY-1", "candidate_id": cand.id} in ev["room"]["alerts"]
    t02 = rooms(client, rw, "p3")[0]
    assert [a["candidate_id"] for a in t02["alerts"] if a["kind"] == "offline_conflict"] == [cand.id]
