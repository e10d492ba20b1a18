"""Sign-in and signing-PIN rate limits: five wrong answers in 15 minutes lock the
username for 15 minutes (R-STAFF-4), thirty from one address lock the address, five wrong
PINs lock an examiner's signing (R-SCORE-1). The counts are in the database, so they hold
across server processes; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlmodel import Session, select

from examday.accounts import throttle
from examday.accounts.models import LoginAttempt
from examday.accounts.services import accounts as service
from examday.audit import AuditEntry
from examday.errors import Refusal
from tests.integration.scoring.scoring_world import PIN, build
from tests.support import assert_refusal

GOOD = "correct horse"
OWN = {"Origin": "http://testserver.local"}


def sign_in(client, password: str, username: str = "office"):
    return client.post(
        "/login", data={"username": username, "password": password, "next": "/"}, headers=OWN, follow_redirects=False
    )


def signed_in(r) -> bool:
    return r.status_code in (302, 303) and "examday_session" in r.cookies


def test_five_wrong_passwords_lock_the_username_for_fifteen_minutes(world, client, clock, engine):
    world.token("office", "admin", world.institution(), password=GOOD)
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 401
    r = sign_in(client, "wrong")  # the fifth
    assert r.status_code == 429 and "登录失败次数过多" in r.text and "Too many failed sign-ins" in r.text
    assert r.headers["retry-after"] == "900"
    # While locked even the right password is refused, without being checked.
    clock.advance(minutes=14)
    r = sign_in(client, GOOD)
    assert r.status_code == 429 and not signed_in(r)
    clock.advance(minutes=1, seconds=1)
    assert signed_in(sign_in(client, GOOD))
    with Session(engine) as db:
        locks = db.exec(select(AuditEntry).where(AuditEntry.action == "password.locked")).all()
        assert len(locks) == 1 and '"scope":"user"' in locks[0].diff.replace(" ", "")


def test_failures_spread_out_or_cleared_by_a_success_do_not_lock(world, client, clock):
    world.token("office", "admin", world.institution(), password=GOOD)
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 401
    assert signed_in(sign_in(client, GOOD))  # a success starts the count again
    client.cookies.clear()
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 401
    clock.advance(minutes=16)  # the window has passed for these four
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 401
    assert signed_in(sign_in(client, GOOD))


def test_an_unknown_username_is_counted_like_a_known_one(client):
    for _ in range(4):
        assert sign_in(client, "x", username="nobody").status_code == 401
    assert sign_in(client, "x", username="nobody").status_code == 429


def test_the_limit_holds_across_server_processes(world, settings, clock, engine):
    # Two app instances on one database stand for two server processes.
    from examday.app import create_app

    world.token("office", "admin", world.institution(), password=GOOD)
    with TestClient(create_app(settings, clock)) as a, TestClient(create_app(settings, clock)) as b:
        for i in range(4):
            assert sign_in(a if i % 2 else b, "wrong").status_code == 401
        assert sign_in(a, "wrong").status_code == 429
        assert sign_in(b, GOOD).status_code == 429


def test_many_usernames_from_one_address_lock_the_address(world, app, clock, engine):
    passwords = app.state.passwords
    world.token("office", "admin", world.institution(), password=GOOD)
    with Session(engine) as db:
        for i in range(throttle.PASSWORD.address_failures - 1):
            refused = _login(db, passwords, f"guess{i}", "x", clock, "10.0.0.9")
            assert refused.code == "bad_credentials"
        assert _login(db, passwords, "guess-last", "x", clock, "10.0.0.9").code == "login_locked"
        # The address is locked even for a real account and the right password ...
        assert _login(db, passwords, "office", GOOD, clock, "10.0.0.9").code == "login_locked"
        # ... while the same account signs in from another machine.
        assert service.login(db, passwords, "office", GOOD, clock.now(), "10.0.0.10")
        db.commit()
        clock.advance(minutes=16)  # the address's lockout is over; its next failures count from zero
        assert _login(db, passwords, "guess-again", "x", clock, "10.0.0.9").code == "bad_credentials"
        actions = db.exec(
            select(AuditEntry.action, AuditEntry.diff).where(AuditEntry.action == "password.locked")
        ).all()
        assert len(actions) == 1 and "10.0.0.9" in actions[0][1]


def test_a_success_clears_the_username_but_not_the_address(world, app, clock, engine):
    passwords = app.state.passwords
    world.token("office", "admin", world.institution(), password=GOOD)
    bound = throttle.PASSWORD.address_failures
    with Session(engine) as db:
        for _ in range(4):
            assert _login(db, passwords, "office", "x", clock, "10.0.0.9").code == "bad_credentials"
        for i in range(bound - 5):
            assert _login(db, passwords, f"guess{i}", "x", clock, "10.0.0.9").code == "bad_credentials"
        assert service.login(db, passwords, "office", GOOD, clock.now(), "10.0.0.10")  # the owner, elsewhere
        db.commit()
        for _ in range(4):  # the username starts again from zero ...
            refused = _login(db, passwords, "office", "x", clock, "10.0.0.11")
        assert refused.code == "bad_credentials"
        # ... while the address still counts its four failures on it: one more reaches the bound.
        assert _login(db, passwords, "guess-last", "x", clock, "10.0.0.9").code == "login_locked"


def _login(db, passwords, username, password, clock, address) -> Refusal:
    try:
        service.login(db, passwords, username, password, clock.now(), address)
    except Refusal as r:
        db.commit()
        return r
    raise AssertionError("signed in")


def test_old_attempts_are_pruned_on_write(world, app, clock, engine):
    with Session(engine) as db:
        for _ in range(3):
            _login(db, app.state.passwords, "nobody", "x", clock, "10.0.0.1")
        clock.advance(days=1, minutes=1)
        _login(db, app.state.passwords, "someone", "x", clock, "10.0.0.1")
        rows = db.exec(select(LoginAttempt)).all()
        assert [r.username for r in rows] == ["someone"]


# -- the signing PIN (R-SCORE-1) --------------------------------------------------------------


def test_five_wrong_pins_lock_the_examiners_signing(client, world, engine, clock):
    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    cand = sw.candidates[0]
    for _ in range(4):
        assert_refusal(sw.enter(1, cand, 80, pin="999999"), 403, "pin_wrong", "R-SCORE-1")
    body = assert_refusal(sw.enter(1, cand, 80, pin="999999"), 429, "pin_locked", "R-SCORE-1")
    assert "签名密码错误次数过多" in body["message"] and body["detail"]["retry_after"] == 900
    assert_refusal(sw.enter(1, cand, 80), 429, "pin_locked")  # the right PIN waits too
    assert sw.enter(2, cand, 80).status_code == 201  # a colleague is not affected
    clock.advance(minutes=15, seconds=1)
    assert sw.enter(1, cand, 80).status_code == 201
    with Session(engine) as db:
        lock = db.exec(select(AuditEntry).where(AuditEntry.action == "pin.locked")).one()
        assert lock.account_id is not None and lock.role in ("evaluator", "chief")  # the examiner's own account


def test_a_wrong_pin_is_counted_though_the_entry_is_refused(client, world, engine, clock):
    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    assert_refusal(sw.enter(1, sw.candidates[0], 80, pin="000000"), 403, "pin_wrong")
    with Session(engine) as db:
        rows = db.exec(select(LoginAttempt)).all()
        assert [(r.kind, r.outcome) for r in rows] == [("pin", "failed")]
    assert sw.enter(1, sw.candidates[0], 80, pin=PIN).status_code == 201
    with Session(engine) as db:  # the success cleared the count
        assert [r.outcome for r in db.exec(select(LoginAttempt).order_by(LoginAttempt.id))] == ["failed", "cleared"]
