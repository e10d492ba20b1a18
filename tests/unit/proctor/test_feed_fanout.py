"""Feed fan-out is encoded once per event, not once per client (issue #18, R-DAY-3).

Every connection of one process gets the same published bytes object from the channels plugin;
the connections of one view must send one shared string, and a proctor's renumbered event must
be the published text with only its number replaced."""

from __future__ import annotations

import json
from types import SimpleNamespace

from examday.events import encode
from proctor import feed
from tests.support import run_coroutine


class Socket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)


def connection(rooms: frozenset[str] | None, batch_seq: int, sent_seq: int) -> feed._Connection:
    view = SimpleNamespace(batch=SimpleNamespace(id=1), sees=lambda code: rooms is None or code in rooms)
    conn = feed._Connection(Socket(), None, view, None)  # type: ignore[arg-type]
    conn.batch_seq, conn.sent_seq = batch_seq, sent_seq
    return conn


def published(seq: int, room: str, cid: int) -> bytes:
    # As examday/events.py puts it on the wire: the number first, then the enriched event.
    return encode(
        {
            "seq": seq,
            "type": "event",
            "event": "checkin",
            "room_code": room,
            "candidate_id": cid,
            "room": {"present": 3, "name": "理论考场1"},
        }
    )


def test_one_encoding_per_event_for_many_clients(monkeypatch):
    """Issue #18: 50 office screens and 50 proctors of one room, one event: json.dumps is never
    called, and every client of one view is sent the very same string object."""
    raw = published(41, "T01", 9)
    calls = []
    real_dumps = json.dumps
    monkeypatch.setattr(feed.json, "dumps", lambda *a, **k: calls.append(a) or real_dumps(*a, **k))
    feed._text.cache_clear()
    feed._renumbered.cache_clear()
    offices = [connection(None, 40, 40) for _ in range(50)]
    proctors = [connection(frozenset({"T01"}), 40, 7) for _ in range(50)]

    async def fan_out() -> None:
        for c in offices + proctors:
            await c.on_event(raw)

    run_coroutine(fan_out())
    assert calls == []
    office_texts = [c.socket.sent[0] for c in offices]
    proctor_texts = [c.socket.sent[0] for c in proctors]
    assert all(t is office_texts[0] for t in office_texts)
    assert all(t is proctor_texts[0] for t in proctor_texts)
    assert office_texts[0] == raw.decode()
    assert json.loads(proctor_texts[0]) == {**json.loads(raw), "seq": 8}
    assert feed._text.cache_info().misses == 1 and feed._renumbered.cache_info().misses == 1


def test_a_proctor_skips_other_rooms_and_keeps_its_own_numbers():
    """R-DAY-3: a proctor's stream has no gaps; another room's event moves the batch number only."""
    conn = connection(frozenset({"T01"}), 10, 3)

    async def run() -> None:
        await conn.on_event(published(11, "T02", 1))
        await conn.on_event(published(12, "T01", 2))

    run_coroutine(run())
    assert [json.loads(t)["seq"] for t in conn.socket.sent] == [4]
    assert json.loads(conn.socket.sent[0])["candidate_id"] == 2 and conn.batch_seq == 12


def test_an_event_published_otherwise_is_still_renumbered():
    """The renumbering does not depend on the number being first: it falls back to encoding."""
    raw = json.dumps({"type": "event", "seq": 5, "room_code": "T01"}).encode()
    assert json.loads(feed._renumbered(raw, 2)) == {"type": "event", "seq": 2, "room_code": "T01"}
