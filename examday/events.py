"""Domain events for the live feed (实时动态, R-DAY-3).

A service publishes after its transaction commits; the proctor feed turns the
events into WebSocket messages. Delivery goes through Litestar channels: the
in-memory backend in one process, Redis pub/sub when ``EXAMDAY_REDIS_URL`` is
set, so that a check-in served by one server process reaches a proctor
connected to another.

Every event of a batch gets a sequence number that rises by one, so a client
that misses one sees the gap and asks for a fresh snapshot. The number is
assigned and the event handed to the transport in one critical section, so
the order on the wire is the order of the numbers:

* in one process, under a per-batch lock, the event is queued onto the event
  loop with ``call_soon_threadsafe`` (FIFO), and the channels plugin delivers
  in that order;
* with Redis, a Lua script does ``INCR`` and ``PUBLISH`` in one step, and a
  per-batch Redis lock spans the whole publish, so two processes never
  interleave.

An optional *enricher* runs inside the same critical section: the proctor
feed uses it to add the room's absolute state (counts, the seat's status) read
from the database. Because that read happens after every lower-numbered event
was handed over, the event with the highest number always carries the newest
state, and applying an event twice changes nothing. Events that queue behind
the lock go out together, with one read per room for all of them.

Publishing never raises into the caller: the change is already committed, and
a client that misses the event resynchronises on the next one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

log = logging.getLogger("examday.events")

Listener = Callable[[int, dict[str, Any]], None]
# (batch id, events in order) -> the same events with the state they carry added
Enricher = Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]]
# (batch id, the numbers the drained events got, None for one lost)
Sent = Callable[[int, list["int | None"]], None]

# KEYS[1] the batch's counter, KEYS[2] the channel, KEYS[3] the batch's recent events;
# ARGV[1] the event as a JSON object without "seq", ARGV[2] how many recent events to keep,
# ARGV[3] what the event says of itself (``RECENT_FIELDS``), the same way. The number goes in
# front of the other fields, so the script needs no JSON library and the message is published,
# and its headline kept, in the same atomic step as the INCR.
_SEQ_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
local body = ARGV[1]
local rest = string.sub(body, 2)
local sep = ','
if rest == '}' then sep = '' end
redis.call('PUBLISH', KEYS[2], '{"seq":' .. seq .. sep .. rest)
local head = string.sub(ARGV[3], 2)
sep = ','
if head == '}' then sep = '' end
redis.call('RPUSH', KEYS[3], '{"seq":' .. seq .. sep .. head)
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
return seq
"""
# KEYS[1] the batch's counter, KEYS[2] its recent events; ARGV[1] a number already seen. The
# current number, then the events numbered after the one seen (the newest at the list's end).
_SINCE_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local seen = tonumber(ARGV[1])
if seen >= current then return {current} end
local out = redis.call('LRANGE', KEYS[2], seen - current, -1)
table.insert(out, 1, current)
return out
"""
# How many of a batch's latest events Redis keeps for the other processes' feeds, and for how
# long (issue #18): a feed keeps a room's facts for seconds, so a minute is plenty. Only what an
# event says of itself is kept — never the room's state (masked names, tickets) it carries.
RECENT_EVENTS = 256
RECENT_SECONDS = 60
RECENT_FIELDS = ("event", "room_code", "session_id", "candidate_id", "at", "late")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        from examday.clock import iso

        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


class _Pending:
    __slots__ = ("done", "message", "seq")

    def __init__(self, message: dict[str, Any]) -> None:
        self.message, self.done = message, False
        self.seq: int | None = None


class EventBus:
    """Sequenced publish/subscribe per batch; see the module docstring."""

    def __init__(self, redis_url: str | None = None, namespace: str = "examday") -> None:
        self.redis_url = redis_url
        self.namespace = namespace
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._batch_locks: dict[int, threading.Lock] = {}
        self._seq: dict[int, int] = {}
        self._queues: dict[int, deque[_Pending]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._enricher: Enricher | None = None
        self._sent: Sent | None = None
        self._redis = None
        self._script = None
        self._since_script = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, health_check_interval=30)
            self._script = self._redis.register_script(_SEQ_PUBLISH_LUA)
            self._since_script = self._redis.register_script(_SINCE_LUA)
        self.plugin = self._make_plugin()

    # -- wiring -----------------------------------------------------------------

    def _make_plugin(self) -> ChannelsPlugin:
        from litestar.channels import ChannelsBackend, ChannelsPlugin

        backend: ChannelsBackend

        if self.redis_url:
            import redis.asyncio
            from litestar.channels.backends.redis import RedisChannelsPubSubBackend

            backend = RedisChannelsPubSubBackend(redis=redis.asyncio.Redis.from_url(self.redis_url))
        else:
            from litestar.channels.backends.memory import MemoryChannelsBackend

            backend = MemoryChannelsBackend()
        return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)

    def channel(self, batch_id: int) -> str:
        # The pub/sub backend subscribes to this exact name; Redis pub/sub ignores the
        # database number, so the namespace keeps two installations on one Redis apart.
        return f"{self.namespace}:batch:{batch_id}"

    def _seq_key(self, batch_id: int) -> str:
        return f"{self.namespace}:seq:{batch_id}"

    def _recent_key(self, batch_id: int) -> str:
        return f"{self.namespace}:recent:{batch_id}"

    def set_enricher(self, enricher: Enricher | None, sent: Sent | None = None) -> None:
        """``enricher`` adds state to the events of a drain; ``sent`` then hears the numbers they
        got (None for one lost), so an enricher that keeps state knows what it has seen."""
        self._enricher, self._sent = enricher, sent

    def subscribe(self, listener: Listener) -> None:
        """An in-process listener, called with every sequenced event this process publishes."""
        with self._lock:
            self._listeners.append(listener)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[EventBus]:
        """Bind to the app's event loop for the app's lifetime (threads hand events to it)."""
        self._loop = asyncio.get_running_loop()
        try:
            yield self
        finally:
            self._loop = None

    # -- sequence -----------------------------------------------------------------

    def current_seq(self, batch_id: int) -> int:
        """The number of the last event of this batch handed to the transport."""
        if self._redis is not None:
            value = self._redis.get(self._seq_key(batch_id))
            return int(value or 0)
        with self._lock:
            return self._seq.get(batch_id, 0)

    def since(self, batch_id: int, seen: int) -> list[dict[str, Any]] | None:
        """The batch's events numbered after ``seen``, in order, each with its number and what it
        says of itself (``RECENT_FIELDS``); [] when none went out since; None when that cannot be told (too many, or
        lost). Another server process's events are how a process's kept state learns what they
        changed (``proctor.feed_state``). One round trip, as ``current_seq`` is."""
        if self._since_script is None:
            with self._lock:  # one process: every event went out through this bus
                return [] if self._seq.get(batch_id, 0) == seen else None
        raw = self._since_script(keys=[self._seq_key(batch_id), self._recent_key(batch_id)], args=[seen])
        current, kept = int(raw[0]), [json.loads(m) for m in raw[1:]]
        if [m.get("seq") for m in kept] != list(range(seen + 1, current + 1)):
            return None
        return kept

    def _batch_lock(self, batch_id: int) -> threading.Lock:
        with self._lock:
            lock = self._batch_locks.get(batch_id)
            if lock is None:
                lock = self._batch_locks[batch_id] = threading.Lock()
            return lock

    def _cross_process_lock(self, batch_id: int):
        if self._redis is None:
            return nullcontext()
        # Short poll: the default 0.1 s sleep would dominate the feed's latency under contention.
        return self._redis.lock(
            f"{self.namespace}:lock:{batch_id}", timeout=5, sleep=0.002, blocking_timeout=5, thread_local=False
        )

    # -- publish --------------------------------------------------------------------

    def publish(self, batch_id: int, event: str, room_code: str | None = None, **data: Any) -> int | None:
        """Sequence and send one event of ``batch_id``; returns its number (None if it was lost)."""
        return self.publish_many([(batch_id, event, room_code, data)])[0]

    def publish_many(self, events: list[Queued]) -> list[int | None]:
        """``publish`` for each ``(batch_id, event, room_code, data)``, in order, each batch's
        events drained together (one state read per room for all of them)."""
        items: list[tuple[int, _Pending]] = []
        with self._lock:
            for batch_id, event, room_code, data in events:
                item = _Pending({"type": "event", "event": event, "room_code": room_code, **data})
                self._queues.setdefault(batch_id, deque()).append(item)
                items.append((batch_id, item))
        for batch_id in dict.fromkeys(b for b, _ in items):
            try:
                with self._batch_lock(batch_id):
                    if any(not i.done for b, i in items if b == batch_id):  # else sent by a publisher ahead
                        self._drain(batch_id)
            except Exception as exc:  # the change is committed; a client resyncs at its next event
                log.error("live feed: events of batch %s not published (%s)", batch_id, type(exc).__name__)
        for batch_id, item in items:
            if item.seq is None:
                continue
            for listener in list(self._listeners):
                try:
                    listener(batch_id, {"seq": item.seq, **item.message})
                except Exception as exc:
                    log.error("live feed listener failed: %s", type(exc).__name__)
        return [item.seq for _, item in items]

    def _drain(self, batch_id: int) -> None:
        """Send every event of the batch waiting in this process, in arrival order.

        Events that queued up while another was being sent go out together: the
        enricher reads each room's state once for all of them (a burst of check-ins
        at the door costs one read per room, not one per check-in).
        """
        with self._cross_process_lock(batch_id):
            with self._lock:
                queue = self._queues.get(batch_id)
                items = list(queue or ())
                if queue is not None:
                    queue.clear()
            messages = self._enrich(batch_id, [i.message for i in items])
            for item, message in zip(items, messages):
                item.done = True
                message["published_at"] = time.time()
                item.message = message
                try:
                    item.seq = self._send(batch_id, message)
                except Exception as exc:
                    log.error(
                        "live feed: event %s of batch %s lost (%s)", message.get("event"), batch_id, type(exc).__name__
                    )
            if self._sent is not None and items:
                try:
                    self._sent(batch_id, [i.seq for i in items])
                except Exception as exc:
                    log.error("live feed: after sending events of batch %s (%s)", batch_id, type(exc).__name__)

    def _enrich(self, batch_id: int, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._enricher is None or not messages:
            return messages
        try:
            enriched = self._enricher(batch_id, messages)
            if len(enriched) == len(messages):
                return enriched
            raise ValueError("the enricher must return one message per message")
        except Exception as exc:  # an event without its state is still worth sending
            log.error("live feed: enriching events of batch %s failed (%s)", batch_id, type(exc).__name__)
            return messages

    def _send(self, batch_id: int, message: dict[str, Any]) -> int:
        channel = self.channel(batch_id)
        if self._script is not None:
            keys = [self._seq_key(batch_id), channel, self._recent_key(batch_id)]
            head = encode({k: message[k] for k in RECENT_FIELDS if k in message})
            return int(self._script(keys=keys, args=[encode(message), RECENT_EVENTS, head, RECENT_SECONDS]))
        with self._lock:
            seq = self._seq.get(batch_id, 0) + 1
            self._seq[batch_id] = seq
        payload = encode({"seq": seq, **message})
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # FIFO onto the loop while the batch lock is held: wire order == seq order.
            loop.call_soon_threadsafe(self._deliver, payload, channel)
        return seq

    def _deliver(self, payload: bytes, channel: str) -> None:
        try:
            self.plugin.publish(payload, channel)
        except RuntimeError:  # the plugin is not started (app starting or stopping)
            log.warning("live feed: channels not running; event dropped")


def make_event_bus(settings) -> EventBus:
    """The bus for these settings: Redis when ``redis_url`` is set, else in memory.

    Processes that share a database share a feed, so the namespace comes from the
    database URL (hashed: it may hold a password).
    """
    namespace = "examday:" + hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return EventBus(redis_url=settings.redis_url, namespace=namespace)


# -- events queued on a transaction ------------------------------------------------------
#
# A service or handler queues its live events on the database session; they are handed to the
# bus only once the transaction that made the change commits, and dropped if it rolls back (the
# pattern of zulip's ``send_event_on_commit``). A client that reads the database on hearing an
# event therefore always finds what the event says, and a refused request announces nothing.
# The request's unit of work (``examday.web.provide_ctx``) publishes what committed.

Queued = tuple[int, str, str | None, dict[str, Any]]

_PENDING = "examday.events.pending"  # queued in the open transaction
_COMMITTED = "examday.events.committed"  # its transaction committed: ready to publish
_SAVEPOINTS = "examday.events.savepoints"  # SAVEPOINT -> how many events were pending when it began


def queue_event(db: Any, batch_id: int, event: str, room_code: str | None = None, **data: Any) -> None:
    """Publish this event once ``db``'s transaction commits; forget it if the transaction rolls back."""
    if not db.in_transaction():
        db.begin()  # the event belongs to a transaction, even one that has not touched the database yet
    db.info.setdefault(_PENDING, []).append((batch_id, event, room_code, data))


def queue_events(db: Any, events: list[Queued]) -> None:
    """``queue_event`` for each ``(batch_id, event, room_code, data)``, in order."""
    for batch_id, event, room_code, data in events:
        queue_event(db, batch_id, event, room_code, **data)


def committed_events(db: Any) -> list[Queued]:
    """The events whose transactions have committed, taken off the session (each is returned once)."""
    return db.info.pop(_COMMITTED, [])


def publish_all(bus: EventBus, events: list[Queued]) -> None:
    bus.publish_many(events)


def _install_transaction_hooks() -> None:
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session

    @sa_event.listens_for(Session, "after_transaction_create")
    def _savepoint_begins(session: Session, transaction: Any) -> None:
        if transaction.nested and session.info.get(_PENDING):
            session.info.setdefault(_SAVEPOINTS, {})[transaction] = len(session.info[_PENDING])

    @sa_event.listens_for(Session, "after_commit")
    def _committed(session: Session) -> None:
        # A released SAVEPOINT commits nothing yet: its events wait for the outer transaction.
        if session.in_nested_transaction() or not session.info.get(_PENDING):
            return
        session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_PENDING))

    @sa_event.listens_for(Session, "after_soft_rollback")
    def _rolled_back(session: Session, previous: Any) -> None:
        pending = session.info.get(_PENDING)
        if pending and previous.nested:  # back to the SAVEPOINT: drop what was queued since it began
            del pending[session.info.get(_SAVEPOINTS, {}).pop(previous, 0) :]

    @sa_event.listens_for(Session, "after_transaction_end")
    def _ended(session: Session, transaction: Any) -> None:
        if transaction.parent is None:  # rolled back or closed: what did not commit is forgotten
            session.info.pop(_PENDING, None)
            session.info.pop(_SAVEPOINTS, None)


_install_transaction_hooks()
