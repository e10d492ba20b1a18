"""Admission tickets over HTTP on SQLite and PostgreSQL: the QR read back with OpenCV verifies
offline with the published keys (R-DAY-1), reissue and key revocation refuse old tokens,
masked ID only (R-PRIV-1), the batch PDF, photos, and who may do what."""

from __future__ import annotations

import base64
import io
import re

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import Session, select

from examday.audit import AuditEntry
from examday.errors import Refusal
from examday.identity import mask_id_number
from examday.plans import seating_controllers, ticket_render
from examday.plans.models import Candidate, Ticket, TicketKey
from examday.plans.tickets import current_ticket, id_salt, read_ticket
from examday.ticket_token import TicketClaims, id_digest, id_matches, verify
from storage.blobs import Blob
from tests.integration.examday.test_seating_api import make_world
from tests.support import OTHER_USCC, assert_refusal, bearer


def qr_of(png: bytes) -> str:
    # OpenCV's detector misses a few clean codes; fall back to the kiosk's own decoder, as a kiosk would.
    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    text = cv2.QRCodeDetector().detectAndDecode(gray)[0]
    if not text:
        from kiosk.qrdecode import decode

        text = (decode(gray) or [""])[0]
    return text


def published(client, iid: int, headers) -> tuple[dict[str, str], set[str]]:
    r = client.get(f"/api/v1/institutions/{iid}/ticket-keys", headers=headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["algorithm"] == "Ed25519" and doc["institution_id"] == iid
    return {k["kid"]: k["public_key"] for k in doc["keys"]}, set(doc["revoked_kids"])


def offline(text: str, keys: tuple[dict[str, str], set[str]], revoked_tokens: set[str] = frozenset()) -> TicketClaims:
    return verify(text, keys[0], keys[1], revoked_tokens)


def refusal_of(fn) -> Refusal:
    with pytest.raises(Refusal) as err:
        fn()
    return err.value


@pytest.fixture
def views(monkeypatch):
    """The TicketView each rendered ticket was drawn from (the real renderer still draws it)."""
    seen: list[ticket_render.TicketView] = []

    def render(view):
        seen.append(view)
        return ticket_render.render_ticket_png(view)

    monkeypatch.setattr(seating_controllers, "render_ticket_png", render)
    return seen


def ticket_png(client, w, cid: int) -> bytes:
    r = client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=w["admin"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return r.content


def counts(engine) -> tuple:
    with Session(engine) as db:
        return tuple(db.exec(select(func.count()).select_from(t)).one() for t in (Ticket, TicketKey, Blob, AuditEntry))


def test_the_ticket_qr_reads_back_and_verifies_offline_with_the_published_keys(world, client, app, views):  # R-DAY-1
    w = make_world(world, n=6)
    seating = client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 2}, headers=w["admin"]).json()
    cand = w["cands"][0]
    text = qr_of(ticket_png(client, w, cand.id))
    with Session(world.engine) as db:
        assert text == current_ticket(db, cand.id).qr_text
    kiosk = bearer(world.token("k1", "kiosk", w["iid"]))
    claims = offline(text, published(client, w["iid"], kiosk))
    assert (claims.ticket_number, claims.batch_id, claims.exam_date.isoformat()) == (
        cand.ticket_number,
        w["bid"],
        "2026-12-14",
    )
    salt = id_salt(app.state.settings.secret_key, w["iid"])
    assert id_matches(claims, id_digest(cand.id_number, salt))
    assert not id_matches(claims, id_digest(w["cands"][1].id_number, salt))
    # R-SEAT-1: the ticket shows the allocated room and seat; R-PRIV-1: the ID only masked.
    seat = next(s for s in seating["seats"] if s["candidate_id"] == cand.id)
    view = views[-1]
    assert (view.room_code, view.seat) == (seat["room_code"], seat["seat"])
    assert view.masked_id == mask_id_number(cand.id_number) != cand.id_number
    assert [p for p, _, _ in view.sessions] == ["theory", "skill"]


def test_tampered_truncated_and_wrong_key_tokens_are_refused(world, client):  # R-DAY-1
    w = make_world(world, n=2)
    other = make_world(world, n=2, uscc=OTHER_USCC)
    client.post(f"/api/v1/batches/{other['bid']}/seating", json={"seed": 1}, headers=other["admin"])
    text = qr_of(ticket_png(client, w, w["cands"][0].id))
    mine = published(client, w["iid"], w["admin"])
    assert offline(text, mine).ticket_number == w["cands"][0].ticket_number
    body = text[4:]
    middle = len(body) // 2
    tampered = "EX1." + body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1 :]
    for bad in (tampered, text[:-6], text[:40], text + "AAAA", text.replace("EX1.", "EX2.")):
        assert refusal_of(lambda bad=bad: offline(bad, mine)).code == "invalid_ticket"
    theirs = published(client, other["iid"], other["admin"])
    err = refusal_of(lambda: offline(text, theirs))
    assert (err.code, err.detail["reason"]) == ("invalid_ticket", "unknown_key")


def test_the_token_never_carries_the_id_number(world, client, views):  # R-PRIV-1
    w = make_world(world, n=3)
    for cand in w["cands"]:
        png = ticket_png(client, w, cand.id)  # issued on this first request: no seating yet
        text = qr_of(png)
        raw = base64.urlsafe_b64decode(text[4:] + "=" * (-len(text[4:]) % 4))
        for number in (cand.id_number, cand.id_number[:17], cand.id_number[6:14]):
            assert number not in text and number.encode() not in raw and number.encode() not in png
        assert views[-1].masked_id == mask_id_number(cand.id_number)
        assert (views[-1].room_code, views[-1].seat) == ("—", None)
    with Session(world.engine) as db:
        assert (
            db.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ticket.issue")).one() == 3
        )


def test_reissue_revokes_the_old_token(world, client):  # R-DAY-1
    w = make_world(world, n=3)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"])
    cand = w["cands"][0]
    old = qr_of(ticket_png(client, w, cand.id))
    r = client.post(f"/api/v1/candidates/{cand.id}/ticket/reissue", headers=w["admin"])
    assert r.status_code == 200, r.text
    body = r.json()
    new = qr_of(ticket_png(client, w, cand.id))
    assert new != old and body["token_id"] != body["revoked_token_id"]
    keys = published(client, w["iid"], w["admin"])
    assert offline(new, keys, {body["revoked_token_id"]}).token_id == body["token_id"]
    err = refusal_of(lambda: offline(old, keys, {body["revoked_token_id"]}))
    assert (err.code, err.detail["reason"]) == ("revoked_ticket", "token_revoked")
    with Session(world.engine) as db:
        assert refusal_of(lambda: read_ticket(db, old)).code == "revoked_ticket"
        assert read_ticket(db, new).ticket_number == cand.ticket_number
        withdrawn = db.get(Candidate, w["cands"][1].id)
        withdrawn.status = "withdrawn"
        db.add(withdrawn)
        db.commit()
    before = counts(world.engine)
    assert_refusal(
        client.post(f"/api/v1/candidates/{w['cands'][1].id}/ticket/reissue", headers=w["admin"]),
        409,
        "candidate_withdrawn",
    )
    assert counts(world.engine) == before


def test_a_rotated_key_keeps_verifying_its_tickets_until_revoked(world, client):  # R-DAY-1
    w = make_world(world, n=4)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"])
    first = {c.id: qr_of(ticket_png(client, w, c.id)) for c in w["cands"]}
    key_a = published(client, w["iid"], w["admin"])
    (kid_a,) = key_a[0]
    rotated = client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/rotate", headers=w["admin"]).json()
    kid_b = rotated["kid"]
    reissued = client.post(f"/api/v1/candidates/{w['cands'][0].id}/ticket/reissue", headers=w["admin"]).json()
    assert (reissued["kid"], kid_b != kid_a) == (kid_b, True)
    both = published(client, w["iid"], w["admin"])
    assert set(both[0]) == {kid_a, kid_b} and both[1] == set()
    for c in w["cands"][1:]:
        assert offline(first[c.id], both).ticket_number == c.ticket_number  # old key, still valid
    under_b = qr_of(ticket_png(client, w, w["cands"][0].id))
    assert offline(under_b, both).token_id == reissued["token_id"]
    r = client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/{kid_a}/revoke", headers=w["admin"])
    assert r.status_code == 200 and r.json()["tickets_signed"] == 3 and r.json()["reissued"] == 0
    after = published(client, w["iid"], w["admin"])
    assert set(after[0]) == {kid_b} and after[1] == {kid_a}
    for c in w["cands"][1:]:
        err = refusal_of(lambda c=c: offline(first[c.id], after))
        assert (err.code, err.detail["reason"]) == ("revoked_ticket", "key_revoked")
    assert offline(under_b, after).token_id == reissued["token_id"]
    # Revoking with reissue moves the key's tickets to the active key in one step.
    kid_c = client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/rotate", headers=w["admin"]).json()["kid"]
    r = client.post(
        f"/api/v1/institutions/{w['iid']}/ticket-keys/{kid_b}/revoke", json={"reissue": True}, headers=w["admin"]
    )
    assert r.json()["reissued"] == 1
    now_c = qr_of(ticket_png(client, w, w["cands"][0].id))
    assert offline(now_c, published(client, w["iid"], w["admin"])).ticket_number == w["cands"][0].ticket_number
    with Session(world.engine) as db:
        assert current_ticket(db, w["cands"][0].id).kid == kid_c
    assert_refusal(
        client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/ffffffff/revoke", headers=w["admin"]),
        404,
        "not_found",
    )


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_the_batch_pdf_has_every_ticket_four_to_a_page(world, client):
    w = make_world(world, n=9)
    r = client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf", headers=w["admin"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and _pages(r.content) == 3
    with Session(world.engine) as db:  # issued on this request for everyone who had none
        assert db.exec(select(func.count()).select_from(Ticket).where(Ticket.revoked_at.is_(None))).one() == 9
    w2 = make_world(world, n=13, uscc=OTHER_USCC)
    client.post(f"/api/v1/batches/{w2['bid']}/seating", json={"seed": 4}, headers=w2["admin"])
    assert _pages(client.get(f"/api/v1/batches/{w2['bid']}/tickets.pdf", headers=w2["admin"]).content) == 4


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 320), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_uploaded_by_the_office_is_on_the_ticket(world, client, views):
    w = make_world(world, n=2)
    cand = w["cands"][0]
    photo = _jpeg()
    r = client.post(
        f"/api/v1/candidates/{cand.id}/photo", files={"file": ("me.jpg", photo, "image/jpeg")}, headers=w["admin"]
    )
    assert r.status_code == 200, r.text
    got = client.get(f"/api/v1/candidates/{cand.id}/photo", headers=w["admin"])
    assert got.status_code == 200 and got.content == photo and got.headers["content-type"] == "image/jpeg"
    ticket_png(client, w, cand.id)
    assert views[-1].photo == photo
    with Session(world.engine) as db:
        blob = db.exec(select(Blob).where(Blob.label == "candidate photo")).one()
        assert blob.retention_class == "electronic_records" and blob.institution_id == w["iid"]
    before = counts(world.engine)
    bad = client.post(
        f"/api/v1/candidates/{cand.id}/photo",
        files={"file": ("x.jpg", b"not a photo", "image/jpeg")},
        headers=w["admin"],
    )
    assert_refusal(bad, 422, "invalid_photo")
    assert counts(world.engine) == before
    proctor = bearer(world.token("p1", "proctor", w["iid"]))
    before = counts(world.engine)
    assert_refusal(
        client.post(
            f"/api/v1/candidates/{cand.id}/photo", files={"file": ("me.jpg", photo, "image/jpeg")}, headers=proctor
        ),
        403,
        "forbidden",
    )
    assert counts(world.engine) == before


def test_only_the_exam_office_prints_reissues_and_manages_keys(world, client):
    w = make_world(world, n=2)
    other = make_world(world, n=1, uscc=OTHER_USCC)
    client.post(f"/api/v1/batches/{w['bid']}/seating", json={"seed": 1}, headers=w["admin"])
    role = {r: bearer(world.token(f"{r}1", r, w["iid"])) for r in ("proctor", "kiosk", "supervisor", "evaluator")}
    other_kiosk = bearer(world.token("k-other", "kiosk", other["iid"]))
    with Session(world.engine) as db:
        kid = db.exec(select(TicketKey.kid).where(TicketKey.institution_id == w["iid"])).one()
    cid = w["cands"][0].id
    before = counts(world.engine)
    for h in (role["proctor"], role["kiosk"], role["supervisor"], other["admin"]):
        assert_refusal(client.get(f"/api/v1/candidates/{cid}/ticket.png", headers=h), 403, "forbidden")
        assert_refusal(client.get(f"/api/v1/batches/{w['bid']}/tickets.pdf", headers=h), 403, "forbidden")
        assert_refusal(client.post(f"/api/v1/candidates/{cid}/ticket/reissue", headers=h), 403, "forbidden")
        assert_refusal(client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/rotate", headers=h), 403, "forbidden")
        assert_refusal(
            client.post(f"/api/v1/institutions/{w['iid']}/ticket-keys/{kid}/revoke", headers=h), 403, "forbidden"
        )
    for h in (role["evaluator"], other_kiosk, role["proctor"]):
        assert_refusal(client.get(f"/api/v1/institutions/{w['iid']}/ticket-keys", headers=h), 403, "forbidden")
    assert counts(world.engine) == before
    assert client.get(f"/api/v1/institutions/{w['iid']}/ticket-keys", headers=role["kiosk"]).status_code == 200
