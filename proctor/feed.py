"""The live feed of a batch's rooms (考场实时动态, R-DAY-3): ``WS /ws/batches/{bid}``.

A client gets ``{type: "snapshot", seq, rooms, …}`` first, then one
``{type: "event", seq, event, room_code, …}`` per change, ``seq`` rising by
one, so a client that misses one sees the gap and sends
``{"type": "snapshot"}`` (or reconnects) for a fresh snapshot.

On connect the handler subscribes first, then reads the batch's current
sequence number S, then builds the snapshot from the database and sends it
with S; afterwards it forwards events numbered above S. An event below or at
S was published after its commit, so the snapshot already holds it; one above
S may be in the snapshot too, which is harmless because events carry absolute
state (the room's counts, the seat's status). If the stream itself skips a
number (an event lost in transport), the handler sends a fresh snapshot.

A proctor sees only their own rooms: events of other rooms are not sent, and
the connection numbers what it sends itself, so a proctor's stream has no
gaps either. The admin, the centre and the supervisor see every room, and for
them the connection's numbers are the batch's.

The entry cutoff (R-TIME-1) is announced once per room by ``emit_cutoffs``,
which the app runs every few seconds; ``CutoffNotice`` makes it once across
server processes. Tests call it directly with the time they want.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy import create_engine
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from examday import audit
from examday.access import BatchView, batch_view
from examday.accounts.services import accounts
from examday.actor import SYSTEM
from examday.clock import iso
from examday.errors import Refusal
from examday.plans.models import Batch, ExamSession
from examday.ticker import ticking
from examday.web import unauthenticated
from proctor import credentials, rules
from proctor import rooms as roomstate
from proctor.access import session_of
from proctor.feed_state import FeedState
from proctor.feed_wire import _parse, _renumbered, _text, subscription
from proctor.models import CutoffNotice

log = logging.getLogger("examday.proctor.feed")

CUTOFF_INTERVAL_SECONDS = 5.0


# -- snapshot and event state -------------------------------------------------------------


def snapshot(state: State, view: BatchView, session_id: int | None = None) -> dict[str, Any]:
    """The batch's current seq and, read after it, the rooms this viewer sees."""
    now = state.clock.now()
    seq = state.events.current_seq(view.batch.id)
    with Session(state.read_engine) as db:
        batch = db.get(Batch, view.batch.id)
        assert batch is not None and batch.id is not None  # the view was built from it
        session = session_of(db, batch, session_id) if session_id else roomstate.current_session(db, batch, now)
        rooms = []
        if session is not None:
            rooms = [r for r in roomstate.rooms_state(db, batch, session, now) if view.sees(r["room_code"])]
        return {
            "type": "snapshot",
            "seq": seq,
            "batch_id": batch.id,
            "at": iso(now),
            "batch": {
                "id": batch.id,
                "occupation_code": batch.occupation_code,
                "occupation_name": batch.occupation_name,
                "level": batch.level,
                "exam_date": batch.exam_date.isoformat(),
                "status": batch.status,
            },
            "session": roomstate.session_body(session, batch) if session else None,
            "sessions": [roomstate.session_body(s, batch) for s in roomstate.sessions_of(db, batch.id)],
            "rooms": rooms,
        }


def read_engine(database_url: str, engine: Engine) -> Engine:
    """Where the feed reads: on SQLite a read-only engine whose transactions start with a
    deferred BEGIN, so a snapshot or an event's state never queues behind a writer (WAL
    readers do not block); elsewhere the app's own engine."""
    if not database_url.startswith("sqlite"):
        return engine
    reader = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa_event.listens_for(reader, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA query_only=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa_event.listens_for(reader, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN")  # one consistent snapshot for all the reads of one event

    return reader


def install_feed(state: State) -> None:
    state.read_engine = read_engine(state.settings.database_url, state.engine)
    feed_state = FeedState(state)  # the room state each event carries (proctor/feed_state.py)
    state.events.set_enricher(feed_state.enrich, sent=feed_state.sent)


# -- the entry cutoff ---------------------------------------------------------------------


def emit_cutoffs(state: State, now: datetime) -> list[tuple[int, str]]:
    """Announce, once per room, that entry has closed and who is absent (R-TIME-1, R-DAY-3).

    Returns the (session id, room code) pairs announced by this call.
    """
    announced: list[tuple[int, str]] = []
    with Session(state.engine, expire_on_commit=False) as db:
        sessions = db.exec(
            select(ExamSession).where(ExamSession.starts_at <= now, ExamSession.starts_at > now - timedelta(days=1))
        ).all()
        for s in sessions:
            assert s.id is not None
            batch = db.get(Batch, s.batch_id)
            if batch is None or batch.status == "draft":
                continue
            assert batch.id is not None
            cutoff = rules.entry_cutoff(s.starts_at, roomstate.batch_config(batch).entry_close_minutes)
            if now < cutoff or now >= s.ends_at:
                continue
            done = set(db.exec(select(CutoffNotice.room_id).where(CutoffNotice.session_id == s.id)).all())
            for room in roomstate.session_rooms(db, s):
                assert room.id is not None
                if room.id in done:
                    continue
                st = roomstate.room_state(db, batch, s, room.code, now)
                absent = st["absent"] if st else 0
                notice = CutoffNotice(batch_id=batch.id, session_id=s.id, room_id=room.id, absent=absent, at=now)
                db.add(notice)
                try:
                    db.flush()
                    audit.record(
                        db,
                        SYSTEM,
                        "room.entry_closed",
                        "room",
                        room.id,
                        {"session_id": s.id, "room_code": room.code, "absent": absent},
                        now,
                        batch.institution_id,
                    )
                    db.commit()
                except IntegrityError:  # another server process announced it first
                    db.rollback()
                    continue
                announced.append((s.id, room.code))
                state.events.publish(batch.id, "absent", room.code, session_id=s.id, cutoff_at=iso(cutoff))
    return announced


@asynccontextmanager
async def feed_lifespan(app) -> AsyncIterator[None]:
    state = app.state
    async with state.events.running():
        try:
            async with ticking(state, CUTOFF_INTERVAL_SECONDS, emit_cutoffs, "cutoff tick"):
                yield
        finally:
            if state.read_engine is not state.engine:
                state.read_engine.dispose()


# -- the WebSocket ------------------------------------------------------------------------


def _open_view(state: State, socket: WebSocket, batch_id: int, session_id: int | None) -> BatchView:
    actor = socket.scope.get("user")
    if actor is None:
        raise unauthenticated(socket)  # an expired token says token_expired, so the tablet asks to sign in
    with Session(state.read_engine) as db:
        view = batch_view(db, actor, batch_id)
        if session_id:
            session_of(db, view.batch, session_id)
        return view


class _Connection:
    """One client: what it may see, and the numbers it has been sent."""

    def __init__(self, socket: WebSocket, state: State, view: BatchView, session_id: int | None) -> None:
        self.socket, self.state, self.view, self.session_id = socket, state, view, session_id
        self.batch_seq = 0  # the last batch event accounted for
        self.sent_seq = 0  # the last number this connection sent

    async def send_snapshot(self) -> None:
        snap = await anyio.to_thread.run_sync(snapshot, self.state, self.view, self.session_id)
        self.batch_seq = max(self.batch_seq, snap["seq"])
        self.sent_seq = max(self.sent_seq, self.batch_seq)
        snap["seq"] = self.sent_seq
        await self.socket.send_text(json.dumps(snap, ensure_ascii=False))

    async def on_event(self, raw: bytes) -> None:
        msg = _parse(raw)  # shared by every connection of this process: read only
        n = msg.get("seq", 0)
        if n <= self.batch_seq:
            return  # already in the snapshot
        if n > self.batch_seq + 1:
            log.warning("feed of batch %s skipped from %s to %s: resync", self.view.batch.id, self.batch_seq, n)
            await self.send_snapshot()
            return
        self.batch_seq = n
        if not self.view.sees(msg.get("room_code")):
            return
        self.sent_seq += 1
        if self.sent_seq == n:  # the batch's own numbering: forward the event as published
            await self.socket.send_text(_text(raw))
        else:
            await self.socket.send_text(_renumbered(raw, self.sent_seq))

    async def on_client(self, data: str) -> None:
        try:
            msg = json.loads(data)
        except ValueError:
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind in ("snapshot", "resync"):
            previous = self.session_id
            try:
                if "session_id" in msg:  # the page switched to another session of the batch
                    self.session_id = int(msg["session_id"] or 0) or None
                await self.send_snapshot()
            except (Refusal, ValueError, TypeError):
                self.session_id = previous
                await self.socket.send_text(
                    json.dumps(
                        {
                            "type": "error",
                            "code": "not_found",
                            "message": "场次不存在",
                            "message_en": "No such session.",
                        }
                    )
                )
        elif kind == "ping":
            await self.socket.send_text(json.dumps({"type": "pong", "seq": self.sent_seq}))


@websocket("/ws/batches/{bid:int}")
async def batch_feed(socket: WebSocket, bid: FromPath[int]) -> None:
    state = socket.app.state
    await socket.accept()
    try:
        session_id = int(socket.query_params.get("session_id") or 0) or None
        view = await anyio.to_thread.run_sync(_open_view, state, socket, bid, session_id)
    except (Refusal, ValueError) as r:
        r = r if isinstance(r, Refusal) else Refusal("invalid_input", "参数无效", "Bad session_id.", None, 422)
        await socket.send_text(json.dumps({"type": "error", **r.body()}, ensure_ascii=False))
        await socket.close(code=4000 + r.status, reason=r.code)
        return
    # The socket lives only as long as its credentials (proctor/credentials.py, R-STAFF-4).
    token: str = socket.scope.get("auth") or ""
    account_id = socket.scope["user"].account_id
    digest = accounts.token_digest(token)
    bus = state.events
    conn = _Connection(socket, state, view, session_id)
    inbox: asyncio.Queue = asyncio.Queue()

    async with subscription(bus, bid) as subscriber:

        async def pump_events() -> None:
            async for raw in subscriber.iter_events():
                await inbox.put(("event", raw))

        async def pump_client() -> None:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    await inbox.put(("closed", None))
                    return
                raw = message.get("bytes")
                text = message.get("text") or (raw if isinstance(raw, bytes) else b"").decode("utf-8", "replace")
                await inbox.put(("client", text))

        watch = credentials.watch_of(state).watching(digest, account_id, lambda: inbox.put_nowait(("revoked", None)))
        async with watch if token else nullcontext(), anyio.create_task_group() as tg:
            tg.start_soon(pump_events)
            tg.start_soon(pump_client)
            try:
                await conn.send_snapshot()
                while True:
                    kind, payload = await inbox.get()
                    if kind == "closed":
                        break
                    if kind == "revoked" or (token and credentials.revoked_here(state.engine, digest, account_id)):
                        gone = credentials.revoked()
                        await socket.send_text(json.dumps({"type": "error", **gone.body()}, ensure_ascii=False))
                        await socket.close(code=4401, reason=gone.code)
                        break
                    if kind == "event":
                        await conn.on_event(payload)
                    else:
                        await conn.on_client(payload)
            except Exception as exc:  # a client gone mid-send ends this connection only
                log.info("feed connection ended: %s", type(exc).__name__)
            finally:
                tg.cancel_scope.cancel()


ROUTES = [batch_feed]
