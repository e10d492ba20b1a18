"""An open feed socket lasts only as long as its credentials (R-STAFF-4).

A WebSocket is authenticated once, when it opens; without more, a revoked token or a
deactivated account would go on watching the rooms for as long as the socket stays open.
Two checks end it:

* **on every server process**, each socket asks the database again every
  ``RECHECK_SECONDS`` whether its token still stands (``still_valid``: the same test as
  sign-in, one read by the token's unique hash joined to its account), whatever revoked it —
  the API, another process, an operator's UPDATE, expiry;
* **in the process that made the change**, a revocation is known the moment it commits:
  ``after_flush`` notes a token whose ``revoked_at`` was set or an account whose ``active``
  went false, and ``after_commit`` lists it (per engine, for a minute) before the request's
  answer is sent. The feed looks there before it forwards anything, so no event published
  after such a revocation reaches the socket. A revocation made through another process
  reaches it with the periodic check.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

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


def still_valid(state: State, token: str, account_id: int | None) -> bool:
    with Session(state.read_engine) as db:
        actor = accounts.authenticate(db, token, state.clock.now())
    return actor is not None and actor.account_id == account_id


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
