"""The terminal client's copy of the feed: a gap in ``seq`` is noticed (R-DAY-3)."""

from __future__ import annotations

from proctor.watch import RoomView, render_room, ws_url

ROOM = {
    "room_code": "T01",
    "room_name": "理论考场1",
    "expected": 3,
    "present": 1,
    "late": 0,
    "absent": 0,
    "waiting": 2,
    "incidents": 0,
    "handed_in": 0,
    "cutoff_passed": False,
    "capacity": 4,
    "rows": 2,
    "cols": 2,
    "cameras": [{"code": "C1", "state": "recording"}],
    "alerts": [],
    "seats": [
        {"seat": 1, "candidate_id": 1, "ticket_number": "001", "status": "present"},
        {"seat": 2, "candidate_id": 2, "ticket_number": "002", "status": "expected"},
        {"seat": 4, "candidate_id": 3, "ticket_number": "003", "status": "expected"},
    ],
}


def snapshot(seq=5):
    return {"type": "snapshot", "seq": seq, "session": {"id": 1}, "rooms": [ROOM, {**ROOM, "room_code": "T02"}]}


def checkin(seq, cid=2, room="T01", present=2):
    return {
        "type": "event",
        "seq": seq,
        "event": "checkin",
        "room_code": room,
        "session_id": 1,
        "candidate_id": cid,
        "room": {**{k: v for k, v in ROOM.items() if k != "seats"}, "present": present},
        "seat_state": {"seat": cid, "candidate_id": cid, "ticket_number": f"00{cid}", "status": "present"},
    }


def test_events_apply_in_order_and_a_gap_is_noticed():
    v = RoomView("T01")
    assert v.event(checkin(1)) == "ignored"  # nothing before the snapshot
    v.snapshot(snapshot())
    assert list(v.rooms) == ["T01"]
    assert v.event(checkin(6)) == "applied"
    assert v.rooms["T01"]["present"] == 2
    assert [s["status"] for s in v.rooms["T01"]["seats"] if s["candidate_id"] == 2] == ["present"]
    assert v.event(checkin(7, room="T02")) == "ignored" and v.seq == 7
    assert v.event(checkin(9)) == "gap" and v.seq is None  # 8 was missed
    v.snapshot(snapshot(9))
    assert v.event(checkin(10)) == "applied"


def test_applying_an_event_twice_changes_nothing():
    v = RoomView()
    v.snapshot(snapshot())
    v.event(checkin(6))
    once = repr(v.rooms)
    v.seq = 6  # the same event again, as after a resync
    v.event(checkin(7))
    assert repr(v.rooms) == once


def test_render_room_and_url():
    text = render_room(ROOM)
    assert "未到 waiting 2" in text and "C1 recording" in text
    assert text.splitlines()[-2:] == ["  P ·", "    ·"]
    assert ws_url("https://exam.example.cn/", 3) == "wss://exam.example.cn/ws/batches/3"
    assert ws_url("127.0.0.1:8000", 3) == "ws://127.0.0.1:8000/ws/batches/3"
