"""One unit of work per request (examday/web.py ``provide_ctx``) and live events after the commit
(examday/events.py ``queue_event``), on a small app of their own: a handler that returns has its
transaction committed before the answer is sent; one that raises (a Refusal too) changes nothing
and announces nothing; queued events go out only once their transaction has committed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Response
from litestar.testing import TestClient
from sqlalchemy import text
from sqlmodel import Session

from examday.clock import FixedClock
from examday.errors import Refusal
from examday.events import committed_events, queue_event
from examday.web import EXCEPTION_HANDLERS, Ctx, page_action, provide_ctx, publish_committed
from storage.db import make_engine


class Bus:
    def __init__(self) -> None:
        self.published: list[tuple[int, str, str | None, dict[str, Any]]] = []

    def publish(self, batch_id: int, event: str, room_code: str | None = None, **data: Any) -> int:
        self.published.append((batch_id, event, room_code, data))
        return len(self.published)

    def publish_many(self, events: list[tuple[int, str, str | None, dict[str, Any]]]) -> list[int | None]:
        return [self.publish(b, e, r, **d) for b, e, r, d in events]


def rows(engine) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(text("SELECT x FROM t ORDER BY x"))]


@post("/write/{x:str}", sync_to_thread=True, status_code=200)
def write(ctx: Ctx, x: FromPath[str]) -> dict[str, str]:
    ctx.db.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": x})
    ctx.queue_event(1, "written", "T01", x=x)
    if x.startswith("refuse"):
        raise Refusal("refused", "拒绝", "Refused.", None, 409)
    if x.startswith("crash"):
        raise RuntimeError("boom")
    return {"x": x}


@post("/page/{x:str}", sync_to_thread=True, status_code=200)
def page(ctx: Ctx, x: FromPath[str]) -> Response:
    def action() -> str:
        ctx.db.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": x})
        ctx.queue_event(1, "page", None, x=x)
        if x.startswith("refuse"):
            raise Refusal("refused", "拒绝", "Refused.", None, 422)
        return x

    return page_action(
        ctx, action, lambda done: f"/done?x={done}", lambda r: Response({"error": r.code, "rows": read(ctx)})
    )


def read(ctx: Ctx) -> list[str]:
    return [r[0] for r in ctx.db.execute(text("SELECT x FROM t ORDER BY x"))]


@pytest.fixture
def world(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'uow.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x TEXT PRIMARY KEY)"))
    bus = Bus()
    seen_at_start: list[list[str]] = []

    def user_none(app):
        async def middleware(scope, receive, send):
            scope["user"] = None

            async def watching_send(message):
                if message["type"] == "http.response.start":  # what a client could read right now
                    seen_at_start.append(rows(engine))
                    seen_at_start.append(list(bus.published))
                await send(message)

            await app(scope, receive, watching_send)

        return middleware

    app = Litestar(
        route_handlers=[write, page],
        state=State({"engine": engine, "clock": FixedClock(datetime(2026, 5, 9, 1, 0, tzinfo=UTC)), "events": bus}),
        dependencies={"ctx": Provide(provide_ctx)},
        after_response=publish_committed,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[user_none],
    )
    with TestClient(app) as client:
        yield client, engine, bus, seen_at_start
    engine.dispose()


def test_a_handler_that_returns_is_committed_before_the_answer_and_its_events_follow(world):
    client, _, bus, seen = world
    assert client.post("/write/a").status_code == 200
    assert seen[0] == ["a"]  # committed when the answer started
    assert seen[1] == []  # the feed did not hold up the answer
    assert bus.published == [(1, "written", "T01", {"x": "a"})]


@pytest.mark.parametrize("x, status", [("refuse-1", 409), ("crash-1", 500)])
def test_a_handler_that_raises_changes_nothing_and_announces_nothing(world, x, status):
    client, engine, bus, _ = world
    assert client.post(f"/write/{x}").status_code == status
    assert rows(engine) == [] and bus.published == []


def test_page_action_redirects_on_success_and_shows_the_page_again_without_the_write_on_refusal(world):
    client, engine, bus, _ = world
    done = client.post("/page/p1", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/done?x=p1"
    refused = client.post("/page/refuse-2", follow_redirects=False)
    assert refused.status_code == 422 and refused.json() == {"error": "refused", "rows": ["p1"]}
    assert rows(engine) == ["p1"]
    assert bus.published == [(1, "page", None, {"x": "p1"})]


def test_events_wait_for_the_outer_commit_and_a_rolled_back_savepoint_drops_its_own(world):
    _, engine, _, _ = world
    with Session(engine) as db:
        db.execute(text("SELECT 1"))
        queue_event(db, 1, "a")
        with db.begin_nested():
            queue_event(db, 1, "b")
        with pytest.raises(ValueError), db.begin_nested():
            queue_event(db, 1, "c")
            raise ValueError
        assert committed_events(db) == []  # a released SAVEPOINT commits nothing yet
        db.commit()
        assert [e[1] for e in committed_events(db)] == ["a", "b"]
        assert committed_events(db) == []  # each is handed out once
        queue_event(db, 2, "d")
        db.rollback()
        db.commit()
        assert committed_events(db) == []
