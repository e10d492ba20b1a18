"""The room state the live feed's events carry, kept between events (R-DAY-3, issue #18): a
check-in's event adds its arrival to the kept room without reading anything, yet every event
carries what a whole read of the room gives — after an incident, and after an event another server process sent."""

from __future__ import annotations

import sys
import time
import uuid
from types import SimpleNamespace

from sqlalchemy import event as sa_event
from sqlmodel import Session

from examday.events import EventBus
from examday.plans.models import Batch, ExamSession
from proctor import rooms as roomstate
from proctor import rules
from proctor.feed_state import FeedState
from tests.integration.proctor.support import check_in, room_world
from tests.integration.proctor.test_redis_feed import REDIS_URL, _redis


def whole_read(app, rw, room_code: str) -> dict:
    """The room's counts as a fresh read of everything gives them, the way an event carries them."""
    with Session(app.state.read_engine) as db:
        batch, session = db.get(Batch, rw.batch_id), db.get(ExamSession, rw.session_id)
        found = roomstate.rooms_state(db, batch, session, app.state.clock.now(), {room_code})[0]
    return rules.counts_only(found)


def _in_enrich() -> bool:
    """Whether this statement is the feed's read of an event's state (not the request's own)."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "enrich" and frame.f_code.co_filename.endswith("feed_state.py"):
            return True
        frame = frame.f_back
    return False


def wait_for(events: list[dict], n: int) -> dict:
    deadline = time.monotonic() + 10
    while len(events) < n:
        assert time.monotonic() < deadline, f"{len(events)} events, waited for {n}"
        time.sleep(0.01)
    return events[n - 1]


def incident(client, rw, cand) -> None:
    body = {"room_code": "T01", "candidate_id": cand.id, "kind": "copying", "description": "抄袭邻座答案"}
    resp = client.post(f"/api/v1/batches/{rw.batch_id}/incidents", headers=rw.h("p1"), json=body)
    assert resp.status_code == 201, resp.text


def test_check_in_events_read_little_and_carry_what_a_whole_read_gives(client, db, world, clock, app):
    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40, entry open
    seen: list[dict] = []
    app.state.events.subscribe(lambda bid, m: seen.append(m))
    reads: list[str] = []

    @sa_event.listens_for(app.state.read_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *args) -> None:
        if _in_enrich() and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    try:
        t01 = rw.in_room("T01")
        per_event = []
        for n, cand in enumerate(t01[:4], start=1):
            before = len(reads)
            check_in(client, rw, cand)
            ev = wait_for(seen, n)
            per_event.append(len(reads) - before)
            assert ev["candidate_id"] == cand.id and ev["seat_state"]["status"] == "present"
            assert ev["room"] == whole_read(app, rw, "T01")
            assert ev["room"]["present"] == n
        # The first reads the room whole; the next ones read nothing.
        assert per_event[0] >= 6 and all(k == 0 for k in per_event[1:]), per_event

        clock.advance(minutes=25)  # 09:05: the session has started
        incident(client, rw, t01[0])
        wait_for(seen, 5)
        check_in(client, rw, t01[4])  # late, after the incident: the room is read whole again
        ev = wait_for(seen, 6)
        assert ev["room"] == whole_read(app, rw, "T01")
        assert ev["room"]["incidents"] == 1 and ev["room"]["present"] == 5
    finally:
        sa_event.remove(app.state.read_engine, "before_cursor_execute", _count)


def test_an_event_another_process_sent_makes_the_room_read_whole(client, db, world, clock, app):
    """Two server processes on one Redis: what this process keeps of a room is not trusted once
    the batch's number moved without it."""
    _redis()
    namespace = f"examday-test:{uuid.uuid4().hex[:8]}"
    here, there = EventBus(REDIS_URL, namespace), EventBus(REDIS_URL, namespace)
    state = SimpleNamespace(events=here, clock=app.state.clock, read_engine=app.state.read_engine)
    feed_state = FeedState(state)  # type: ignore[arg-type]
    here.set_enricher(feed_state.enrich, sent=feed_state.sent)
    seen: list[dict] = []
    here.subscribe(lambda bid, m: seen.append(m))

    rw = room_world(db, world, clock.now())
    clock.advance(minutes=65)  # 09:05
    first, second = rw.in_room("T01")[:2]
    check_in(client, rw, first)
    here.publish(rw.batch_id, "checkin", "T01", candidate_id=first.id, session_id=rw.session_id)
    assert seen[-1]["room"]["incidents"] == 0 and seen[-1]["room"]["present"] == 1

    incident(client, rw, first)  # its event goes out through the other process
    there.publish(rw.batch_id, "incident", "T01", session_id=rw.session_id)
    check_in(client, rw, second)
    here.publish(rw.batch_id, "checkin", "T01", candidate_id=second.id, session_id=rw.session_id)
    assert seen[-1]["room"] == whole_read(app, rw, "T01")
    assert seen[-1]["room"]["incidents"] == 1 and seen[-1]["room"]["present"] == 2


def test_check_ins_through_two_processes_read_nothing_and_carry_what_a_whole_read_gives(client, db, world, clock, app):
    """Issue #18: with four processes nearly every check-in's event came after another process's,
    and the room was read whole each time. Each process now takes in the other's check-ins from
    the batch's recent events on Redis: after the first read, none, and the counts stay exact."""
    _redis()
    namespace = f"examday-test:{uuid.uuid4().hex[:8]}"
    buses = [EventBus(REDIS_URL, namespace), EventBus(REDIS_URL, namespace)]
    seen: list[dict] = []
    for bus in buses:
        state = SimpleNamespace(events=bus, clock=app.state.clock, read_engine=app.state.read_engine)
        feed_state = FeedState(state)  # type: ignore[arg-type]
        bus.set_enricher(feed_state.enrich, sent=feed_state.sent)
        bus.subscribe(lambda bid, m: seen.append(m))
    reads: list[str] = []

    @sa_event.listens_for(app.state.read_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *args) -> None:
        if _in_enrich() and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    rw = room_world(db, world, clock.now())
    clock.advance(minutes=40)  # 08:40, entry open
    try:
        per_event = []
        for n, cand in enumerate(rw.in_room("T01")[:5]):
            check_in(client, rw, cand)
            before = len(reads)
            at = clock.now().isoformat()
            buses[n % 2].publish(rw.batch_id, "checkin", "T01", candidate_id=cand.id, session_id=rw.session_id, at=at)
            per_event.append(len(reads) - before)
            assert seen[-1]["room"] == whole_read(app, rw, "T01") and seen[-1]["room"]["present"] == n + 1
        # Each process reads the room once, the first time it sends; then neither reads.
        assert per_event[0] >= 6 and per_event[1] >= 6 and per_event[2:] == [0, 0, 0], per_event

        incident(client, rw, rw.in_room("T01")[0])  # another kind of event, through the other process
        buses[1].publish(rw.batch_id, "incident", "T01", session_id=rw.session_id)
        cand = rw.in_room("T01")[5]
        check_in(client, rw, cand)
        before = len(reads)
        buses[0].publish(
            rw.batch_id, "checkin", "T01", candidate_id=cand.id, session_id=rw.session_id, at=clock.now().isoformat()
        )
        assert len(reads) > before  # read whole again
        assert seen[-1]["room"] == whole_read(app, rw, "T01") and seen[-1]["room"]["incidents"] == 1
    finally:
        sa_event.remove(app.state.read_engine, "before_cursor_execute", _count)
