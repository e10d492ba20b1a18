"""Independent, signed, hash-chained score entries (R-SCORE-1, R-SCORE-2, R-PANEL-1, R-RECUSE-1)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, func, select

from examday.registry.models import StaffConflict
from scoring.entry_chain import verify_chain, verify_signature
from scoring.models import ScoreEntry
from scoring.services.entries import as_version, examiner_secret
from tests.integration.scoring.scoring_world import PIN
from tests.support import assert_refusal


@pytest.fixture
def ready(sw):
    assert sw.rubric().status_code == 200
    assert sw.panel().status_code == 201
    return sw


def entry_count(engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(ScoreEntry)).one()


# R-SCORE-1: the entry is signed with the examiner's PIN; R-SCORE-2: it carries its hash.
def test_entry_is_stored_signed_and_hashed(ready, engine, settings):
    sw = ready
    r = sw.enter(1, sw.candidates[0], items={"A1": 30.5, "A2": 30, "A3": 20})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["total"] == 80.5 and body["version"] == 1 and body["prev_hash"] is None
    assert body["examiner_id"] == sw.examiners[1] and body["part_status"] == "pending"
    with Session(engine) as db:
        row = db.get(ScoreEntry, body["id"])
        assert row.hash == body["hash"] and json.loads(row.items) == {"A1": "30.5", "A2": "30.0", "A3": "20.0"}
        assert as_version(row).recomputed_hash() == row.hash
    secret = examiner_secret(settings.secret_key, sw.examiners[1])
    assert verify_signature(body["hash"], body["signature"], PIN, secret)
    assert not verify_signature(body["hash"], body["signature"], "999999", secret)
    assert not verify_signature(
        body["hash"], body["signature"], PIN, examiner_secret(settings.secret_key, sw.examiners[2])
    )


# R-SCORE-1: without the right PIN nothing is signed and nothing is stored.
def test_wrong_pin_is_refused_and_nothing_stored(ready, engine):
    assert_refusal(ready.enter(1, ready.candidates[0], 80, pin="000000"), 403, "pin_wrong", "R-SCORE-1")
    assert_refusal(ready.enter(1, ready.candidates[0], 80, pin=None), 403, "pin_wrong", "R-SCORE-1")
    assert entry_count(engine) == 0


def test_examiner_without_a_pin_must_set_one_first(client, world, engine, clock):
    from tests.integration.scoring.scoring_world import build

    sw = build(client, world, engine, clock, pins=False)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    assert_refusal(sw.enter(1, sw.candidates[0], 80), 409, "pin_not_set", "R-SCORE-1")
    assert entry_count(engine) == 0


# R-SCORE-3: each item between 0 and its maximum, items matching the rubric.
@pytest.mark.parametrize(
    "items, code",
    [
        ({"A1": 41, "A2": 30, "A3": 20}, "score_out_of_range"),
        ({"A1": -1, "A2": 30, "A3": 20}, "score_out_of_range"),
        ({"A1": 30.25, "A2": 30, "A3": 20}, "score_out_of_range"),
        ({"A1": 30, "A2": 30}, "score_items_mismatch"),
        ({"A1": 30, "A2": 30, "A3": 20, "B9": 1}, "score_items_mismatch"),
    ],
)
def test_entry_is_checked_against_the_rubric(ready, engine, items, code):
    assert_refusal(ready.enter(1, ready.candidates[0], items=items), 422, code, "R-SCORE-3")
    assert entry_count(engine) == 0


# R-PANEL-1: the panel alone scores.
def test_examiner_off_the_panel_cannot_score(ready, engine):
    assert_refusal(ready.enter(4, ready.candidates[0], 80), 403, "not_on_panel", "R-PANEL-1")
    r = ready.client.post(
        "/api/v1/score-entries",
        headers=ready.admin,
        json={"batch_id": ready.batch_id, "candidate_id": ready.candidates[0], "part": "skill", "items": {}},
    )
    assert_refusal(r, 403, "forbidden")
    assert entry_count(engine) == 0


# R-RECUSE-1: an examiner who stands aside is excluded for that candidate only.
def test_recused_examiner_cannot_score_that_candidate(sw, engine, clock):
    with Session(engine) as db:
        db.add(
            StaffConflict(
                staff_id=sw.examiners[4], kind="relative", candidate_id=sw.candidates[0], created_at=clock.now()
            )
        )
        db.add(
            StaffConflict(
                staff_id=sw.examiners[3], kind="trained", candidate_id=sw.candidates[0], created_at=clock.now()
            )
        )
        db.commit()
    assert sw.rubric().status_code == 200
    assert sw.panel(members=sw.examiners).status_code == 201
    body = assert_refusal(sw.enter(4, sw.candidates[0], 80), 403, "recused", "R-RECUSE-1")
    assert body["detail"]["reason"] == "relative"
    assert sw.enter(4, sw.candidates[1], 80).status_code == 201
    # Three scorers remain for candidate 0; their three entries complete the part.
    for i in range(3):
        assert sw.enter(i, sw.candidates[0], 80).status_code == 201
    assert sw.part(sw.candidates[0])["status"] == "final"


# R-SCORE-2: a correction is a new version pointing at the old one; nothing is overwritten.
def test_correction_is_a_new_version_chained_to_the_old(ready, engine):
    first = ready.enter(1, ready.candidates[0], 70).json()
    second = ready.enter(1, ready.candidates[0], 75).json()
    assert second["version"] == 2 and second["prev_hash"] == first["hash"]
    with Session(engine) as db:
        rows = db.exec(select(ScoreEntry).order_by(ScoreEntry.version)).all()
        assert [(r.version, r.total_tenths, r.hash) for r in rows] == [
            (1, 700, first["hash"]),
            (2, 750, second["hash"]),
        ]
        assert verify_chain([as_version(r) for r in rows]) is None
    # The newest version is the one that counts when the panel completes.
    ready.enter(0, ready.candidates[0], 75)
    ready.enter(2, ready.candidates[0], 75)
    assert ready.part(ready.candidates[0])["score"] == 75.0


def test_no_correction_once_the_part_is_final(ready, engine):
    for i in range(3):
        ready.enter(i, ready.candidates[0], 80)
    assert_refusal(ready.enter(1, ready.candidates[0], 90), 409, "part_final", "R-SCORE-3")
    assert entry_count(engine) == 3


# R-SCORE-1: an evaluator cannot read a colleague's entry before all are in — nor after.
def test_evaluator_cannot_read_a_colleagues_entry(ready):
    sw = ready
    mine = sw.enter(1, sw.candidates[0], 71).json()
    theirs = sw.enter(2, sw.candidates[0], 73).json()
    view = sw.part(sw.candidates[0], headers=sw.scorer(1))
    assert [e["hash"] for e in view["entries"]] == [mine["hash"]]
    assert "score" not in view and theirs["hash"] not in json.dumps(sw.scores(sw.scorer(1)))
    # The chief is a scorer too: before the chief's own entry and the last one are in, only their own.
    chief_view = sw.part(sw.candidates[0], headers=sw.scorer(0))
    assert chief_view["entries"] == []
    sw.enter(0, sw.candidates[0], 75)
    assert sw.part(sw.candidates[0])["status"] == "final"
    chief_view = sw.part(sw.candidates[0], headers=sw.scorer(0))
    assert {e["examiner_id"] for e in chief_view["entries"]} == set(sw.examiners[:3])
    assert [e["hash"] for e in sw.part(sw.candidates[0], headers=sw.scorer(1))["entries"]] == [mine["hash"]]


def test_exam_office_sees_every_entry(ready):
    ready.enter(1, ready.candidates[0], 71)
    ready.enter(2, ready.candidates[0], 72)
    assert len(ready.part(ready.candidates[0])["entries"]) == 2


def test_evaluator_of_another_institution_is_refused(ready, world):
    from tests.support import DEMO_USCC, OTHER_USCC, bearer

    assert DEMO_USCC != OTHER_USCC
    other = world.institution(uscc=OTHER_USCC, name="另一机构")
    from examday.registry.models import Institution
    from tests import builders

    with Session(world.engine) as db:  # another institution's own examiner: borrowing ours is refused when made
        theirs = builders.staff(db, db.get(Institution, other), n_proctors=0, n_examiners=1)["examiner"][0].id
        db.commit()
    token = world.token("stranger", "evaluator", other, staff_id=theirs)
    r = ready.client.get(f"/api/v1/batches/{ready.batch_id}/scores", headers=bearer(token))
    assert_refusal(r, 403, "forbidden")
