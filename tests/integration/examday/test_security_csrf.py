"""Cross-site requests (CSRF) against the pages: a cookie-authenticated unsafe request that
another site made the browser send is refused, in the contract's shape, and changes nothing.
Bearer-token clients are never affected (R-STAFF-4: an action is the account holder's own)."""

from __future__ import annotations

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from sqlmodel import Session, select

from examday.registry.models import Room
from tests.support import assert_refusal, bearer

# Nothing here depends on the database: SQLite only, even when PostgreSQL is configured.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

OWN = "http://testserver.local"  # the TestClient's origin
ROOM = {
    "code": "T01",
    "name": "理论考场1",
    "kind": "theory",
    "seats": "30",
    "rows": "5",
    "cols": "6",
    "cameras": "T01-C1 前方\nT01-C2 后方\n",
}


@pytest.fixture
def office(world, client):
    """An exam-office account signed in through the login page: the client holds its session cookie."""
    iid = world.institution()
    world.token("office", "admin", iid, password="correct horse")
    r = client.post(
        "/login",
        data={"username": "office", "password": "correct horse", "next": "/"},
        headers={"Origin": OWN},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303) and client.cookies.get("examday_session")
    return iid


def rooms(world) -> list[Room]:
    with Session(world.engine) as db:
        return db.exec(select(Room)).all()


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a neighbour on another port or subdomain is not us either
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/form.html"},
        {"Origin": "http://testserver.local.evil.example"},
    ],
)
def test_a_cross_site_form_post_is_refused_and_changes_nothing(world, client, office, headers):
    r = client.post(
        "/office/rooms/add",
        data={"iid": str(office), **ROOM},
        headers={"Accept": "text/html", **headers},
        follow_redirects=False,
    )
    body = assert_refusal(r, 403, "csrf_refused", "R-STAFF-4")
    assert "跨站" in body["message"] and "cross-site" in body["message_en"]
    assert rooms(world) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": OWN},
        {"Referer": OWN + "/office/rooms"},
        {},  # no browser headers at all: not a browser, nothing to forge
    ],
)
def test_our_own_pages_post_as_before(world, client, office, headers):
    r = client.post("/office/rooms/add", data={"iid": str(office), **ROOM}, headers=headers, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert [room.code for room in rooms(world)] == ["T01"]


def test_the_origin_check_counts_the_default_port_as_the_same(world, app, office, client):
    with TestClient(app, base_url="https://exam.example") as tls:
        tls.cookies.set("examday_session", client.cookies.get("examday_session"))
        r = tls.post(
            "/office/rooms/add",
            data={"iid": str(office), **ROOM},
            headers={"Origin": "https://exam.example:443"},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text


def test_a_cross_site_json_call_with_the_cookie_is_refused(world, client, office):
    # The desk page posts JSON with its cookie; another site cannot make the browser do the same.
    r = client.post(
        "/api/v1/checkins",
        json={"id_number": "x", "kiosk_nonce": "n", "ticket": "t"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert_refusal(r, 403, "csrf_refused")


def test_bearer_clients_are_not_checked(world, client):
    iid = world.institution()
    tok = world.token("office2", "admin", iid)
    r = client.post(
        "/office/rooms/add",
        data={"iid": str(iid), **ROOM},
        headers={**bearer(tok), "Origin": "http://elsewhere.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_reads_are_not_checked(client, office):
    assert client.get("/api/v1/me", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_login_from_another_site_is_refused_and_signs_nobody_in(world, client):
    # Login CSRF: another site must not sign the browser in to an account of its choosing.
    world.token("office", "admin", world.institution(), password="correct horse")
    r = client.post(
        "/login",
        data={"username": "office", "password": "correct horse", "next": "/"},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert_refusal(r, 403, "csrf_refused")
    assert not client.cookies.get("examday_session")


def test_logout_from_another_site_is_refused(client, office):
    r = client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert_refusal(r, 403, "csrf_refused")
    assert client.get("/api/v1/me").status_code == 200  # still signed in


def test_a_cross_site_websocket_with_the_cookie_is_closed_before_it_opens(world, client, office):
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/ws/batches/1", headers={"Origin": "http://evil.example"}) as ws:
            ws.receive_json(timeout=5)
    assert closed.value.code == 4403


def test_a_same_origin_websocket_with_the_cookie_opens(world, client, office):
    with client.websocket_connect("/ws/batches/999", headers={"Origin": OWN}) as ws:
        msg = ws.receive_json(timeout=10)
    assert msg["type"] == "error" and msg["code"] != "csrf_refused"  # past the check, to the feed's own answer
