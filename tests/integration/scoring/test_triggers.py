"""The database refuses changes to a locked batch's scores (R-SCORE-3, R-AUDIT-1),
on SQLite and PostgreSQL; a row changed behind the triggers' back is caught by
``examday audit verify``."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from examday.accounts.models import Account
from examday.clock import CST
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SessionRoom, Ticket
from examday.registry.models import Institution, Room
from kiosk.models import Attendance, CheckIn
from scoring.ddl import CHECKIN_KEPT_COLUMNS, install_lock_triggers
from scoring.models import PartScore, ScoreEntry
from scoring.services.lock import verify_seals
from storage.blobs import Blob
from tests import builders
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal

AFTER_END = datetime(2026, 12, 3, 8, 30, tzinfo=CST)


@pytest.fixture
def locked(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    return sw


def refused(engine, sql: str, **params) -> str:
    with pytest.raises(DBAPIError) as caught:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    return str(caught.value.orig)


def first_id(engine, model) -> int:
    with Session(engine) as db:
        return db.exec(select(model.id).order_by(model.id)).first()


# R-SCORE-3: a direct SQL UPDATE of a locked score row is refused by the database.
def test_direct_update_and_delete_of_locked_rows_are_refused(locked, engine):
    ps = first_id(engine, PartScore)
    assert "locked" in refused(engine, "UPDATE part_score SET score_tenths = 1000 WHERE id = :i", i=ps)
    assert "locked" in refused(engine, "DELETE FROM part_score WHERE id = :i", i=ps)
    entry = first_id(engine, ScoreEntry)
    assert "locked" in refused(engine, "DELETE FROM score_entry WHERE id = :i", i=entry)
    assert "locked" in refused(engine, "UPDATE rubric_item SET max_tenths = 1 WHERE batch_id = :b", b=locked.batch_id)
    assert "locked" in refused(engine, "DELETE FROM batch_seal WHERE batch_id = :b", b=locked.batch_id)
    # Unlocking the batch, or moving its pass mark, is refused too.
    assert "locked" in refused(engine, "UPDATE batch SET status = 'filed' WHERE id = :b", b=locked.batch_id)
    assert "locked" in refused(
        engine, "UPDATE batch SET config = :c WHERE id = :b", c=json.dumps({"pass_mark": 50}), b=locked.batch_id
    )
    with Session(engine) as db:
        assert db.get(PartScore, ps).score_tenths != 1000
        assert verify_seals(db) == []


def test_insert_into_a_locked_batch_is_refused(locked, engine, clock):
    msg = refused(
        engine,
        "INSERT INTO objection (batch_id, candidate_id, part, raised_by, reason, status, created_at)"
        " VALUES (:b, :c, 'skill', '', 'x', 'open', :t)",
        b=locked.batch_id,
        c=locked.candidates[0],
        t=clock.now().replace(tzinfo=None),
    )
    assert "locked" in msg
    msg = refused(
        engine,
        "INSERT INTO score_entry (batch_id, candidate_id, part, examiner_staff_id, version, round,"
        " items, total_tenths, hash, signature, created_at) VALUES"
        " (:b, :c, 'skill', :e, 9, 0, '{}', 0, :h, 'x', :t)",
        b=locked.batch_id,
        c=locked.candidates[0],
        e=locked.examiners[0],
        h="f" * 64,
        t=clock.now().replace(tzinfo=None),
    )
    assert "locked" in msg


# R-SCORE-2: entries are append-only even before the lock.
def test_score_entries_are_append_only_before_the_lock(sw, engine):
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    assert sw.enter(1, sw.candidates[0], 70).status_code == 201
    entry = first_id(engine, ScoreEntry)
    assert "append_only" in refused(engine, "UPDATE score_entry SET total_tenths = 990 WHERE id = :i", i=entry)
    # An unlocked part score may still change (the services do it as entries come in).
    with engine.begin() as conn:
        conn.execute(text("UPDATE part_score SET round = round WHERE batch_id = :b"), {"b": sw.batch_id})


def test_installing_the_triggers_again_is_harmless(locked, engine):
    install_lock_triggers(engine)
    install_lock_triggers(engine)
    assert "locked" in refused(engine, "DELETE FROM part_score WHERE batch_id = :b", b=locked.batch_id)


def _behind_the_triggers(engine, sql: str | list[str], **params) -> None:
    """What an operator with full database rights could do: drop the triggers, change a row."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            triggers = conn.execute(
                text(
                    "SELECT tgname, tgrelid::regclass::text FROM pg_trigger"
                    " WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE '%.%'"
                )
            ).all()
            for name, table in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
        else:
            for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        for statement in [sql] if isinstance(sql, str) else sql:
            conn.execute(text(statement), params)
    install_lock_triggers(engine)


def _audit_verify(settings, monkeypatch, capsys) -> tuple[int, str]:
    from examday import cli
    from storage.db import make_engine

    # The schema here is built from the models; the migrations are regenerated separately.
    monkeypatch.setattr(cli, "_engine", lambda s: make_engine(s.database_url))
    code = cli.cmd_audit_verify(None, settings)
    return code, capsys.readouterr().out


# R-AUDIT-1: a tampered row is caught by `examday audit verify`.
def test_tampered_score_is_caught_by_audit_verify(locked, engine, settings, monkeypatch, capsys):
    assert _audit_verify(settings, monkeypatch, capsys) == (0, "audit chain holds\n")
    _behind_the_triggers(
        engine, "UPDATE part_score SET score_tenths = 600 WHERE id = :i", i=first_id(engine, PartScore)
    )
    code, out = _audit_verify(settings, monkeypatch, capsys)
    assert code == 1
    assert f"batch {locked.batch_id}: seal broken" in out


def test_tampered_entry_breaks_its_chain_and_the_seal(locked, engine, settings, monkeypatch, capsys):
    entry = first_id(engine, ScoreEntry)
    _behind_the_triggers(
        engine,
        "UPDATE score_entry SET items = :j WHERE id = :i",
        j=json.dumps({"A1": "40.0", "A2": "35.0", "A3": "25.0"}),
        i=entry,
    )
    code, out = _audit_verify(settings, monkeypatch, capsys)
    assert code == 1
    assert "seal broken" in out and "score entry chain broken" in out


# -- finding 6 (issue #14): what a locked batch's results rest on, not only its scores ---------


def _exam_day_records(sw, engine, now) -> dict[str, int]:
    """A seat, a ticket, a check-in and its attendance for the first candidate, and a photo blob:
    what the exam day leaves behind before the lock."""
    cand_id = sw.candidates[0]
    with Session(engine) as db:
        cand = db.get(Candidate, cand_id)
        session = db.exec(select(ExamSession).where(ExamSession.batch_id == sw.batch_id)).first()
        room_id = db.exec(select(SessionRoom.room_id).where(SessionRoom.session_id == session.id)).first()
        kiosk = db.exec(select(Account.id)).first()
        photo = Blob(key="p/1.jpg", sha256="0" * 64, size=1, content_type="image/jpeg", created_at=now)
        db.add(photo)
        db.flush()
        cand.photo_blob_id = photo.id
        seat = Seat(batch_id=sw.batch_id, part="theory", candidate_id=cand_id, room_id=room_id, seat_no=1)
        ticket = Ticket(candidate_id=cand_id, token_id="tok-1", kid="k", qr_text="x", issued_at=now)
        checkin = CheckIn(
            batch_id=sw.batch_id,
            session_id=session.id,
            candidate_id=cand_id,
            ticket_number=cand.ticket_number,
            kiosk_account_id=kiosk,
            kiosk_nonce="n-1",
            status="accepted",
            at=now,
            room_id=room_id,
            seat_no=1,
        )
        db.add_all([cand, seat, ticket, checkin])
        db.flush()
        att = Attendance(
            batch_id=sw.batch_id, session_id=session.id, candidate_id=cand_id, checkin_id=checkin.id, at=now
        )
        db.add(att)
        db.commit()
        return {
            "candidate": cand_id,
            "seat": seat.id,
            "ticket": ticket.id,
            "checkin": checkin.id,
            "attendance": att.id,
            "blob": photo.id,
            "session": session.id,
            "kiosk": kiosk,
        }


@pytest.fixture
def locked_day(client, world, engine, clock):
    """A locked batch in which the first candidate failed (55 in theory) and the third passed."""
    sw = build(client, world, engine, clock, admit=False)
    records = _exam_day_records(sw, engine, clock.now())  # the first candidate's theory check-in
    sw.sit(sw.candidates[:1], parts=("skill",))
    sw.sit(sw.candidates[1:])
    sw.ready_for_publicity()
    assert sw.theory([(t, "55" if i == 0 else "90") for i, t in enumerate(sw.tickets)]).status_code == 201
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    return sw, records


# Finding 6 (issue #14), R-SCORE-3, R-AUDIT-1: the names, ID numbers, tickets, seats and check-ins of
# a locked batch are refused at the database like its scores.
def test_locked_batch_candidates_and_exam_day_records_are_refused(locked_day, engine):
    sw, ids = locked_day
    cand = ids["candidate"]
    assert "locked" in refused(engine, "UPDATE candidate SET name = 'X' WHERE id = :i", i=cand)
    assert "locked" in refused(engine, "UPDATE candidate SET id_number = '110101199001010011' WHERE id = :i", i=cand)
    assert "locked" in refused(engine, "UPDATE candidate SET ticket_number = '9' WHERE id = :i", i=cand)
    assert "locked" in refused(engine, "DELETE FROM candidate WHERE id = :i", i=sw.candidates[3])
    for table in ("seat", "ticket", "checkin", "attendance"):
        assert "locked" in refused(engine, f"UPDATE {table} SET id = id WHERE id = :i", i=ids[table])
        assert "locked" in refused(engine, f"DELETE FROM {table} WHERE id = :i", i=ids[table])
    # A candidate cannot be added to the results, nor moved into the locked batch.
    with Session(engine) as db:
        row = db.get(Candidate, sw.candidates[1])
        created = row.created_at
    assert "locked" in refused(
        engine,
        "INSERT INTO candidate (batch_id, name, id_number, ticket_number, status, eligibility, created_at)"
        " VALUES (:b, 'Y', '110101199001010011', '99999', 'registered', 'eligible', :t)",
        b=sw.batch_id,
        t=created.replace(tzinfo=None),
    )
    with Session(engine) as db:
        names = [db.get(Candidate, i).name for i in sw.candidates]
        assert verify_seals(db) == []
    assert "X" not in names


# R-CERT-1 with R-SCORE-3: certificate numbers are issued after the lock, and never changed.
def test_certificates_of_a_locked_batch_are_refused_changes(locked_day, engine):
    sw, _ = locked_day
    sw.approve()  # the centre's review comes first (R-CERT-1)
    cert = {"kind": "Y", "institution_code": "0000", "site_serial": "000012", "issue_date": "2026-12-10"}
    r = sw.client.post(f"/api/v1/batches/{sw.batch_id}/certificates", headers=sw.admin, json=cert)
    assert r.status_code == 201, r.text
    assert "locked" in refused(engine, "UPDATE certificate SET candidate_id = candidate_id + 0")
    # The review is kept the same way (R-CERT-1).
    assert "locked" in refused(engine, "UPDATE batch_review SET decision = 'return'")
    assert "locked" in refused(engine, "DELETE FROM batch_review WHERE batch_id = :b", b=sw.batch_id)
    assert "locked" in refused(engine, "DELETE FROM certificate WHERE batch_id = :b", b=sw.batch_id)
    assert "locked" in refused(engine, "UPDATE certificate_issue SET issue_date = issue_date")


# The triggers guard the locked batch only: other batches, the kiosk's log of refused scans and the
# retention purge (R-VIDEO-1, R-ARCH-1 stamp blobs purged) still write.
def test_other_batches_and_the_purge_still_write(locked_day, engine, clock):
    sw, ids = locked_day
    with Session(engine) as db:
        inst = db.get(Batch, sw.batch_id).institution_id
        rooms = db.exec(select(Room).where(Room.institution_id == inst).order_by(Room.id)).all()
        b = builders.batch(db, db.get(Institution, inst), AFTER_END.date(), rooms[:1], [], now=AFTER_END)
        others = [c.id for c in builders.candidates(db, b, 2, now=AFTER_END)]
        other = b.id
        db.commit()
    with engine.begin() as conn:
        conn.execute(text("UPDATE candidate SET name = 'Z' WHERE batch_id = :b"), {"b": other})
        conn.execute(text("DELETE FROM candidate WHERE id = :i"), {"i": others[1]})
        conn.execute(text("UPDATE blob SET purged_at = :t WHERE id = :i"), {"t": AFTER_END, "i": ids["blob"]})
        conn.execute(
            text(
                "INSERT INTO checkin (batch_id, session_id, candidate_id, kiosk_account_id, kiosk_nonce, status,"
                " code, at, offline, via, late, response, http_status)"
                " VALUES (:b, :s, :c, :k, 'n-2', 'refused', 'not_today', :t, false, 'kiosk', false, '{}', 409)"
            ),
            {"b": sw.batch_id, "s": ids["session"], "c": ids["candidate"], "k": ids["kiosk"], "t": AFTER_END},
        )
        # The kiosk completes the refused record's answer with its offline-conflict flag.
        conn.execute(text("UPDATE checkin SET response = '{\"x\": 1}' WHERE kiosk_nonce = 'n-2'"))
    assert "locked" in refused(engine, "UPDATE checkin SET status = 'accepted' WHERE kiosk_nonce = 'n-2'")
    with Session(engine) as db:
        assert db.get(Blob, ids["blob"]).purged_at is not None
        assert verify_seals(db) == []


def test_every_checkin_column_but_the_answer_is_kept():
    # A new check-in column is kept unless it is added to the exception on purpose.
    assert set(CHECKIN_KEPT_COLUMNS) == set(CheckIn.__table__.columns.keys()) - {"response"}


def _swap(engine, column: str, a: int, b: int) -> None:
    with Session(engine) as db:
        va, vb = getattr(db.get(Candidate, a), column), getattr(db.get(Candidate, b), column)
    # In three steps, through a placeholder: (batch_id, id_number) is unique.
    _behind_the_triggers(
        engine,
        [
            f"UPDATE candidate SET {column} = '000000000000000000' WHERE id = :a",
            f"UPDATE candidate SET {column} = :va WHERE id = :b",
            f"UPDATE candidate SET {column} = :vb WHERE id = :a",
        ],
        a=a,
        b=b,
        va=va,
        vb=vb,
    )


# Finding 6 (issue #14), R-AUDIT-1: swapping a failed candidate's name with a passed one's, behind the
# triggers, moves the pass; `examday audit verify` names the batch whose seal no longer holds.
@pytest.mark.parametrize("column", ["name", "id_number"])
def test_swap_behind_the_triggers_is_caught_by_audit_verify(locked_day, engine, settings, monkeypatch, capsys, column):
    sw, _ = locked_day
    assert _audit_verify(settings, monkeypatch, capsys) == (0, "audit chain holds\n")
    failed, passed = sw.candidates[0], sw.candidates[2]
    _swap(engine, column, failed, passed)
    code, out = _audit_verify(settings, monkeypatch, capsys)
    assert code == 1
    assert f"batch {sw.batch_id}: seal broken" in out


# R-SCORE-3: where the database now refuses, the API answers with the stable refusal, not a crash.
def test_a_photo_for_a_locked_batch_candidate_is_refused_by_the_api(locked_day, engine):
    from PIL import Image

    sw, ids = locked_day
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(photo, "JPEG")
    r = sw.client.post(
        f"/api/v1/candidates/{ids['candidate']}/photo",
        files={"file": ("me.jpg", photo.getvalue(), "image/jpeg")},
        headers=sw.admin,
    )
    assert_refusal(r, 409, "locked", "R-SCORE-3")
    with Session(engine) as db:
        assert db.get(Candidate, ids["candidate"]).photo_blob_id == ids["blob"]
