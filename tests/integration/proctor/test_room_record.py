"""The exam-room record (考场记录表, R-DAY-3): produced at the end of a session from what
happened, confirmed by each proctor of the room under their own account (R-STAFF-4),
then changed only by an amendment on the audit chain (R-AUDIT-1); archived as a key
document (R-ARCH-1)."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import Session, select

from examday import audit
from examday.audit import AuditEntry
from proctor.models import RoomRecord
from storage.blobs import Blob
from storage.retention_models import ArchivedDocument
from tests.integration.proctor.support import check_in, room_world
from tests.support import assert_refusal


def url(rw, room="T01", suffix=""):
    return f"/api/v1/batches/{rw.batch_id}/sessions/{rw.session_id}/rooms/{room}/record{suffix}"


def act(client, rw, who, path, body):
    resp = client.post(f"/api/v1/batches/{rw.batch_id}{path}", headers=rw.h(who), json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def happened(client, db, world, clock):
    """A morning in T01: two on time, one late, the rest absent; an incident, a move, a hand-in."""
    rw = room_world(db, world, clock.now(), n=12)
    t01 = rw.in_room("T01")
    clock.advance(minutes=45)  # 08:45
    check_in(client, rw, t01[0])
    check_in(client, rw, t01[1])
    clock.advance(minutes=35)  # 09:20, late
    check_in(client, rw, t01[2])
    clock.advance(minutes=10)  # 09:30
    act(
        client,
        rw,
        "p1",
        "/incidents",
        {"room_code": "T01", "candidate_id": t01[1].id, "kind": "wrong_seat", "description": "坐错座位，经提醒后更正"},
    )
    act(
        client,
        rw,
        "p2",
        "/seat-moves",
        {"room_code": "T01", "candidate_id": t01[2].id, "to_seat": 20, "reason": "桌面损坏"},
    )
    clock.advance(minutes=20)  # 09:50
    act(client, rw, "p1", "/hand-ins", {"room_code": "T01", "candidate_id": t01[0].id})
    return rw, t01


def test_record_matches_what_happened(client, db, world, clock):
    rw, t01 = happened(client, db, world, clock)
    assert_refusal(client.post(url(rw), headers=rw.h("p1"), json={}), 409, "session_not_ended", "R-DAY-3")
    draft = client.get(url(rw), headers=rw.h("p1")).json()
    assert draft["status"] == "not_produced" and draft["draft"]["present"] == 3
    clock.advance(minutes=41)  # 10:31, the session is over
    assert_refusal(client.post(url(rw), headers=rw.h("p3"), json={}), 403, "forbidden")  # T02's proctor
    assert_refusal(client.post(url(rw), headers=rw.h("admin"), json={}), 403, "forbidden")
    resp = client.post(url(rw), headers=rw.h("p1"), json={"remarks": "考场秩序良好"})
    assert resp.status_code == 201, resp.text
    rec = resp.json()
    c = rec["content"]
    assert rec["status"] == "produced" and rec["pending"] == [rw.proctors[0].id, rw.proctors[1].id]
    assert (c["expected"], c["present"], c["late"], c["absent"]) == (len(t01), 3, 1, len(t01) - 3)
    assert [a["ticket_number"] for a in c["absent_candidates"]] == sorted(x.ticket_number for x in t01[3:])
    assert [(x["candidate_id"], x["seat"]) for x in c["late_candidates"]] == [(t01[2].id, 20)]
    assert [(i["candidate_id"], i["kind"], i["tier"], i["voided_parts"]) for i in c["incidents"]] == [
        (t01[1].id, "wrong_seat", "a", ["theory"])
    ]
    assert [(m["candidate_id"], m["from_seat"], m["to_seat"], m["reason"]) for m in c["seat_moves"]] == [
        (t01[2].id, rw.seat_of[t01[2].id][1], 20, "桌面损坏")
    ]
    assert [(h["candidate_id"], h["at"]) for h in c["hand_ins"]] == [(t01[0].id, "2026-11-26T09:50:00+08:00")]
    assert [p["staff_id"] for p in c["proctors"]] == [rw.proctors[0].id, rw.proctors[1].id]
    assert c["remarks"] == "考场秩序良好" and c["incidents"][0]["name"] == t01[1].name

    # Archived as a key document, kept permanently (R-ARCH-1); readable as PNG.
    blob = db.get(Blob, rec["document_blob_id"])
    assert blob.retention_class == "key_documents" and blob.content_type == "image/png"
    db.commit()
    png = client.get(url(rw, suffix=".png"), headers=rw.h("supervisor"))
    assert png.status_code == 200 and Image.open(io.BytesIO(png.content)).size[0] == 1240
    assert_refusal(client.get(url(rw), headers=rw.h("p3")), 403, "forbidden")


def test_each_proctor_confirms_then_only_amendments(client, db, world, clock, engine):
    rw, t01 = happened(client, db, world, clock)
    clock.advance(minutes=45)
    first = client.post(url(rw), headers=rw.h("p2"), json={}).json()
    # Before anyone confirms, producing again replaces the content (no confirmation binds it yet).
    again = client.post(url(rw), headers=rw.h("p1"), json={"remarks": "补充"})
    assert again.status_code == 201 and again.json()["content_hash"] != first["content_hash"]
    assert_refusal(
        client.post(url(rw, suffix="/amend"), headers=rw.h("p1"), json={"text": "x", "reason": "y"}),
        409,
        "record_not_confirmed",
    )
    stale = client.post(url(rw, suffix="/confirm"), headers=rw.h("p1"), json={"content_hash": first["content_hash"]})
    assert_refusal(stale, 409, "record_changed")
    one = client.post(url(rw, suffix="/confirm"), headers=rw.h("p1"), json={})
    assert one.status_code == 200 and one.json()["status"] == "confirming"
    assert one.json()["pending"] == [rw.proctors[1].id]
    assert_refusal(client.post(url(rw, suffix="/confirm"), headers=rw.h("p1"), json={}), 409, "already_confirmed")
    assert_refusal(client.post(url(rw, suffix="/confirm"), headers=rw.h("p3"), json={}), 403, "forbidden")
    two = client.post(url(rw, suffix="/confirm"), headers=rw.h("p2"), json={})
    assert two.json()["status"] == "confirmed" and two.json()["pending"] == []
    assert [(k["staff_id"], k["content_hash"]) for k in two.json()["confirmations"]] == [
        (rw.proctors[0].id, two.json()["content_hash"]),
        (rw.proctors[1].id, two.json()["content_hash"]),
    ]

    # Confirmed: no new production, no new facts; an amendment is the only way.
    assert_refusal(client.post(url(rw), headers=rw.h("p1"), json={}), 409, "record_confirmed", "R-AUDIT-1")
    assert_refusal(
        client.post(
            f"/api/v1/batches/{rw.batch_id}/incidents",
            headers=rw.h("p1"),
            json={
                "room_code": "T01",
                "candidate_id": t01[0].id,
                "kind": "disturbance",
                "description": "x",
                "session_id": rw.session_id,
            },
        ),
        409,
        "session_not_in_progress",
    )
    assert_refusal(
        client.post(url(rw, suffix="/amend"), headers=rw.h("p1"), json={"text": "", "reason": "y"}),
        422,
        "amendment_required",
    )
    amended = client.post(
        url(rw, suffix="/amend"), headers=rw.h("p1"), json={"text": "003号考生迟到原因：交通管制", "reason": "漏记"}
    )
    assert amended.status_code == 201, amended.text
    body = amended.json()
    assert body["content_hash"] == two.json()["content_hash"]  # the confirmed content is untouched
    assert [(a["number"], a["by"], a["reason"]) for a in body["amendments"]] == [(1, "proctor-t01-a", "漏记")]
    assert body["document_blob_id"] != two.json()["document_blob_id"]  # re-rendered with the amendment
    by_admin = client.post(url(rw, suffix="/amend"), headers=rw.h("admin"), json={"text": "核实无误", "reason": "复核"})
    assert by_admin.status_code == 201 and len(by_admin.json()["amendments"]) == 2
    assert_refusal(
        client.post(url(rw, suffix="/amend"), headers=rw.h("p3"), json={"text": "x", "reason": "y"}), 403, "forbidden"
    )

    with Session(engine) as s:
        actions = [
            e.action
            for e in s.exec(
                select(AuditEntry).where(AuditEntry.object_type == "room_record").order_by(AuditEntry.seq)
            ).all()
        ]
        assert actions == [
            "room_record.produce",
            "room_record.regenerate",
            "room_record.confirm",
            "room_record.confirm",
            "room_record.amend",
            "room_record.amend",
        ]
        assert audit.verify(s) is None  # R-AUDIT-1: the chain holds
        record = s.exec(select(RoomRecord)).one()
        assert record.confirmed_at is not None
        # R-ARCH-1: every version of the record, down to the last amendment, is in the batch's archive.
        archived = s.exec(
            select(ArchivedDocument.blob_id).where(
                ArchivedDocument.batch_id == rw.batch_id, ArchivedDocument.kind == "room_record"
            )
        ).all()
        assert by_admin.json()["document_blob_id"] in archived
        assert two.json()["document_blob_id"] in archived


def test_record_events_reach_the_room(client, db, world, clock):
    rw, _ = happened(client, db, world, clock)
    clock.advance(minutes=45)
    with client.websocket_connect(f"/ws/batches/{rw.batch_id}?session_id={rw.session_id}", headers=rw.h("p2")) as ws:
        s = ws.receive_json(timeout=30)["seq"]
        client.post(url(rw), headers=rw.h("p1"), json={})
        ev = ws.receive_json(timeout=30)
        assert (ev["seq"], ev["event"], ev["status"], ev["room_code"]) == (s + 1, "room_record", "produced", "T01")
