"""Issue #14 finding 11: "any password is accepted (`1` works); bearer tokens never expire".

A password is at least 10 characters, not the username and not a common one; a bearer token
expires (a kiosk's after 30 days, a person's after 14 hours) and answers 401 ``token_expired``
then; each account's tokens are listed (never the token) and revoked by id, by the account
itself or its institution's admin, never by another institution's (R-STAFF-4).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from examday.accounts.models import AccessToken, Account
from examday.accounts.services.accounts import token_digest
from examday.accounts.services.tokens import DEFAULT_LIFETIMES
from examday.audit import AuditEntry
from tests.support import OTHER_USCC, STRONG_PASSWORD, assert_refusal, bearer


def add_account(client, token, username, password, role="admin", iid=None):
    body = {"username": username, "role": role, "institution_id": iid, "password": password}
    return client.post("/api/v1/accounts", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1", "too_short"),  # the finding, as reported
        ("abc12345", "too_short"),
        ("qwertyuiop", "common"),
        ("1234567890", "common"),
        ("123456789a", "common"),
        ("woaini1314", "common"),
        ("5201314520", "common"),
        ("Password123", "common"),
        ("office-b12345", "common"),  # the username and digits
        ("OFFICE-B-2026", None),
        ("office-b-2026", None),
    ],
)
def test_a_weak_password_is_refused_and_no_account_made_R_STAFF_4(world, client, password, reason):
    root = world.token("root", "admin")
    iid = world.institution()
    r = add_account(client, root, "office-b", password, iid=iid)
    if reason is None:  # long, not common and not the username: taken
        assert r.status_code == 201, r.text
        return
    body = assert_refusal(r, 422, "weak_password", "R-STAFF-4")
    assert body["detail"]["reason"] == reason and body["detail"]["min_length"] == 10
    with Session(world.engine) as db:
        assert db.exec(select(Account).where(Account.username == "office-b")).first() is None


def test_the_password_may_not_be_the_username_R_STAFF_4(world, client):
    root = world.token("root", "admin")
    body = assert_refusal(add_account(client, root, "Wang.Lei-2026", "wang.lei-2026"), 422, "weak_password")
    assert body["detail"]["reason"] == "username"
    assert add_account(client, root, "wanglei", STRONG_PASSWORD).status_code == 201
    signed = client.post("/login", data={"username": "wanglei", "password": STRONG_PASSWORD, "next": "/"})
    assert signed.status_code in (200, 302, 303)


def test_a_kiosk_token_from_31_days_ago_no_longer_works_R_STAFF_4(world, client, clock):
    # The finding: a kiosk's bearer token worked for ever. It now lasts 30 days (the default).
    iid = world.institution()
    kiosk = world.token("kiosk1", "kiosk", iid, lifetimes=DEFAULT_LIFETIMES)
    clock.advance(days=29, hours=23)
    assert client.get("/api/v1/me", headers=bearer(kiosk)).status_code == 200
    clock.advance(days=1, hours=1)  # 31 days after it was issued
    assert_refusal(client.get("/api/v1/me", headers=bearer(kiosk)), 401, "token_expired", "R-STAFF-4")
    # Every guard says so, not just "sign in": the kiosk tells its operator what to do.
    r = client.post("/api/v1/checkins", json={"ticket": "x", "id_number": "y"}, headers=bearer(kiosk))
    assert_refusal(r, 401, "token_expired")


def test_a_persons_bearer_token_lasts_one_exam_day_R_STAFF_4(world, client, clock):
    iid = world.institution()
    proctor = world.token("tablet", "proctor", iid, lifetimes=DEFAULT_LIFETIMES)
    clock.advance(hours=13, minutes=59)
    assert client.get("/api/v1/me", headers=bearer(proctor)).status_code == 200
    clock.advance(minutes=1)
    assert_refusal(client.get("/api/v1/me", headers=bearer(proctor)), 401, "token_expired")
    # A token nobody ever issued is not "expired": it is just not a credential.
    assert_refusal(client.get("/api/v1/me", headers=bearer("not-a-token")), 401, "unauthenticated")


def test_a_token_issued_before_tokens_expired_is_held_to_the_same_lifetime(world, client, clock, engine):
    """Tokens from an older installation have no expires_at: they last the default from their issue."""
    iid = world.institution()
    kiosk = world.token("kiosk-old", "kiosk", iid)
    with Session(engine) as db:
        tok = db.exec(select(AccessToken).where(AccessToken.token_hash == token_digest(kiosk))).one()
        tok.expires_at = None
        db.add(tok)
        db.commit()
    clock.advance(days=29)
    assert client.get("/api/v1/me", headers=bearer(kiosk)).status_code == 200
    clock.advance(days=2)
    assert_refusal(client.get("/api/v1/me", headers=bearer(kiosk)), 401, "token_expired")


def two_offices(world):
    a, b = world.institution(), world.institution(OTHER_USCC, "另一评价机构", "广东")
    return {
        "a": a,
        "b": b,
        "office_a": world.token("office-a", "admin", a),
        "office_b": world.token("office-b", "admin", b),
        "kiosk_a": world.token("kiosk-a", "kiosk", a),
        "proctor_a": world.token("proctor-a", "proctor", a),
        "root": world.token("root", "admin"),
    }


def account_id(engine, username):
    with Session(engine) as db:
        return db.exec(select(Account.id).where(Account.username == username)).one()


def test_an_account_lists_its_own_tokens_never_the_token_itself_R_STAFF_4(world, client, clock):
    w = two_offices(world)
    mine = client.get("/api/v1/me/tokens", headers=bearer(w["kiosk_a"]))
    assert mine.status_code == 200
    (row,) = mine.json()
    assert set(row) == {"id", "account_id", "kind", "created_at", "expires_at", "revoked_at", "state"}
    assert row["kind"] == "bearer" and row["state"] == "active" and row["revoked_at"] is None
    assert row["created_at"].endswith("+08:00") and row["expires_at"] > row["created_at"]
    assert w["kiosk_a"] not in mine.text and token_digest(w["kiosk_a"]) not in mine.text


def test_the_institutions_admin_lists_and_revokes_its_accounts_tokens_R_STAFF_4(world, client, engine):
    w = two_offices(world)
    kiosk_id = account_id(engine, "kiosk-a")
    listed = client.get(f"/api/v1/accounts/{kiosk_id}/tokens", headers=bearer(w["office_a"]))
    assert listed.status_code == 200
    (row,) = listed.json()
    r = client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(w["office_a"]))
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["revoked_at"]
    # Revoked, not expired: the kiosk is told it is not signed in.
    assert_refusal(client.get("/api/v1/me", headers=bearer(w["kiosk_a"])), 401, "unauthenticated")
    assert client.get(f"/api/v1/accounts/{kiosk_id}/tokens", headers=bearer(w["office_a"])).json() == []
    everything = client.get(f"/api/v1/accounts/{kiosk_id}/tokens?all=true", headers=bearer(w["office_a"])).json()
    assert [t["state"] for t in everything] == ["revoked"]
    # Revoking again changes nothing; the revocation is on the audit chain once, by the office.
    assert client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(w["office_a"])).status_code == 200
    with Session(engine) as db:
        entries = db.exec(select(AuditEntry).where(AuditEntry.action == "token.revoke")).all()
    assert [(e.username, e.object_id) for e in entries] == [("office-a", str(row["id"]))]
    # The installation administrator sees every account's tokens.
    assert client.get(f"/api/v1/accounts/{kiosk_id}/tokens", headers=bearer(w["root"])).status_code == 200


def test_another_institutions_admin_neither_lists_nor_revokes_R_STAFF_4(world, client, engine):
    w = two_offices(world)
    kiosk_id = account_id(engine, "kiosk-a")
    office_a_id = account_id(engine, "office-a")
    assert_refusal(client.get(f"/api/v1/accounts/{kiosk_id}/tokens", headers=bearer(w["office_b"])), 403, "forbidden")
    row = client.get("/api/v1/me/tokens", headers=bearer(w["kiosk_a"])).json()[0]
    assert_refusal(client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(w["office_b"])), 403, "forbidden")
    # Nor does the office reach the installation administrator's tokens, nor a proctor anyone's.
    root_id = account_id(engine, "root")
    assert_refusal(client.get(f"/api/v1/accounts/{root_id}/tokens", headers=bearer(w["office_a"])), 403, "forbidden")
    assert_refusal(client.get(f"/api/v1/accounts/{kiosk_id}/tokens", headers=bearer(w["proctor_a"])), 403, "forbidden")
    assert_refusal(client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(w["proctor_a"])), 403, "forbidden")
    assert_refusal(
        client.get(f"/api/v1/accounts/{office_a_id + 999}/tokens", headers=bearer(w["root"])), 404, "not_found"
    )
    assert_refusal(client.post("/api/v1/tokens/99999/revoke", headers=bearer(w["root"])), 404, "not_found")
    # Nothing was revoked: the kiosk still works.
    assert client.get("/api/v1/me", headers=bearer(w["kiosk_a"])).status_code == 200


def test_the_office_cannot_cut_off_the_external_supervisor_R_STAFF_4(world, client, engine):
    """The external quality supervisor is made for the institution it checks (by the installation
    administrator): the office neither lists nor revokes its tokens; it and the administrator do."""
    w = two_offices(world)
    supervisor = world.token("supervisor-ext", "supervisor", w["a"])  # no staff member: external
    sid = account_id(engine, "supervisor-ext")
    assert_refusal(client.get(f"/api/v1/accounts/{sid}/tokens", headers=bearer(w["office_a"])), 403, "forbidden")
    row = client.get("/api/v1/me/tokens", headers=bearer(supervisor)).json()[0]
    assert_refusal(client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(w["office_a"])), 403, "forbidden")
    r = client.post("/api/v1/tokens/revoke", json={"token": supervisor}, headers=bearer(w["office_a"]))
    assert_refusal(r, 403, "forbidden")
    assert client.get("/api/v1/me", headers=bearer(supervisor)).status_code == 200
    assert client.get(f"/api/v1/accounts/{sid}/tokens", headers=bearer(w["root"])).status_code == 200
    assert client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(supervisor)).status_code == 200


def test_one_revokes_its_own_token_by_id_and_the_session_cookie_expires(world, client, clock):
    iid = world.institution()
    tok = world.token("proctor-own", "proctor", iid)
    row = client.get("/api/v1/me/tokens", headers=bearer(tok)).json()[0]
    assert client.post(f"/api/v1/tokens/{row['id']}/revoke", headers=bearer(tok)).status_code == 200
    assert_refusal(client.get("/api/v1/me", headers=bearer(tok)), 401, "unauthenticated")
    # A browser session expires too, and the API says so.
    world.token("office-web", "admin", iid, password=STRONG_PASSWORD)
    client.post("/login", data={"username": "office-web", "password": STRONG_PASSWORD, "next": "/"})
    assert client.get("/api/v1/me").status_code == 200
    assert [t["kind"] for t in client.get("/api/v1/me/tokens").json()] == ["session", "bearer"]
    clock.advance(hours=14, seconds=1)
    assert_refusal(client.get("/api/v1/me"), 401, "token_expired")


def test_token_lifetimes_come_from_the_settings(world, app, clock):
    from examday.accounts.services.tokens import TokenLifetimes

    lifetimes = TokenLifetimes.from_settings(app.state.settings)
    assert lifetimes == DEFAULT_LIFETIMES
    assert lifetimes.bearer("kiosk") == timedelta(days=30) and lifetimes.bearer("proctor") == timedelta(hours=14)


def test_the_command_line_holds_the_same_policy_and_lists_and_revokes(tmp_path):
    from tests.integration.examday.test_cli import run

    weak = run(["account", "add", "root", "--role", "admin", "--password-stdin"], tmp_path, "1\n")
    assert weak.returncode == 2 and "weak_password" in weak.stderr and "R-STAFF-4" in weak.stderr
    assert run(["account", "add", "root", "--role", "admin", "--password-stdin"], tmp_path, "woaini1314\n").returncode
    ok = run(["account", "add", "root", "--role", "admin", "--password-stdin"], tmp_path, f"{STRONG_PASSWORD}\n")
    assert ok.returncode == 0, ok.stderr
    too_long = run(["token", "issue", "root", "--hours", "15"], tmp_path)  # a person's: 14 hours at most
    assert too_long.returncode == 2 and "token_lifetime_too_long" in too_long.stderr
    short = run(["token", "issue", "root", "--hours", "2"], tmp_path)
    assert short.returncode == 0 and len(short.stdout.split()) == 1
    listed = run(["token", "list", "root"], tmp_path)
    (line,) = listed.stdout.splitlines()
    tid, kind, state, issued, expires = line.split("\t")
    assert (kind, state) == ("bearer", "active") and short.stdout.strip() not in listed.stdout
    assert datetime.fromisoformat(expires) - datetime.fromisoformat(issued) == timedelta(hours=2)
    assert run(["token", "revoke", tid], tmp_path).returncode == 0
    assert run(["token", "list", "root"], tmp_path).stdout == ""
    assert "\trevoked\t" in run(["token", "list", "root", "--all"], tmp_path).stdout
