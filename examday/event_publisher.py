"""The thread that hands a server process's committed live events to the bus (实时动态, R-DAY-3).

A request's events used to be published from a worker thread of their own, one thread hop and
one room-state read per check-in. One long-lived thread per process takes them instead, in the
order they were handed over: what queued while it was busy goes out in one ``publish_many``, so
a burst at the door costs one read per room (``proctor.feed_state``), not one per check-in. The
request still waits until its events are sent, as before: a client that gets its answer and then
asks the feed finds the event there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import Any

log = logging.getLogger("examday.events")

# The events, and the future of the request waiting on them (None: nobody waits).
_Work = tuple[list[Any], "asyncio.Future[None] | None"]


class Publisher:
    def __init__(self, publish_many: Callable[[list[Any]], object]) -> None:
        self._publish_many = publish_many
        self._queue: SimpleQueue[_Work | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="examday-publisher", daemon=True)
        self._thread.start()

    async def submit(self, events: list[Any]) -> None:
        """Hand ``events`` over and wait until they are sent."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((events, future))
        await asyncio.shield(future)  # a client that hangs up does not take its events back

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            work = [self._queue.get()]
            while work[-1] is not None:  # everything that queued meanwhile, in one go
                try:
                    work.append(self._queue.get_nowait())
                except Empty:
                    break
            done = [w for w in work if w is not None]
            if done:
                try:
                    self._publish_many([e for events, _ in done for e in events])
                except Exception as exc:  # the changes are committed; clients resync at their next event
                    log.error("live feed: publishing failed (%s)", type(exc).__name__)
                _wake([f for _, f in done if f is not None])
            if work[-1] is None:
                return


def _wake(futures: list[asyncio.Future[None]]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for f in futures:
        by_loop.setdefault(f.get_loop(), []).append(f)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, waiting)  # one wake-up of the loop for all of them


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for f in futures:
        if not f.done():
            f.set_result(None)
