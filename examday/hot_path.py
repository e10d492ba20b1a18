"""The hot paths (issue #18): a request done whole in one worker thread — the check-in at the
door, and the recorders' segment hooks, a province's busiest writers.

A check-in through the ordinary route crossed threads three times — the middleware's token
check, the handler, the publishing of its event after the answer — and ran beside every other
request's threads. With eight kiosks at once, handing the interpreter lock between those threads
cost as much CPU as the check-in itself. A route served here (``AUTH_IN_HANDLER`` in its ``opt``)
reads its body on the event loop and then, in one worker thread of its own lane, checks the
caller's token and role (R-STAFF-4), decodes the body, does its work, commits, and publishes the
events that committed: one crossing, and a lane as wide as the database can use (SQLite has one
writer at a time). The answers are the ordinary ones: an unknown or expired token is refused
before the body is even looked at, a malformed body gets the ``invalid_input`` of every other
route, and a refusal rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import msgspec
from litestar import Request, Response
from litestar.di import Provide
from litestar.exceptions import ValidationException
from sqlmodel import Session

from examday.events import committed_events, publish_all
from examday.web import TOKEN_EXPIRED, DeferredToken, RequestContext, unauthenticated

T = TypeVar("T")

# How many requests of a lane run at once in one server process: SQLite writes one at a time
# (a second thread only waits for the interpreter lock); PostgreSQL's round trips leave room for two.
LANE_WIDTH = {"sqlite": 1}
DEFAULT_WIDTH = 2

_LANES = "examday_hot_path_lanes"  # on the app's State: one set of lanes per app, made on its loop


def _lane(request: Request, name: str) -> anyio.CapacityLimiter:
    state = request.app.state
    lanes: dict[str, anyio.CapacityLimiter] = state.setdefault(_LANES, {})
    lane = lanes.get(name)
    if lane is None:
        lane = lanes[name] = anyio.CapacityLimiter(LANE_WIDTH.get(state.engine.dialect.name, DEFAULT_WIDTH))
    return lane


async def run(
    request: Request, roles: tuple[str, ...] | None, work: Callable[[RequestContext, bytes], Response]
) -> Response:
    """``work(ctx, body)`` for a caller of one of ``roles`` (None: a route that authenticates its
    body itself, as the recorders' hook does by its signature), in one worker thread of the
    route's lane; its transaction committed if it returns, rolled back if it raises."""
    auth = request.scope.get("auth")
    if roles is not None and auth is None:  # no credentials at all: refused here, never queued in the lane
        raise unauthenticated()
    body = await request.body()
    state = request.app.state

    def whole() -> Response:
        db = Session(state.engine, expire_on_commit=False)
        try:
            ctx = RequestContext(
                db=db,
                actor=None,
                now=state.clock.now(),
                state=state,
                expired=auth == TOKEN_EXPIRED,
                deferred=auth.token if isinstance(auth, DeferredToken) else None,
            )
            if roles is not None:
                ctx.require(*roles)
            answer = work(ctx, body)
            if db.in_transaction():
                db.commit()
            return answer
        finally:
            db.close()  # anything not committed is rolled back
            if events := committed_events(db):  # after the commit, before the answer: no second crossing
                publish_all(state.events, events)

    # Not cancellable: a client that hangs up does not leave a transaction half-finished.
    return await anyio.to_thread.run_sync(whole, limiter=_lane(request, request.url.path))


def decode(body: bytes, kind: type[T]) -> T:
    """The JSON body as ``kind``, or the ``invalid_input`` refusal every route gives (422)."""
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise ValidationException(detail="invalid body", extra=[{"message": str(exc), "source": "body"}]) from None
    except msgspec.DecodeError:
        raise ValidationException(
            detail="invalid body", extra=[{"message": "malformed JSON", "source": "body"}]
        ) from None


def documented_body(kind: type[Any]) -> dict[str, Provide]:
    """Route ``dependencies`` that show ``kind`` as the JSON request body in the OpenAPI document,
    for a route that reads its body itself: kiosks, the fuzz tests and the route-by-role walk read
    the body from there. Litestar documents a dependency's ``data`` parameter as the route's body;
    the handler never asks for this one, so it never runs and never reads the body first."""

    def body(data: Any) -> None:
        return None

    body.__annotations__ = {"data": kind, "return": None}
    return {"documented_body": Provide(body, sync_to_thread=False)}
