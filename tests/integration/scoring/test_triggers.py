"""The database refuses changes to a locked batch's scores (R-SCORE-3, R-AUDIT-1),
on SQLite and PostgreSQL; a row changed behind the triggers' back is caught by
``examday audit verify``."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from examday.clock import CST
from scoring.ddl import install_lock_triggers
from scoring.models import PartScore, ScoreEntry
from scoring.services.lock import verify_seals

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


def _behind_the_triggers(engine, sql: str, **params) -> None:
    """What an operator with full database rights could do: change a row with the triggers off."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(sql), params)
        else:
            conn.execute(text("DROP TRIGGER part_score_locked_upd"))
            conn.execute(text("DROP TRIGGER score_entry_locked_upd"))
            conn.execute(text("DROP TRIGGER score_entry_append_only"))
            conn.execute(text(sql), params)
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
