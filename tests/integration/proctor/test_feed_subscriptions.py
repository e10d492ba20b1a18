"""Screens of several batches connecting at once to a fresh server process all get their events
(R-DAY-3, issue #18): the first subscriptions of a process take turns, else redis-py opens one
pub/sub connection per concurrent first SUBSCRIBE, keeps the last, and the other batches' events
arrive where nobody reads them (found by bench/province: whole institutions' screens stayed still)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import pytest

from examday.events import EventBus
from proctor import feed
from tests.support import run_coroutine

REDIS_URL = os.environ.get("EXAMDAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


def _bus() -> EventBus:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return EventBus(REDIS_URL, f"examday-test:{uuid.uuid4().hex[:8]}")


def test_first_subscriptions_to_many_batches_at_once_all_receive():
    bus = _bus()
    batches = [1, 2, 3, 4]
    got: dict[int, list[int]] = {b: [] for b in batches}

    async def screen(bid: int, ready: asyncio.Event) -> None:
        async with feed.subscription(bus, bid) as subscriber:
            ready.set()
            async for raw in subscriber.iter_events():
                got[bid].append(json.loads(raw)["seq"])

    async def main() -> None:
        await bus.plugin._on_startup()
        try:
            ready = [asyncio.Event() for _ in range(2 * len(batches))]
            # Two screens per batch, all started in the same tick: the race the lock closes.
            tasks = [asyncio.create_task(screen(batches[i % len(batches)], ready[i])) for i in range(len(ready))]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 10)
            await asyncio.sleep(0.2)
            for bid in batches:
                for _ in range(3):
                    await asyncio.to_thread(bus.publish, bid, "note", "T01")
            for _ in range(100):
                if all(len(v) == 6 for v in got.values()):
                    break
                await asyncio.sleep(0.05)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await bus.plugin._on_shutdown()

    run_coroutine(main())
    assert {b: sorted(v) for b, v in got.items()} == {b: [1, 1, 2, 2, 3, 3] for b in batches}
