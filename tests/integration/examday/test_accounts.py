"""Accounts, roles, tokens and the guards (R-STAFF-4: every action attributable)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from examday.accounts.models import Account
from examday.actor import ROLES
from examday.audit import AuditEntry
from tests.support import OTHER_USCC, assert_refusal, bearer


def counts(engine):
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Account)).one(),
            db.exec(select(func.count()).select_from(AuditEntry)).one(),
        )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_itself_but_only_admin_adds_accounts(world, client, role):
    # R-STAFF-4: each role acts under its own account; only an admin may add accounts.
    iid = world.institution()
    staff_id = None
    if role in ("evaluator", "chief"):  # bound to one of the institution's examiners (R-SCORE-1)
        from examday.registry.models import Staff

        with Session(world.engine) as db:
            examiner = Staff(institution_id=iid, name="陈志强", id_number="11010519491231002X", roles="examiner")
            db.add(examiner)
            db.commit()
            staff_id = examiner.id
    tok = world.token(f"u-{role}", role, None if role == "centre" else iid, province="吉林", staff_id=staff_id)
    me = client.get("/api/v1/me", headers=bearer(tok))
    assert me.status_code == 200 and me.json()["role"] == role and me.json()["username"] == f"u-{role}"
    before = counts(world.engine)
    r = client.post(
        "/api/v1/accounts",
        headers=bearer(tok),
        json={"username": f"new-{role}", "role": "proctor", "institution_id": iid},
    )
    if role == "admin":
        assert r.status_code == 201, r.text
        assert counts(world.engine)[0] == before[0] + 1
    else:
        assert_refusal(r, 403, "forbidden")
        assert counts(world.engine) == before  # a refusal changes nothing


def test_no_token_and_garbage_token_are_401(world, client):
    assert_refusal(client.get("/api/v1/me"), 401, "unauthenticated", "R-STAFF-4")
    assert_refusal(client.get("/api/v1/me", headers=bearer("not-a-token")), 401, "unauthenticated")


def test_institution_admin_cannot_add_accounts_to_another_institution(world, client):
    mine, other = world.institution(), world.institution(OTHER_USCC, "另一机构")
    tok = world.token("office", "admin", mine)
    before = counts(world.engine)
    r = client.post(
        "/api/v1/accounts",
        headers=bearer(tok),
        json={"username": "intruder", "role": "proctor", "institution_id": other},
    )
    assert_refusal(r, 403, "forbidden")
    assert counts(world.engine) == before


def test_revoked_token_stops_working(world, client):
    iid = world.institution()
    tok = world.token("kiosk-1", "kiosk", iid)
    assert client.get("/api/v1/me", headers=bearer(tok)).status_code == 200
    r = client.post("/api/v1/tokens/revoke", headers=bearer(tok), json={"token": tok})
    assert r.status_code == 200 and r.json() == {"status": "revoked"}
    assert_refusal(client.get("/api/v1/me", headers=bearer(tok)), 401, "unauthenticated")


def test_tokens_are_stored_only_as_hashes(world, engine):
    from examday.accounts.models import AccessToken

    iid = world.institution()
    tok = world.token("p1", "proctor", iid)
    with Session(engine) as db:
        stored = db.exec(select(AccessToken)).all()
    assert stored and all(tok not in (t.token_hash or "") for t in stored)


def test_passwords_are_hashed_with_argon2(world, engine):
    iid = world.institution()
    world.token("office", "admin", iid, password="s3cret-pass")
    with Session(engine) as db:
        acc = db.exec(select(Account).where(Account.username == "office")).one()
    assert acc.password_hash.startswith("$argon2id$") and "s3cret-pass" not in acc.password_hash


def test_browser_login_sets_a_session_cookie_and_logout_revokes_it(world, client):
    iid = world.institution()
    world.token("office", "admin", iid, password="correct horse")
    bad = client.post("/login", data={"username": "office", "password": "wrong", "next": "/"})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    ok = client.post(
        "/login", data={"username": "office", "password": "correct horse", "next": "/"}, follow_redirects=False
    )
    assert ok.status_code in (302, 303)
    cookie = ok.cookies.get("examday_session")
    assert cookie
    client.cookies.set("examday_session", cookie)  # on the client: httpx deprecates per-request cookies
    assert client.get("/api/v1/me").json()["username"] == "office"
    client.post("/logout", follow_redirects=False)
    client.cookies.clear()
    client.cookies.set("examday_session", cookie)  # the revoked token, sent again
    assert client.get("/api/v1/me").status_code == 401


def test_pages_redirect_to_login_when_signed_out(client):
    r = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")


def test_openapi_and_health(client):
    assert client.get("/health").json() == {"status": "ok"}
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/api/v1/me" in schema.json()["paths"]
