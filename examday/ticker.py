"""Background jobs that tick while the server runs (the entry cutoff, stale cameras)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

log = logging.getLogger("examday.ticker")


async def tick_forever(state: Any, interval: float, job: Callable[[Any, Any], Any], what: str) -> None:
    """Run ``job(state, now)`` in a worker thread every ``interval`` seconds.

    A failed tick is logged by its type only (the exception may carry personal
    data) and the next tick catches up, so one bad moment never stops the job."""
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(job, state, state.clock.now())
        except Exception as exc:
            log.error("%s failed: %s", what, type(exc).__name__)


@asynccontextmanager
async def ticking(state: Any, interval: float, job: Callable[[Any, Any], Any], what: str) -> AsyncIterator[None]:
    """``tick_forever`` for as long as the block runs (an app's lifespan); stopped on the way out."""
    task = asyncio.create_task(tick_forever(state, interval, job, what))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
