"""Input the framework or the database cannot take, found by fuzzing (tests/fuzz):
it is refused in the contract's shape and changes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session, select

from examday.accounts.models import Account
from tests.support import assert_refusal, bearer

HUGE = 2**70
# One body that every route below accepts the shape of (unknown fields are ignored).
ANY_BODY = {
    "action": "renew",
    "number": "JL-2026-001",
    "valid_from": "2026-01-01",
    "valid_until": "2028-12-31",
    "kind": "relative",
    "reason": "fuzz",
    "organisation": "ok",
    "eligibility": "ok",
    "questions_examiners": "ok",
    "rooms_equipment": "ok",
    "fees": "ok",
    "opinion": "valid",
}


def test_an_id_no_column_can_hold_is_not_found(world, client):
    root = world.token("root", "admin")
    for url in (
        f"/api/v1/institutions/{HUGE}/filing",
        f"/api/v1/staff/{HUGE}/conflicts",
        f"/api/v1/holds/{HUGE}/release",
        f"/api/v1/batches/{HUGE}/supervision/report",
    ):
        assert_refusal(client.post(url, json=ANY_BODY, headers=bearer(root)), 404, "not_found")


def test_a_number_too_large_in_the_body_is_refused_and_changes_nothing(world, client, engine):
    root = world.token("root", "admin")
    iid = world.institution()
    before = _accounts(engine)
    r = client.post(
        "/api/v1/accounts",
        headers=bearer(root),
        json={"username": "p9", "role": "proctor", "institution_id": iid, "staff_id": HUGE},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("number_out_of_range", "value_out_of_range")
    assert_refusal(r, 422, r.json()["code"], None)
    assert _accounts(engine) == before


def test_a_form_field_that_is_not_utf8_is_refused(world, client):
    root = world.token("root", "admin")
    body = b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n\xff\xfe\x89\r\n--b--\r\n'
    r = client.post(
        "/api/v1/batches/1/candidates",
        content=body,
        headers={**bearer(root), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_refusal(r, 400, "invalid_encoding", None)


def _accounts(engine) -> list[str]:
    with Session(engine) as db:
        return sorted(a.username for a in db.exec(select(Account)).all())
