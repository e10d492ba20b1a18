"""The HTTP plumbing shared by every package: who is calling, the request
context handed to handlers, and the one error handler that answers every
refusal in the contract's shape."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import anyio
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap
from sqlmodel import Session

from examday.accounts.services import accounts
from examday.actor import Actor
from examday.error_pages import error_page
from examday.errors import Refusal, forbidden
from examday.events import Queued, committed_events, publish_all, queue_event
from examday.glossary import en

log = logging.getLogger("examday.web")

SESSION_COOKIE = "examday_session"


def credentials(connection: ASGIConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return connection.cookies.get(SESSION_COOKIE)


def cookie_is_secure(connection: ASGIConnection, settings: Any) -> bool:
    """Whether the session cookie gets ``Secure`` (R-PRIV-1): the request came over HTTPS, or
    ``EXAMDAY_SECURE_COOKIES`` says always. Behind a reverse proxy the server sees plain HTTP,
    so ``X-Forwarded-Proto: https`` counts, but only from an address in
    ``EXAMDAY_TRUSTED_PROXIES``: anyone else could send the header. Of several values the last
    is the one the nearest proxy wrote."""
    if settings.secure_cookies or connection.scope.get("scheme") in ("https", "wss"):
        return True
    peer = connection.client.host if connection.client else None
    if not peer or not _is_trusted_proxy(peer, settings.trusted_proxies):
        return False
    proto = connection.headers.get("x-forwarded-proto", "")
    return proto.rsplit(",", 1)[-1].strip().lower() == "https"


def _is_trusted_proxy(peer: str, trusted: tuple[str, ...]) -> bool:
    for entry in trusted:
        if peer == entry:
            return True
        try:
            if ipaddress.ip_address(peer) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:  # a name, or not an address at all: only the exact match above counts
            continue
    return False


_LOOKUP_OPTIONS: dict[str, dict[str, Any]] = {
    "sqlite": {"read_only": True},  # storage/db.py: a deferred BEGIN, a snapshot without the write lock
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
}


# A route whose ``opt`` holds this key checks its caller's token itself, in the one worker thread
# that does all of its work (``examday.hot_path``), instead of in a thread hop of the middleware's
# before it: the check-in at the door (issue #18). It names its roles to ``hot_path.run``.
AUTH_IN_HANDLER = "examday_auth_in_handler"


@dataclass(frozen=True)
class DeferredToken:
    """``connection.auth`` of a route that checks its token itself: the token, not yet checked."""

    token: str


def lookup_token(state: State, token: str, db: Session | None = None) -> Actor | str | None:
    """``accounts.check_token``: on PostgreSQL on the request's own transaction where there is
    one (``db``), else as one Core read on a connection of its own: on SQLite it takes no write
    lock, so a sign-in check never queues behind a check-in; on PostgreSQL it runs in autocommit,
    without the BEGIN and ROLLBACK round trips of a transaction."""
    if db is not None and state.engine.dialect.name != "sqlite":
        return accounts.check_token(db, token, state.clock.now())
    with state.engine.connect().execution_options(**_LOOKUP_OPTIONS.get(state.engine.dialect.name, {})) as conn:
        return accounts.check_token(conn, token, state.clock.now())


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``connection.user`` to the Actor, or None; the guards decide what that means."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = credentials(connection)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        if connection.route_handler.opt.get(AUTH_IN_HANDLER):
            return AuthenticationResult(user=None, auth=DeferredToken(token))
        found = await anyio.to_thread.run_sync(lookup_token, connection.app.state, token)
        if isinstance(found, Actor):
            return AuthenticationResult(user=found, auth=token)
        return AuthenticationResult(user=None, auth=TOKEN_EXPIRED if found == accounts.EXPIRED else None)


# ``connection.auth`` when the credentials were a token past its time: the refusal then says so,
# and a kiosk or tablet tells its user to sign in again rather than that it is not allowed.
TOKEN_EXPIRED = "token_expired"


def unauthenticated(connection: ASGIConnection | None = None) -> Refusal:
    if connection is not None and connection.scope.get("auth") == TOKEN_EXPIRED:
        return token_expired()
    return Refusal("unauthenticated", "请先登录", "Sign in first, or send a valid bearer token.", "R-STAFF-4", 401)


def token_expired() -> Refusal:
    return Refusal(
        "token_expired",
        "登录已过期，请重新登录（签到机请向考务室领取新的令牌）",
        "This token has expired: sign in again (a kiosk: ask the exam office for a new token).",
        "R-STAFF-4",
        401,
    )


def requires_role(*roles: str) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    """A guard for HTTP and WebSocket routes alike."""

    # Async although it awaits nothing: Litestar runs a plain function guard in a worker thread,
    # a thread hop per request for a comparison of two strings.
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.user is None:
            raise unauthenticated(connection)
        check_role(connection.user, roles)

    guard.__name__ = f"requires_role_{'_'.join(roles)}"
    return guard


def check_role(actor: Actor | None, roles: tuple[str, ...] | list[str]) -> Actor:
    if actor is None:
        raise unauthenticated()
    if actor.role not in roles:
        raise forbidden(f"{en(actor.role, 'role')} may not do this.")  # the role in words: shown on pages
    return actor


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user is None:  # async, as requires_role's guard: no worker thread for this
        raise unauthenticated(connection)


@dataclass
class RequestContext:
    """What a handler needs: the transaction, the caller, the time, the app's parts.

    A handler asks for it as ``ctx: Ctx``: the dependency named ``ctx`` (``provide_ctx``),
    declared explicitly, as Litestar 3 requires."""

    db: Session
    actor: Actor | None
    now: datetime
    state: State
    expired: bool = False  # the caller's token was past its time
    deferred: str | None = None  # a token the route checks itself (AUTH_IN_HANDLER)

    @property
    def user(self) -> Actor:
        if self.deferred is not None:  # checked here, in the handler's thread, once
            found, self.deferred = lookup_token(self.state, self.deferred, self.db), None
            self.actor = found if isinstance(found, Actor) else None
            self.expired = found == accounts.EXPIRED
        if self.actor is None:
            raise token_expired() if self.expired else unauthenticated()
        return self.actor

    def require(self, *roles: str) -> Actor:
        """The caller, if their role is one of ``roles``: what a guard says, for a route that
        checks its token itself."""
        return check_role(self.user, roles)

    def queue_event(self, batch_id: int, event: str, room_code: str | None = None, **data: Any) -> None:
        """A live event, published once this request's transaction commits (never if it rolls back)."""
        queue_event(self.db, batch_id, event, room_code, **data)

    def queue_events(self, events: list[Queued]) -> None:
        for batch_id, event, room_code, data in events:
            self.queue_event(batch_id, event, room_code, **data)


_EVENTS_KEY = "examday.committed_events"


def _end(db: Session, commit: bool) -> None:
    try:
        if commit:
            db.commit()
    finally:
        db.close()  # anything not committed is rolled back


Ctx = NamedDependency[RequestContext]


async def provide_ctx(request: Request) -> AsyncGenerator[RequestContext, None]:
    """The request's one unit of work: a handler that returns has its transaction committed
    here, and one that raises (a ``Refusal`` among others) has it rolled back, so a refusal
    changes nothing and no handler commits for itself.

    Litestar runs this cleanup before it sends the answer: a client that gets its 200 reads
    its own write at once. The commit runs in a worker thread, as the handler did, and is
    shielded from cancellation so that a connection is never left half-finished. The events
    the transaction queued are published by ``publish_committed`` once the answer is sent.
    """
    # The app's State itself: a ``state: State`` parameter would be a fresh copy of it per request.
    state = request.app.state
    db = Session(state.engine, expire_on_commit=False)
    try:
        expired = request.scope.get("auth") == TOKEN_EXPIRED
        yield RequestContext(db=db, actor=request.user, now=state.clock.now(), state=state, expired=expired)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, db, False)
            if events := committed_events(db):  # committed early by the handler, before it failed
                await anyio.to_thread.run_sync(publish_all, state.events, events)
        raise
    if db.in_transaction():
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, db, True)
    else:  # the handler committed for itself (a check-in, inside its gate): nothing left to wait for
        db.close()
    if events := committed_events(db):
        request.scope[_EVENTS_KEY] = events  # type: ignore[literal-required]


async def publish_committed(request: Request) -> None:
    """``after_response`` hook: the request's committed events go to the live feed once the
    answer is sent, so that a kiosk's candidate does not wait for the proctors' feed."""
    events = cast("list[Queued] | None", request.scope.get(_EVENTS_KEY))
    if events:
        await anyio.to_thread.run_sync(publish_all, request.app.state.events, events)


T = TypeVar("T")


def page_action(
    ctx: Ctx,
    action: Callable[[], T],
    done: str | Callable[[T], str | Response],
    refused: Callable[[Refusal], Response],
) -> Response:
    """What every form page does with its POST: call the service (``action``).

    Done: a URL (``done``, or ``done(result)``) answered with 303 See Other, the page's flash
    in its query (``?done=filed``); or, for a page that answers in place, the page itself.
    Refused: everything the action wrote is undone, its queued events with it, and
    ``refused(refusal)`` shows the page again with the reason, in the refusal's status.
    """
    try:
        result = action()
    except Refusal as r:
        ctx.db.rollback()
        page = refused(r)
        page.status_code = r.status
        return page
    target = done(result) if callable(done) else done
    return Redirect(target, status_code=303) if isinstance(target, str) else target


def blob_response(ctx: Ctx, blob: Any) -> Response:
    """A stored photo or scan, never cached: it is personal data (R-PRIV-1)."""
    return Response(
        ctx.state.blobs.read(blob.key), media_type=blob.content_type, headers={"Cache-Control": "private, no-store"}
    )


_NOT_PAGES = ("/api/", "/public/api", "/schema", "/static/", "/ws/")


def _wants_html(request: Request) -> bool:
    """A page, not the API: the route is one of the pages the OpenAPI document leaves out
    (``include_in_schema=False``), or the path is no API's and the browser asks for HTML (an
    address that matches no route at all). The API's answers stay JSON, whatever is asked."""
    path = request.url.path
    if path.startswith(_NOT_PAGES):
        return False
    handler = request.scope.get("route_handler")
    if handler is not None:  # a route of the OpenAPI document is the API, whatever is asked for
        return not getattr(handler, "include_in_schema", True)
    return "text/html" in request.headers.get("accept", "")


def error_body(
    code: str, message: str, message_en: str, rule: str | None = None, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "message_en": message_en, "rule": rule, "detail": detail or {}}


def _answer(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        return error_page(request, body, status, headers)
    return Response(body, status_code=status, headers=headers)


def handle_refusal(request: Request, exc: Refusal) -> Response:
    if exc.status == 401 and _wants_html(request):
        return Redirect(f"/login?next={request.url.path}")
    return _answer(request, exc.body(), exc.status)


def handle_http(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        return handle_refusal(request, unauthenticated(request))
    if isinstance(exc, PermissionDeniedException):
        return handle_refusal(request, forbidden())
    if isinstance(exc, NotFoundException):
        body = error_body("not_found", "未找到", "Not found.")
    elif isinstance(exc, ValidationException):
        status = 422
        body = error_body(
            "invalid_input",
            "请求内容不符合要求",
            "The request body or parameters are not valid.",
            None,
            {"errors": exc.extra if isinstance(exc.extra, list) else [str(exc.detail)]},
        )
    elif status == 405:
        body = error_body("method_not_allowed", "不支持该请求方法", "Method not allowed.")
    elif status == 429:
        body = error_body("too_many_requests", "请求过于频繁，请稍后再试", "Too many requests; try again shortly.")
    else:
        body = error_body("http_error", "请求无法处理", str(exc.detail))
    return _answer(request, body, status, getattr(exc, "headers", None) or None)


def _database_unreachable(exc: Exception) -> bool:
    """The database did not answer (down, cut off, out of connections): nothing was changed, and
    asking again later will do. A kiosk takes this answer as its cue to work offline."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(exc, (OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def handle_crash(request: Request, exc: Exception) -> Response:
    # Never echo the exception: it can carry personal data (R-PRIV-1).
    if _database_unreachable(exc):
        log.error("database unreachable (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
        return _answer(
            request,
            error_body(
                "service_unavailable",
                "数据库暂时无法访问，请稍后重试",
                "The database is unreachable for the moment; try again shortly.",
            ),
            503,
            {"Retry-After": "5"},
        )
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return _answer(request, error_body("internal_error", "服务器内部错误", "Internal server error."), 500)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Refusal: handle_refusal,
    HTTPException: handle_http,
    Exception: handle_crash,
}
