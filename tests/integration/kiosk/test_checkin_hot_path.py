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


def _stored_attempts(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM checkin")).scalar_one()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"ticket": "x"}', b'{"ticket": 5, "id_number": "y", "kiosk_nonce": "n"}', b"[]"],
    ids=["malformed", "missing-fields", "wrong-type", "not-an-object"],
)
def test_a_bad_body_gets_invalid_input_and_stores_nothing_R_DAY_1(client, world, clock, w, engine, raw):
    """Issue #18: the check-in reads its body itself (examday/hot_path.py), after the token; a
    body that is not a check-in gets the 422 ``invalid_input`` of every route, and nothing is stored."""
    clock.advance(minutes=40)
    token = world.token("kiosk1", "kiosk", w.institution_id)
    headers = {**bearer(token), "content-type": "application/json"}
    r = client.post("/api/v1/checkins", content=raw, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input" and r.json()["message_en"]
    assert _stored_attempts(engine) == 0
    # The token is checked before the body is looked at: no token, a bad body, still 401.
    r = client.post("/api/v1/checkins", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_the_check_in_event_is_on_the_feed_when_the_answer_comes_R_DAY_3(client, world, clock, w, app):
    """Issue #18: the event is published in the check-in's own worker thread, after the commit and
    before the answer: it is on the feed, with the arrival's time, when the kiosk reads its 200."""
    clock.advance(minutes=40)
    seen: list[dict] = []
    app.state.events.subscribe(lambda bid, m: seen.append(m))
    token = world.token("kiosk1", "kiosk", w.institution_id)
    r = _check_in(client, bearer(token), w, 0)
    assert r.status_code == 200, r.text
    events = [m for m in seen if m.get("event") == "checkin"]
    assert len(events) == 1 and events[0]["candidate_id"] == w.candidates[0].id
    assert events[0]["at"] == r.json()["at"]  # the arrival's time travels with it (proctor/feed_state.py)


def test_a_refused_check_in_publishes_nothing_and_a_replay_stores_nothing_R_DAY_1(client, world, clock, w, app, engine):
    """Issue #18: the one-thread path keeps the unit of work: a refusal's attempt is stored (R-DAY-1)
    but announces nobody; the same nonce again answers from the store and adds no row."""
    clock.advance(minutes=40)
    seen: list[dict] = []
    app.state.events.subscribe(lambda bid, m: seen.append(m))
    token = world.token("kiosk1", "kiosk", w.institution_id)
    wrong = body(w, 0, id_number="110101199001011237")
    r = client.post("/api/v1/checkins", json=wrong, headers=bearer(token))
    assert r.status_code != 200 and not [m for m in seen if m.get("event") == "checkin"]
    again = client.post("/api/v1/checkins", json=wrong, headers=bearer(token))
    assert again.status_code == r.status_code and again.json()["code"] == r.json()["code"]
    assert _stored_attempts(engine) == 1
