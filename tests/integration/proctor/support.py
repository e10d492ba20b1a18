"""A live-room world: the exam world of tests/builders.py with seats, accounts for
every role that watches a room, and check-ins through the real check-in API."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from examday.plans.models import Batch, Candidate, ExamSession, Seat
from examday.registry.models import Room, Staff
from tests import builders
from tests.support import bearer

EXAM_DAY = date(2026, 11, 26)  # the day the clock fixture stands on (08:00 CST); theory 09:00-10:30


@dataclass
class RoomWorld:
    institution_id: int
    batch_id: int
    session_id: int
    skill_session_id: int
    rooms: dict[str, Room]
    proctors: list[Staff]  # [0], [1] proctor T01; [2], [3] proctor T02
    candidates: list[Candidate]
    seat_of: dict[int, tuple[str, int]]  # candidate id -> (room code, seat)
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    def in_room(self, code: str) -> list[Candidate]:
        return [c for c in self.candidates if self.seat_of[c.id][0] == code]


def room_world(db: Session, world, now: datetime, n: int = 12, exam_day: date = EXAM_DAY) -> RoomWorld:
    w = builders.exam_world(db, now, exam_day, n_candidates=n)
    batch: Batch = w["batch"]
    theory = w["rooms"][:2]
    seat_of = {}
    for i, c in enumerate(w["candidates"]):
        room = theory[i % 2]
        db.add(Seat(batch_id=batch.id, part="theory", candidate_id=c.id, room_id=room.id, seat_no=i // 2 + 1))
        seat_of[c.id] = (room.code, i // 2 + 1)
    db.commit()
    sessions = db.exec(
        select(ExamSession).where(ExamSession.batch_id == batch.id).order_by(ExamSession.starts_at)
    ).all()
    db.commit()  # SQLite transactions are BEGIN IMMEDIATE: never hold one while the server works
    rw = RoomWorld(
        w["institution"].id,
        batch.id,
        sessions[0].id,
        sessions[1].id,
        {r.code: r for r in w["rooms"]},
        w["staff"]["proctor"],
        w["candidates"],
        seat_of,
    )
    iid, p = rw.institution_id, rw.proctors
    rw.tokens = {
        "admin": world.token("office", "admin", iid),
        "kiosk": world.token("kiosk1", "kiosk", iid),
        "p1": world.token("proctor-t01-a", "proctor", iid, staff_id=p[0].id),
        "p2": world.token("proctor-t01-b", "proctor", iid, staff_id=p[1].id),
        "p3": world.token("proctor-t02-a", "proctor", iid, staff_id=p[2].id),
        "p4": world.token("proctor-t02-b", "proctor", iid, staff_id=p[3].id),
        "supervisor": world.token("supervisor", "supervisor", iid),
        "centre": world.token("centre-jl", "centre", None, province="吉林"),
        "centre_other": world.token("centre-sc", "centre", None, province="四川"),
        "evaluator": world.token("eval", "evaluator", iid, staff_id=w["staff"]["examiner"][0].id),
    }
    return rw


def check_in(client, rw: RoomWorld, cand: Candidate, nonce: str | None = None):
    """A desk check-in through the real API (the kiosk's typed-ticket path)."""
    resp = client.post(
        "/api/v1/checkins",
        headers=rw.h("kiosk"),
        json={
            "ticket_number": cand.ticket_number,
            "batch_id": rw.batch_id,
            "id_number": cand.id_number,
            "kiosk_nonce": nonce or uuid.uuid4().hex,
        },
    )
    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
    return resp.json()


@contextmanager
def served(app):
    """The test app under uvicorn on a free port, in a thread: for clients that need a real socket."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
