"""What the live feed sends over the wire (考场实时动态, R-DAY-3, issue #18): an event published once
is decoded once and sent as the same text to every client of a view, and a batch's events are
subscribed one connection at a time. proctor/feed.py's connections use these."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def _parse(raw: bytes) -> dict[str, Any]:
    # The channels plugin hands the same bytes object to every subscriber: decode it once.
    return json.loads(raw)


_SEQ_HEAD = b'{"seq":'


@lru_cache(maxsize=256)
def _text(raw: bytes) -> str:
    """The event as published, as text: one per event for every client that forwards it (issue #18)."""
    return raw.decode()


@lru_cache(maxsize=1024)
def _renumbered(raw: bytes, seq: int) -> str:
    """The event under a connection's own number: made once per (event, number), so the proctors
    of one room, numbered alike, share one string (issue #18).

    examday/events.py publishes ``{"seq":N,…}`` with the number first: the rest of the text is
    kept as it is and only the number replaced, so the event is never encoded again.
    """
    if raw.startswith(_SEQ_HEAD):
        comma = raw.find(b",", len(_SEQ_HEAD))
        if comma > 0 and raw[len(_SEQ_HEAD) : comma].isdigit():
            return f'{{"seq":{seq},{_text(raw)[comma + 1 :]}'
    return json.dumps({**_parse(raw), "seq": seq}, ensure_ascii=False)


# One per event loop (a server process has one; tests make many).
_subscribing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def subscription(bus: Any, batch_id: int) -> AsyncIterator[Any]:
    """The batch's events, subscribed one connection at a time (issue #18).

    redis-py's pub/sub object opens its connection on its first SUBSCRIBE; two first
    subscriptions at once (two batches' screens connecting to a fresh process) each open one,
    the object keeps the last, and the other batch's events arrive on a connection nobody reads:
    its screens get their snapshot and then nothing. Taking turns costs one round trip.
    """
    loop = asyncio.get_running_loop()
    lock = _subscribing.setdefault(loop, asyncio.Lock())
    async with AsyncExitStack() as stack:
        async with lock:
            subscriber = await stack.enter_async_context(bus.plugin.start_subscription(bus.channel(batch_id)))
        yield subscriber
