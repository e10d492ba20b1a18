"""An open feed socket lasts only as long as its credentials (R-STAFF-4).

A WebSocket is authenticated once, when it opens; without more, a revoked token or a
deactivated account would go on watching the rooms for as long as the socket stays open.
Two checks end it:

* **on every server process**, the process's :class:`Watch` asks the database again every
  ``RECHECK_SECONDS`` whether the tokens of its open sockets still stand (the same test as
  sign-in, by each token's unique hash joined to its account), whatever revoked them — the API,
  another process, an operator's UPDATE, expiry. One read for all of the process's sockets, not
  one per socket: 200 screens of a province's morning made it a hundred reads a second
  (issue #18);
* **in the process that made the change**, a revocation is known the moment it commits:
  ``after_flush`` notes a token whose ``revoked_at`` was set or an account whose ``active``
  went false, and ``after_commit`` lists it (per engine, for a minute) before the request's
  answer is sent. The feed looks there before it forwards anything, so no event published
  after such a revocation reaches the socket. A revocation made through another process
  reaches it with the periodic check.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from litestar.datastructures import State
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from examday.accounts.models import AccessToken, Account
from examday.accounts.services import accounts
from examday.errors import Refusal

RECHECK_SECONDS = 2.0
# Long enough for every socket to have run its own check since; the list stays small.
REMEMBER_SECONDS = 60.0

_PENDING = "proctor.credentials.revoked"
_WATCHES = "examday_feed_credential_watches"  # on the app's State: one Watch per event loop
log = logging.getLogger("examday.feed")
_lock = threading.Lock()
_revoked: weakref.WeakKeyDictionary[Engine, dict[tuple[str, Any], float]] = weakref.WeakKeyDictionary()


def revoked() -> Refusal:
    return Refusal(
        "credentials_revoked",
        "登录凭据已被撤销或已失效，请重新登录",
        "This token was revoked, or its account deactivated or expired: sign in again.",
        "R-STAFF-4",
        401,
    )


def still_standing(state: State, digests: set[str]) -> dict[str, int]:
    """The token digests among ``digests`` that still stand, each with its account."""
    with Session(state.read_engine) as db:
        return accounts.standing_among(db, digests, state.clock.now())


class Watch:
    """The open sockets of one event loop, checked together every ``RECHECK_SECONDS``."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._sockets: dict[object, tuple[str, int | None, Callable[[], None]]] = {}
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def watching(
        self, digest: str, account_id: int | None, on_revoked: Callable[[], None]
    ) -> AsyncIterator[None]:
        """While inside, ``on_revoked`` is called (once) when the token stops standing for ``account_id``."""
        key = object()
        self._sockets[key] = (digest, account_id, on_revoked)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield
        finally:
            self._sockets.pop(key, None)

    async def _run(self) -> None:
        while self._sockets:
            await anyio.sleep(RECHECK_SECONDS)
            watched = dict(self._sockets)
            if not watched:
                return
            try:
                standing = await anyio.to_thread.run_sync(
                    still_standing, self._state, {digest for digest, _, _ in watched.values()}
                )
            except Exception as exc:  # the database is away: the next check decides
                log.warning("feed credentials check failed: %s", type(exc).__name__)
                continue
            for key, (digest, account_id, on_revoked) in watched.items():
                if standing.get(digest) != account_id and self._sockets.pop(key, None) is not None:
                    on_revoked()


def watch_of(state: State) -> Watch:
    """This event loop's watch (a test client runs its own loop over the same app)."""
    watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watch] = state.setdefault(
        _WATCHES, weakref.WeakKeyDictionary()
    )
    loop = asyncio.get_running_loop()
    if loop not in watches:
        watches[loop] = Watch(state)
    return watches[loop]


def revoked_here(engine: Engine, token_hash: str, account_id: int | None) -> bool:
    """Whether this process committed the revocation of this token or account lately."""
    seen = _revoked.get(engine)
    return seen is not None and (("token", token_hash) in seen or ("account", account_id) in seen)


def _changed_to(obj: Any, name: str) -> list[Any]:
    return list(inspect(obj).attrs[name].history.added or ())


@sa_event.listens_for(OrmSession, "after_flush")
def _note(session: OrmSession, _flush_context: Any) -> None:
    found: list[tuple[str, Any]] = []
    for obj in session.dirty:
        if isinstance(obj, AccessToken) and any(v is not None for v in _changed_to(obj, "revoked_at")):
            found.append(("token", obj.token_hash))
        elif isinstance(obj, Account) and False in _changed_to(obj, "active"):
            found.append(("account", obj.id))
    if found:
        session.info.setdefault(_PENDING, []).extend(found)


@sa_event.listens_for(OrmSession, "after_commit")
def _committed(session: OrmSession) -> None:
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    found = session.info.pop(_PENDING)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    now = time.monotonic()
    with _lock:
        seen = _revoked.setdefault(engine, {})
        for key in [k for k, at in seen.items() if at < now - REMEMBER_SECONDS]:
            del seen[key]
        seen.update(dict.fromkeys(found, now))


@sa_event.listens_for(OrmSession, "after_transaction_end")
def _ended(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:  # rolled back: nothing was revoked
        session.info.pop(_PENDING, None)
