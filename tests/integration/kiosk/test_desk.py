"""The check-in desk: a typed ticket number, a candidate found by name (the ID check still
applies), the search's masking, and the page itself (R-DAY-1, R-ID-1, R-PRIV-1)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from kiosk.models import Attendance, CheckIn
from tests.integration.kiosk.support import checkin_world, nonce
from tests.support import assert_refusal, bearer


@pytest.fixture
def w(db, clock, settings):
    world = checkin_world(db, clock.now(), settings.secret_key, n=6)
    clock.advance(minutes=40)
    return world


def test_typed_ticket_number_with_the_right_id(client, db, world, w):
    admin = bearer(world.token("office", "admin", w.institution_id))
    c = w.candidates[1]
    r = client.post(
        "/api/v1/checkins",
        headers=admin,
        json={"ticket_number": c.ticket_number, "id_number": c.id_number, "kiosk_nonce": nonce()},
    )
    assert r.status_code == 200 and r.json()["candidate"]["id"] == c.id
    row = db.exec(select(CheckIn)).one()
    db.commit()
    assert row.via == "desk"


def test_typed_ticket_number_still_checks_the_id(client, db, world, w):
    # R-ID-1: without the signed code, the register's ID number is the proof.
    kiosk = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    c = w.candidates[1]
    r = client.post(
        "/api/v1/checkins",
        headers=kiosk,
        json={"ticket_number": c.ticket_number, "id_number": w.candidates[2].id_number, "kiosk_nonce": nonce()},
    )
    assert_refusal(r, 422, "id_mismatch", "R-ID-1")
    r = client.post(
        "/api/v1/checkins",
        headers=kiosk,
        json={"ticket_number": "no-such-ticket", "id_number": c.id_number, "kiosk_nonce": nonce()},
    )
    assert_refusal(r, 422, "invalid_ticket", "R-DAY-1")
    assert db.exec(select(Attendance)).all() == []
    db.commit()


def test_lost_ticket_search_by_name_then_check_in(client, db, world, w):
    kiosk = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    c = w.candidates[3]
    found = client.get(f"/api/v1/batches/{w.batch_id}/candidates/search", params={"q": c.name}, headers=kiosk).json()
    hit = next(x for x in found if x["id"] == c.id)
    # R-PRIV-1: the kiosk sees the masked name and ID number only.
    assert hit["name"] != c.name and hit["name"][0] == c.name[0]
    assert hit["masked_id"] == c.id_number[:6] + "********" + c.id_number[-4:]
    assert c.id_number not in str(found)
    wrong = client.post(
        "/api/v1/checkins",
        headers=kiosk,
        json={"candidate_id": c.id, "id_number": w.candidates[0].id_number, "kiosk_nonce": nonce()},
    )
    assert_refusal(wrong, 422, "id_mismatch", "R-ID-1")
    right = client.post(
        "/api/v1/checkins", headers=kiosk, json={"candidate_id": c.id, "id_number": c.id_number, "kiosk_nonce": nonce()}
    )
    assert right.status_code == 200
    again = client.get(f"/api/v1/batches/{w.batch_id}/candidates/search", params={"q": c.name}, headers=kiosk).json()
    assert next(x for x in again if x["id"] == c.id)["checked_in"] is True


def test_admin_search_shows_full_names_and_another_institution_sees_nothing(client, world, w):
    admin = bearer(world.token("office", "admin", w.institution_id))
    c = w.candidates[0]
    found = client.get(
        f"/api/v1/batches/{w.batch_id}/candidates/search", params={"q": c.ticket_number}, headers=admin
    ).json()
    assert [x["name"] for x in found] == [c.name]
    assert (
        client.get(f"/api/v1/batches/{w.batch_id}/candidates/search", params={"q": "%"}, headers=admin).json() == []
    )  # a wildcard is a character, not "everyone"
    other = world.token("k-other", "kiosk", world.institution(uscc="91440101MA5CJQ4N59", name="另一机构"))
    r = client.get(f"/api/v1/batches/{w.batch_id}/candidates/search", params={"q": c.name}, headers=bearer(other))
    assert_refusal(r, 403, "forbidden")


def test_candidate_from_another_institution_is_refused_at_the_desk(client, db, world, w, clock, settings):
    other = checkin_world(db, clock.now(), settings.secret_key, n=2, uscc="91440101MA5CJQ4N59")
    kiosk = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    c = other.candidates[0]
    r = client.post(
        "/api/v1/checkins", headers=kiosk, json={"candidate_id": c.id, "id_number": c.id_number, "kiosk_nonce": nonce()}
    )
    assert_refusal(r, 422, "wrong_institution", "R-DAY-1")


def test_desk_page_for_kiosk_and_admin_only(client, world, w):
    kiosk = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    page = client.get("/desk", headers={**kiosk, "Accept": "text/html"})
    assert page.status_code == 200
    assert "签到台" in page.text and "/api/v1/checkins" in page.text and f'value="{w.batch_id}"' in page.text
    proctor = bearer(world.token("p1", "proctor", w.institution_id))
    assert client.get("/desk", headers=proctor).status_code == 403
