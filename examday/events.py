"""Domain events for the live feed (R-DAY-3).

A service publishes after its transaction commits; the proctor feed turns the
events into WebSocket messages. This module is the seam: the live-feed issue
puts Litestar channels (memory or Redis) behind ``publish``.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

Listener = Callable[[int, dict[str, Any]], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def publish(self, batch_id: int, event: str, room_code: str | None = None, **data: Any) -> None:
        message = {"event": event, "room_code": room_code, **data}
        for listener in list(self._listeners):
            listener(batch_id, message)
