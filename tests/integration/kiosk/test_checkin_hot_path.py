"""The lean check-in path (issue #18) weakens nothing: a kiosk token revoked, or its account
switched off, is refused on the very next check-in (R-STAFF-4); the token lookup reads without
SQLite's write lock, so it never queues behind a check-in; the async guards still refuse."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text, update

from examday.accounts.models import Account
from examday.accounts.services import accounts
from examday.actor import Actor
from tests.integration.kiosk.support import body, checkin_world
from tests.support import bearer


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key)


def _check_in(client, headers, w, i):
    return client.post("/api/v1/checkins", json=body(w, i), headers=headers)


def test_a_revoked_kiosk_token_is_refused_on_the_next_check_in_R_STAFF_4(client, world, clock, w):
    """Issue #18: nothing about a token is remembered between requests, so revocation holds at once."""
    clock.advance(minutes=40)  # the 09:00 session's entry is open (R-TIME-1)
    token = world.token("kiosk1", "kiosk", w.institution_id)
    assert _check_in(client, bearer(token), w, 0).status_code == 200
    client.post("/api/v1/tokens/revoke", json={"token": token}, headers=bearer(token))
    r = _check_in(client, bearer(token), w, 1)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "unauthenticated"


def test_a_deactivated_kiosk_account_is_refused_on_the_next_check_in_R_STAFF_4(client, world, clock, w, engine):
    """Issue #18: the account's ``active`` is read with the token on every request."""
    clock.advance(minutes=40)
    token = world.token("kiosk1", "kiosk", w.institution_id)
    assert _check_in(client, bearer(token), w, 0).status_code == 200
    with engine.begin() as conn:
        conn.execute(update(Account).where(Account.username == "kiosk1").values(active=False))
    assert _check_in(client, bearer(token), w, 1).status_code == 401


def test_the_token_lookup_does_not_wait_for_a_writer_on_sqlite_R_STAFF_4(world, clock, w, engine):
    """Issue #18: a check-in holds SQLite's write lock (BEGIN IMMEDIATE); the token lookup of the
    next request reads a snapshot (``read_only``) and answers at once instead of queueing."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    token = world.token("kiosk1", "kiosk", w.institution_id)
    now = clock.now()
    with engine.connect() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held from here
        found: list[object] = []

        def lookup() -> None:
            with engine.connect().execution_options(read_only=True) as conn:
                found.append(accounts.check_token(conn, token, now))

        t = threading.Thread(target=lookup)
        t.start()
        t.join(5)  # busy_timeout is 30 s: a lookup that queued for the lock would still be waiting
        alive = t.is_alive()
        writer.rollback()
        t.join()
    assert not alive
    assert isinstance(found[0], Actor) and found[0].role == "kiosk"


def test_the_async_guards_still_refuse_R_STAFF_4(client, world, clock, w):
    """Issue #18: the role guards run on the event loop now; no token is 401, another role 403."""
    clock.advance(minutes=40)
    assert _check_in(client, {}, w, 0).status_code == 401
    proctor = world.token("proctor9", "proctor", w.institution_id)
    r = _check_in(client, bearer(proctor), w, 0)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
