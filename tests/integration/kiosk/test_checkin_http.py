"""POST /api/v1/checkins through HTTP on SQLite and PostgreSQL: every contract refusal code, a
refusal stores the attempt and nothing else, nonce replay, photos, events (R-DAY-1, R-ID-1,
R-TIME-1, R-AUDIT-1, R-PRIV-1)."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from examday import keys
from examday.actor import SYSTEM
from examday.audit import AuditEntry
from examday.identity import make_id_number
from examday.plans.models import Batch, Candidate, ExamSession, TicketKey
from examday.plans.tickets import current_ticket, issue_batch_tickets, issue_ticket
from examday.registry.models import Institution, Room
from kiosk.models import Attendance, CheckIn, OfflineConflict
from storage.blobs import Blob
from tests import builders
from tests.integration.kiosk.support import EXAM_DAY, OTHER_USCC, body, checkin_world, nonce
from tests.support import assert_refusal, bearer


@pytest.fixture
def w(db, clock, settings):
    return checkin_world(db, clock.now(), settings.secret_key)


@pytest.fixture
def kiosk(world, w):
    return bearer(world.token("kiosk1", "kiosk", w.institution_id))


@pytest.fixture
def events(app):
    got: list[tuple[int, dict]] = []
    app.state.events.subscribe(lambda bid, msg: got.append((bid, msg)))
    return got


def counts(db) -> dict[str, int]:
    out = {
        name: db.exec(select(func.count()).select_from(model)).one()
        for name, model in (
            ("checkin", CheckIn),
            ("attendance", Attendance),
            ("conflict", OfflineConflict),
            ("audit", AuditEntry),
            ("blob", Blob),
        )
    }
    out["withdrawn"] = db.exec(
        select(func.count()).select_from(Candidate).where(Candidate.status != "registered")
    ).one()
    db.commit()
    return out


def post(client, headers, payload):
    return client.post("/api/v1/checkins", json=payload, headers=headers)


def jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return buf.getvalue()


def test_accepted_answer_has_the_contract_fields(client, db, clock, w, kiosk, events):
    clock.advance(minutes=40)  # 08:40, the 09:00 session's entry opened at 08:30 (R-TIME-1)
    r = post(client, kiosk, body(w, 0))
    assert r.status_code == 200, r.text
    a = r.json()
    c = w.candidates[0]
    assert a["status"] == "accepted"
    assert a["candidate"]["name"] == c.name
    assert a["candidate"]["masked_id"] == c.id_number[:6] + "********" + c.id_number[-4:]
    assert c.id_number not in r.text  # R-PRIV-1
    assert (a["room_code"], a["seat"]) == ("T01", 1)
    assert a["session"]["starts_at"] == "2026-11-26T09:00:00+08:00" and a["late"] is False
    att = db.exec(select(Attendance)).one()
    assert (att.candidate_id, att.room_id) == (c.id, w.rooms[0].id)
    row = db.exec(select(CheckIn)).one()
    assert (row.status, row.code, row.via) == ("accepted", None, "kiosk")
    assert row.at == clock.now()  # the server's clock decides
    db.commit()
    assert events == [
        (
            w.batch_id,
            {
                **events[0][1],
                "event": "checkin",
                "room_code": "T01",
                "candidate_id": c.id,
                "session_id": att.session_id,
                "seat": 1,
                "late": False,
                "status": "present",
            },
        )
    ]


def test_late_flag_after_the_start(client, clock, w, kiosk):
    clock.advance(minutes=75)  # 09:15: late, still inside the 30 minutes (R-TIME-1)
    r = post(client, kiosk, body(w, 1))
    assert r.status_code == 200 and r.json()["late"] is True


def _revoke_by_reissue(db, clock, settings, w):
    cand = db.get(Candidate, w.candidates[2].id)
    issue_ticket(db, SYSTEM, db.get(Batch, w.batch_id), cand, settings.secret_key, clock.now(), reissue=True)
    db.commit()
    return body(w, 2)  # the old text


def _revoke_key(db, clock, settings, w):
    key = db.exec(select(TicketKey).where(TicketKey.institution_id == w.institution_id)).one()
    keys.revoke(db, key.kid, clock.now(), SYSTEM)
    db.commit()
    return body(w, 2)


def _tampered(db, clock, settings, w):
    text = w.qr(2)
    return body(w, 2, ticket=text[:-8] + ("A" if text[-8] != "A" else "B") + text[-7:])


def _other_institution(db, clock, settings, w):
    other = checkin_world(db, clock.now(), settings.secret_key, n=2, uscc=OTHER_USCC)
    return body(other, 0)


def _tomorrow(db, clock, settings, w):
    # Same institution, a batch on the next day: its ticket is refused today (R-DAY-1).
    inst = db.get(Institution, w.institution_id)
    rooms = db.exec(select(Room).where(Room.institution_id == inst.id, Room.kind == "theory")).all()
    b = builders.batch(db, inst, EXAM_DAY + timedelta(days=1), rooms, [], now=clock.now())
    c = Candidate(
        batch_id=b.id,
        name="赵明",
        id_number=make_id_number(EXAM_DAY.replace(year=1985), seq=3),
        ticket_number="990000001",
        created_at=clock.now(),
        eligibility="eligible",
    )
    db.add(c)
    db.flush()
    issue_batch_tickets(db, SYSTEM, b, settings.secret_key, clock.now())
    db.commit()
    text = current_ticket(db, c.id).qr_text
    db.commit()
    return {"ticket": text, "id_number": c.id_number, "kiosk_nonce": nonce()}


def _withdrawn(db, clock, settings, w):
    c = db.get(Candidate, w.candidates[2].id)
    c.status = "withdrawn"
    db.add(c)
    db.commit()
    return body(w, 2)


def _plan_withdrawn(db, clock, settings, w):
    b = db.get(Batch, w.batch_id)
    b.status = "draft"
    db.add(b)
    db.commit()
    return body(w, 2)


def _bad_check_digit(db, clock, settings, w):
    n = w.candidates[2].id_number
    return body(w, 2, id_number=n[:17] + ("0" if n[17] != "0" else "1"))


def _someone_else(db, clock, settings, w):
    return body(w, 2, id_number=w.candidates[3].id_number)


def _already_in(db, clock, settings, w):
    return body(w, 2)


# (code, rule, status, minutes after 08:00, how to make the attempt) — every refusal code of the contract.
REFUSALS = [
    ("invalid_ticket", "R-DAY-1", 422, 40, _tampered),
    ("revoked_ticket", "R-DAY-1", 422, 40, _revoke_by_reissue),
    ("revoked_ticket", "R-DAY-1", 422, 40, _revoke_key),
    ("wrong_institution", "R-DAY-1", 422, 40, _other_institution),
    ("wrong_day", "R-DAY-1", 422, 40, _tomorrow),
    ("not_open_yet", "R-TIME-1", 422, 29, lambda db, clock, settings, w: body(w, 2)),
    ("too_late", "R-TIME-1", 422, 91, lambda db, clock, settings, w: body(w, 2)),
    ("invalid_id_number", "R-ID-1", 422, 40, _bad_check_digit),
    ("id_mismatch", "R-ID-1", 422, 40, _someone_else),
    ("candidate_withdrawn", "R-DAY-1", 422, 40, _withdrawn),
    ("already_checked_in", "R-DAY-1", 409, 40, _already_in),
    # Beyond the contract's list: a plan withdrawn to draft is not run.
    ("plan_not_filed", "R-PLAN-1", 422, 40, _plan_withdrawn),
]


@pytest.mark.parametrize("code,rule,status,minutes,make", REFUSALS, ids=[f"{r[0]}-{r[4].__name__}" for r in REFUSALS])
def test_every_refusal_code_stores_the_attempt_and_nothing_else(
    client, db, clock, settings, w, kiosk, events, code, rule, status, minutes, make
):
    clock.advance(minutes=minutes)
    payload = make(db, clock, settings, w)
    if code == "already_checked_in":
        assert post(client, kiosk, body(w, 2)).status_code == 200
        events.clear()
    before = counts(db)
    r = post(client, kiosk, payload)
    refusal = assert_refusal(r, status, code, rule)
    after = counts(db)
    # R-DAY-1: the attempt is stored with its reason, kiosk and time; R-AUDIT-1: and on the chain.
    assert after == {**before, "checkin": before["checkin"] + 1, "audit": before["audit"] + 1}
    row = db.exec(select(CheckIn).order_by(CheckIn.id.desc())).first()
    db.commit()
    assert (row.status, row.code, row.rule, row.http_status) == ("refused", code, rule, status)
    assert row.at == clock.now() and row.kiosk_account_id is not None
    assert json.loads(row.response) == refusal
    assert events == []  # nothing to show the proctors
    if code == "already_checked_in":
        assert refusal["detail"]["kiosk"] == "kiosk1" and refusal["detail"]["at"].startswith("2026-11-26T08:40")
    if code == "wrong_institution":
        assert row.batch_id is None and row.candidate_id is None  # the other institution's data stays theirs


def test_same_nonce_returns_the_first_answer_and_stores_nothing(client, db, clock, w, kiosk):
    clock.advance(minutes=40)
    first_payload = body(w, 0, photo=base64.b64encode(jpeg()).decode())
    first = post(client, kiosk, first_payload)
    assert first.status_code == 200
    before = counts(db)
    again = post(client, kiosk, first_payload)
    assert (again.status_code, again.json()) == (200, first.json())
    # Even with another body, later, the nonce answers with what it answered first.
    clock.advance(minutes=30)
    other = post(client, kiosk, {**body(w, 1), "kiosk_nonce": first_payload["kiosk_nonce"]})
    assert (other.status_code, other.json()) == (200, first.json())
    assert counts(db) == before


def test_same_nonce_replays_a_refusal(client, db, clock, w, kiosk):
    clock.advance(minutes=40)
    payload = body(w, 0, id_number=w.candidates[1].id_number)
    first = post(client, kiosk, payload)
    assert_refusal(first, 422, "id_mismatch", "R-ID-1")
    before = counts(db)
    again = post(client, kiosk, {**payload, "id_number": w.candidates[0].id_number})
    assert (again.status_code, again.json()) == (422, first.json())
    assert counts(db) == before


def test_nonce_belongs_to_the_kiosk(client, db, clock, world, w, kiosk):
    clock.advance(minutes=40)
    payload = body(w, 0)
    assert post(client, kiosk, payload).status_code == 200
    second_kiosk = bearer(world.token("kiosk2", "kiosk", w.institution_id))
    r = post(client, second_kiosk, payload)  # same nonce from another kiosk is a new attempt
    assert_refusal(r, 409, "already_checked_in", "R-DAY-1")


def test_photo_is_stored_with_the_attempt(client, db, clock, world, w, kiosk, app):
    clock.advance(minutes=40)
    data = jpeg()
    r = post(client, kiosk, body(w, 0, photo=base64.b64encode(data).decode()))
    assert r.status_code == 200
    row = db.exec(select(CheckIn)).one()
    blob = db.get(Blob, row.photo_blob_id)
    db.commit()
    assert blob.retention_class == "electronic_records" and blob.content_type == "image/jpeg"
    assert blob.institution_id == w.institution_id
    assert app.state.blobs.read(blob.key) == data
    # A refused attempt keeps its photo too (who stood at the kiosk).
    r = post(
        client,
        kiosk,
        body(w, 1, id_number=w.candidates[2].id_number, photo=base64.b64encode(jpeg((0, 0, 200))).decode()),
    )
    assert r.status_code == 422
    refused = db.exec(select(CheckIn).where(CheckIn.status == "refused")).one()
    db.commit()
    assert refused.photo_blob_id is not None
    admin = bearer(world.token("office", "admin", w.institution_id))
    got = client.get(f"/api/v1/checkins/{row.id}/photo", headers=admin)
    assert got.status_code == 200 and got.content == data


def test_broken_photo_is_refused_before_anything(client, db, clock, w, kiosk):
    clock.advance(minutes=40)
    before = counts(db)
    r = post(client, kiosk, body(w, 0, photo=base64.b64encode(b"GIF89a not a jpeg").decode()))
    assert_refusal(r, 422, "invalid_photo", None)
    assert counts(db) == before


@pytest.mark.parametrize("role", ["proctor", "evaluator", "supervisor", "centre"])
def test_only_kiosks_and_the_office_check_in(client, db, clock, world, w, role):
    clock.advance(minutes=40)
    examiner = None
    if role == "evaluator":  # an evaluator acts as one of the institution's examiners (R-SCORE-1)
        from sqlmodel import Session

        from examday.registry.models import Staff

        with Session(world.engine) as s:  # its own transaction, ended before the account is written
            examiner = s.exec(
                select(Staff.id).where(Staff.institution_id == w.institution_id, Staff.roles == "examiner")
            ).first()
    tok = world.token(
        f"u-{role}",
        role,
        w.institution_id if role != "centre" else None,
        province="吉林" if role == "centre" else None,
        staff_id=examiner,
    )
    before = counts(db)
    assert_refusal(post(client, bearer(tok), body(w, 0)), 403, "forbidden")
    assert counts(db) == before


def test_no_token_no_check_in(client, db, clock, w):
    clock.advance(minutes=40)
    assert_refusal(post(client, {}, body(w, 0)), 401, "unauthenticated")


def test_second_session_on_the_day_is_its_own_check_in(client, db, clock, w, kiosk):
    # Two theory sittings: the window that holds the time picks the session (R-TIME-1).
    first = db.exec(select(ExamSession).where(ExamSession.batch_id == w.batch_id, ExamSession.part == "theory")).one()
    pm = ExamSession(
        batch_id=w.batch_id,
        part="theory",
        starts_at=first.starts_at + timedelta(hours=4),
        ends_at=first.ends_at + timedelta(hours=4),
    )
    db.add(pm)
    db.commit()
    clock.advance(minutes=40)
    assert post(client, kiosk, body(w, 0)).status_code == 200
    clock.advance(hours=4)
    r = post(client, kiosk, body(w, 0))
    assert r.status_code == 200 and r.json()["session"]["id"] == pm.id
    assert db.exec(select(func.count()).select_from(Attendance)).one() == 2
    db.commit()
