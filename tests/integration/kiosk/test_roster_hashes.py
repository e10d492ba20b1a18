"""The offline roster's slow ID hashes are made once for the installation (issue #18, R-PRIV-1).

They were kept in each server process's memory: with four processes every candidate's hash was
made four times over as roster refreshes reached each one, most of a province's morning's CPU.
Now they are stored (``RosterIdHash``); every process hands out the stored ones, the same salt
for a candidate whichever process answers, and a corrected ID number gets a new one.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import SYSTEM
from examday.app import create_app
from examday.plans.models import Candidate
from kiosk import idhash
from kiosk.models import RosterIdHash
from kiosk.services import roster_hashes as H
from tests.integration.kiosk.support import checkin_world
from tests.support import bearer

N = 4


def _roster(client, headers, batch_id) -> dict[int, tuple[str, str]]:
    r = client.get(f"/api/v1/batches/{batch_id}/roster", headers=headers)
    assert r.status_code == 200, r.text
    return {p["id"]: (p["id_salt"], p["id_hash"]) for p in r.json()["candidates"]}


def _made(db: Session, institution_id: int) -> list[dict]:
    db.rollback()
    rows = db.exec(select(audit.AuditEntry).where(audit.AuditEntry.action == "roster.id_hashes_made")).all()
    assert all(e.chain == institution_id for e in rows)  # on the institution's own chain
    return [json.loads(e.diff) for e in rows]


def test_every_server_process_hands_out_the_same_stored_hashes_R_PRIV_1(client, db, world, clock, settings):
    w = checkin_world(db, clock.now(), settings.secret_key, n=N)
    headers = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    first = _roster(client, headers, w.batch_id)
    # Another server process on the same database: nothing in memory, and it makes nothing.
    with TestClient(create_app(settings, clock)) as other:
        second = _roster(other, headers, w.batch_id)
    assert first == second and len({salt for salt, _ in first.values()}) == N
    stored = {r.candidate_id: (r.salt, r.hash) for r in db.exec(select(RosterIdHash)).all()}
    assert stored == first
    for c in w.candidates:  # each stored hash is the candidate's number under their own salt
        salt, digest = stored[c.id]
        assert idhash.matches(c.id_number, salt, digest)
    assert _made(db, w.institution_id) == [{"candidates": N, "made_with": H.MADE_WITH}]


def test_a_corrected_id_number_gets_a_new_hash_R_PRIV_1(client, db, world, clock, settings):
    w = checkin_world(db, clock.now(), settings.secret_key, n=N)
    headers = bearer(world.token("kiosk1", "kiosk", w.institution_id))
    before = _roster(client, headers, w.batch_id)
    fixed = w.candidates[0]
    old_number = fixed.id_number
    new_number = "11010519491231002X" if old_number != "11010519491231002X" else "110105194912310037"
    db.execute(update(Candidate).where(col(Candidate.id) == fixed.id).values(id_number=new_number))
    db.commit()
    after = _roster(client, headers, w.batch_id)
    assert after[fixed.id] != before[fixed.id] and idhash.matches(new_number, *after[fixed.id])
    assert not idhash.matches(old_number, *after[fixed.id])
    assert {k: v for k, v in after.items() if k != fixed.id} == {k: v for k, v in before.items() if k != fixed.id}
    assert [m["candidates"] for m in _made(db, w.institution_id)] == [N, 1]


def test_the_hash_stored_first_stands_when_two_processes_make_one_at_once_R_PRIV_1(db, world, clock, settings):
    """Two processes both found a candidate's hash missing and made one each (different salts):
    the second one's store does nothing, and both hand out the first one's."""
    w = checkin_world(db, clock.now(), settings.secret_key, n=1)
    c = w.candidates[0]
    key = "k" * 64
    ours, theirs = idhash.entry(c.id_number), idhash.entry(c.id_number)
    H._keep(db, {}, [(c.id, key, c.id_number)], [theirs])  # the other process's, stored first
    db.commit()
    H._keep(db, {}, [(c.id, key, c.id_number)], [ours])
    db.commit()
    assert [(r.salt, r.hash) for r in db.exec(select(RosterIdHash)).all()] == [theirs]
    db.rollback()
    wanted = [(c.id, key, c.id_number)]
    assert H.roster_hashes(db, SYSTEM, clock.now(), w.institution_id, w.batch_id, wanted) == {c.id: theirs}


def test_a_second_process_waits_for_the_first_maker_and_makes_nothing_R_PRIV_1(db, engine, world, clock, settings):
    """On PostgreSQL one process at a time makes a batch's hashes (an advisory lock on the batch):
    a process that finds them missing while another is making them waits, then hands out the
    other's and makes none itself — four processes no longer hash a batch four times over."""
    if engine.dialect.name != "postgresql":
        pytest.skip("several server processes run on PostgreSQL; on SQLite one process's lock does it")
    w = checkin_world(db, clock.now(), settings.secret_key, n=2)
    wanted = [(c.id, "k" * 64, c.id_number) for c in w.candidates]
    theirs = {c.id: idhash.entry(c.id_number) for c in w.candidates}
    got: dict = {}
    with Session(engine) as other:  # the other process, mid-making: it holds the batch's lock
        assert H._one_maker(other, w.batch_id)
        t = threading.Thread(
            target=lambda: got.update(
                H.roster_hashes(Session(engine), SYSTEM, clock.now(), w.institution_id, w.batch_id, wanted)
            )
        )
        t.start()
        time.sleep(1.0)
        assert t.is_alive() and not got  # waiting for the maker, not making its own
        H._keep(other, {}, wanted, [theirs[cid] for cid, _, _ in wanted])
        other.commit()
    t.join(30)
    assert got == theirs
    assert _made(db, w.institution_id) == []
