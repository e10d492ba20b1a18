"""The room state each live event carries (考场实时状态, R-DAY-3).

Every event of a room carries the room's absolute state (its counts, the seat's status), read
after every lower-numbered event of the batch was sent, so the newest event always carries the
newest state (``examday.events``). Reading the whole room for each check-in cost about a
millisecond of CPU per check-in (issue #18). So the feed keeps each room's facts
(``proctor.rooms.RoomLoad``) between events, and a check-in's event adds its own arrival (the
candidate, the time, whether late) to them without reading anything, as long as this process has
seen every event of the batch since it read them: its own, and with several server processes
the others' too, which Redis keeps the latest of (``EventBus.since``, one round trip) — a
province's morning on four processes otherwise read a room for nearly every check-in.

It reads the room whole again for any other kind of event (an incident, a seat move, a cutoff,
a withdrawal, a camera's change, an offline conflict … any of which may touch another room),
whichever process published it, for another process's events it cannot get back (more than
``RECENT_EVENTS`` of them, or lost), for a candidate who came in without a seat in the room, for
a check-in event that does not say when, and when the facts are older than ``FRESH_SECONDS``,
which bounds what a change without an event could leave unseen: a camera's state is computed
from the time of its last segment, so a camera falling silent shows within that bound (its ``camera`` event, when the stale check marks it, clears the facts at once). A
client's snapshot always reads the rooms whole (``proctor.feed.snapshot``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from litestar.datastructures import State
from sqlmodel import Session

from examday.clock import parse_iso
from examday.plans.models import Batch, ExamSession
from examday.rows import row_id
from proctor import rooms as roomstate
from proctor import rules

FRESH_SECONDS = 5.0
# A filed batch and its sessions are frozen (R-PLAN-1): kept a few seconds, not read for every event.
BATCH_FACTS_SECONDS = 5.0
# The one kind of event whose change the kept facts can take in by reading the room's arrivals.
_FOLDABLE = frozenset({"checkin"})


class FeedState:
    """One server process's enricher (``EventBus.set_enricher``): called under the batch's
    publishing lock, so one thread at a time touches a batch's entries."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._batches: dict[int, tuple[float, Batch, list[ExamSession]]] = {}
        self._rooms: dict[int, dict[tuple[int, str], tuple[float, roomstate.RoomLoad]]] = {}
        self._seen: dict[int, int] = {}  # batch -> its number after the last events this process sent

    def enrich(self, batch_id: int, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = self._rooms.setdefault(batch_id, {})
        seen = self._seen.get(batch_id)
        # Only facts still fresh are worth bringing up to date: else the room is read anyway.
        fresh = seen is not None and any(until > time.monotonic() for until, _ in kept.values())
        since = self.state.events.since(batch_id, seen) if fresh and seen is not None else None
        if since is None or not _fold(kept, since) or not all(m.get("event") in _FOLDABLE for m in messages):
            kept.clear()
        out = list(messages)
        wanted = [i for i, m in enumerate(messages) if m.get("room_code") and "room" not in m]
        if not wanted:
            return out
        now = self.state.clock.now()
        with Session(self.state.read_engine) as db:
            facts = self._batch_facts(db, batch_id)
            if facts is None:
                return out
            batch, batch_sessions = facts
            by_id = {s.id: s for s in batch_sessions}
            keyed: list[tuple[int, ExamSession, tuple[int, str]]] = []
            for i in wanted:
                m = messages[i]
                sid = m.get("session_id")
                session = by_id.get(sid) if sid else roomstate.pick_current(batch_sessions, batch, now)
                if session is not None:
                    keyed.append((i, session, (row_id(session), m["room_code"])))
            states: dict[tuple[int, str], dict[str, Any] | None] = {}
            for i, session, key in keyed:
                if key not in states:
                    mine = [messages[j] for j, _, k in keyed if k == key]
                    load = self._room(db, kept, batch, session, key, now, mine)
                    states[key] = roomstate.state_of(load, session, now, as_json=False) if load else None
                found = states[key]
                if found is not None:
                    out[i] = _with_state(messages[i], key[0], found)
        return out

    def sent(self, batch_id: int, seqs: list[int | None]) -> None:
        """After a drain: the batch's number this process left it at (forgotten if one was lost)."""
        if seqs and all(s is not None for s in seqs):
            self._seen[batch_id] = max(s for s in seqs if s is not None)
        else:
            self._seen.pop(batch_id, None)
            self._rooms.pop(batch_id, None)

    def _room(
        self,
        db: Session,
        kept: dict[tuple[int, str], tuple[float, roomstate.RoomLoad]],
        batch: Batch,
        session: ExamSession,
        key: tuple[int, str],
        now: Any,
        messages: list[dict[str, Any]],
    ) -> roomstate.RoomLoad | None:
        hit = kept.get(key)
        if hit is not None and hit[0] > time.monotonic():
            load = _with_arrivals(hit[1], messages)
            if load is not None:
                kept[key] = (hit[0], load)
                return load
        loads = roomstate.room_facts(db, batch, session, now, {key[1]})
        if not loads:
            kept.pop(key, None)
            return None
        kept[key] = (time.monotonic() + FRESH_SECONDS, loads[0])
        return loads[0]

    def _batch_facts(self, db: Session, batch_id: int) -> tuple[Batch, list[ExamSession]] | None:
        hit = self._batches.get(batch_id)
        if hit is not None and hit[0] > time.monotonic() and hit[1].status != "draft":
            return hit[1], hit[2]
        batch = db.get(Batch, batch_id)
        if batch is None:
            return None
        sessions = roomstate.sessions_of(db, batch_id)
        db.expunge_all()  # detached, they outlive this read
        self._batches[batch_id] = (time.monotonic() + BATCH_FACTS_SECONDS, batch, sessions)
        return batch, sessions


def _fold(kept: dict[tuple[int, str], tuple[float, roomstate.RoomLoad]], others: list[dict[str, Any]]) -> bool:
    """Take in the events other server processes sent since this one last did: their check-ins'
    arrivals, as this process's own. False (read everything again) for any other kind of event,
    or one that does not say its session and room."""
    for m in others:
        sid, code = m.get("session_id"), m.get("room_code")
        if m.get("event") not in _FOLDABLE or not isinstance(sid, int) or not isinstance(code, str):
            return False
        hit = kept.get((sid, code))
        if hit is not None:
            load = _with_arrivals(hit[1], [m])
            if load is None:
                del kept[(sid, code)]
            else:
                kept[(sid, code)] = (hit[0], load)
    return True


def _with_arrivals(load: roomstate.RoomLoad, messages: list[dict[str, Any]]) -> roomstate.RoomLoad | None:
    """The kept facts with each check-in's arrival added, as ``proctor.rooms.room_arrivals`` would
    read it; None when one names nobody seated here or no time (the room is then read whole, for
    a stranger's masked name and ticket)."""
    facts = load.facts
    seated = {s.candidate_id for s in facts.seats}
    arrivals = dict(facts.arrivals)
    for m in messages:
        cid, at = m.get("candidate_id"), m.get("at")
        if cid not in seated or not isinstance(at, str):
            return None
        if cid not in arrivals:  # one acceptance per candidate and session: a repeat changes nothing
            arrivals[cid] = rules.Arrival(cid, parse_iso(at), bool(m.get("late")))
    return dataclasses.replace(load, facts=dataclasses.replace(facts, arrivals=arrivals))


def _with_state(message: dict[str, Any], session_id: int, room: dict[str, Any]) -> dict[str, Any]:
    # Times become strings here, in the parts the event carries, not in the whole room's seat list.
    message = {**message, "session_id": session_id, "room": roomstate.jsonable(rules.counts_only(room))}
    cid = message.get("candidate_id")
    if cid is not None:
        seat = next((s for s in room["seats"] if s["candidate_id"] == cid), None)
        if seat is not None:
            message["seat_state"] = roomstate.jsonable(seat)
    if message.get("event") == "absent":
        message["seats"] = roomstate.jsonable([s for s in room["seats"] if s["status"] == "absent"])
    return message
