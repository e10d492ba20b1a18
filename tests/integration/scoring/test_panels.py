"""Panels: R-PANEL-1, R-STAFF-2, R-RECUSE-1, R-RATIO-1 — refused with every violation."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from examday.plans.models import Candidate
from examday.registry.models import Room, StaffConflict
from scoring.models import Panel, PanelMember
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal


def codes(body: dict) -> list[str]:
    return [v["code"] for v in body["detail"]["violations"]]


def no_panel(engine) -> bool:
    with Session(engine) as db:
        return db.exec(select(Panel)).first() is None and db.exec(select(PanelMember)).first() is None


# R-PANEL-1: an even panel is refused.
def test_even_panel_is_refused(sw, engine):
    body = assert_refusal(sw.panel(members=sw.examiners[:4]), 422, "panel_rejected", "R-PANEL-1")
    assert codes(body) == ["panel_even"]
    assert no_panel(engine)


# R-PANEL-1: a two-person panel breaks both halves of the rule; every violation is listed.
def test_two_person_panel_is_refused_with_every_violation(sw, engine):
    body = assert_refusal(sw.panel(members=sw.examiners[1:3], chief=sw.examiners[0]), 422, "panel_rejected")
    assert codes(body) == ["panel_too_small", "panel_even", "chief_not_member"]
    assert no_panel(engine)


def test_panel_of_three_and_of_five_is_accepted(sw, engine):
    r = sw.panel(members=sw.examiners[:3])
    assert r.status_code == 201, r.text
    assert r.json()["examiner_ids"] == sw.examiners[:3]
    r = sw.panel(members=sw.examiners)  # replaced before any entry
    assert r.status_code == 201
    with Session(engine) as db:
        assert sorted(db.exec(select(PanelMember.staff_id)).all()) == sorted(sw.examiners)


# R-STAFF-2: a level-3 examiner cannot score a level-2 batch.
def test_level_3_examiner_cannot_score_a_level_2_batch(client, world, engine, clock):
    sw = build(client, world, engine, clock, level=2, pins=False)
    sw.update_staff(sw.examiners[2], skill_level=3, title="mid")
    body = assert_refusal(sw.panel(part="review"), 422, "panel_rejected", "R-PANEL-1")
    bad = [v for v in body["detail"]["violations"] if v["code"] == "examiner_unqualified"]
    assert [(v["staff_id"], v["rule"]) for v in bad] == [(sw.examiners[2], "R-STAFF-2")]
    assert no_panel(engine)


# R-STAFF-2: level 3 or a mid title suffices for levels 5–3.
def test_level_3_examiner_may_score_a_level_4_batch(sw):
    sw.update_staff(sw.examiners[2], skill_level=3, title="none")
    assert sw.panel().status_code == 201


# R-STAFF-2 and R-PANEL-1: a valid card on the exam day, the batch's occupation.
def test_expired_card_and_wrong_occupation_are_listed_together(sw, engine):
    sw.update_staff(sw.examiners[1], examiner_card_valid_until=date(2026, 11, 24))  # the day before the exam
    sw.update_staff(sw.examiners[2], occupations="4-07-05-01", roles="proctor")
    body = assert_refusal(sw.panel(), 422, "panel_rejected")
    assert [(v["code"], v.get("staff_id")) for v in body["detail"]["violations"]] == [
        ("examiner_card_invalid", sw.examiners[1]),
        ("not_an_examiner", sw.examiners[2]),
        ("examiner_wrong_occupation", sw.examiners[2]),
    ]
    assert no_panel(engine)


def test_staff_of_another_institution_is_refused(sw):
    body = assert_refusal(sw.panel(members=sw.examiners[:2] + [999_999]), 422, "panel_rejected")
    assert "examiner_not_found" in codes(body)


def _conflict(engine, clock, staff_id: int, kind: str, **kw) -> None:
    with Session(engine) as db:
        db.add(StaffConflict(staff_id=staff_id, kind=kind, created_at=clock.now(), **kw))
        db.commit()


# R-RECUSE-1 + R-PANEL-1: recusal that leaves a candidate two scorers is refused.
def test_recusal_that_leaves_an_even_panel_is_refused(sw, engine, clock):
    _conflict(engine, clock, sw.examiners[1], "relative", candidate_id=sw.candidates[2])
    body = assert_refusal(sw.panel(), 422, "panel_rejected")
    [v] = body["detail"]["violations"]
    assert v["code"] == "panel_recusal_breaks_odd" and v["candidate_id"] == sw.candidates[2]
    assert v["detail"]["recused"] == {str(sw.examiners[1]): "relative"}
    assert no_panel(engine)


# R-RECUSE-1: relatives, colleagues (same employer, now or before) and trainers stand aside.
def test_panel_of_five_keeps_three_scorers_after_recusal(sw, engine, clock):
    with Session(engine) as db:
        employer = db.get(Candidate, sw.candidates[0]).employer
        org = db.get(Candidate, sw.candidates[1]).training_org
    sw.update_staff(sw.examiners[3], employer=employer)  # works where candidate 0 works
    _conflict(engine, clock, sw.examiners[4], "colleague", candidate_id=sw.candidates[0])
    _conflict(engine, clock, sw.examiners[3], "trained", training_org=org)
    _conflict(engine, clock, sw.examiners[4], "relative", candidate_id=sw.candidates[1])
    r = sw.panel(members=sw.examiners)
    assert r.status_code == 201, r.text
    recusals = r.json()["recusals"]
    assert recusals[str(sw.candidates[0])] == {
        str(sw.examiners[3]): "same_employer",
        str(sw.examiners[4]): "same_employer",
    }
    assert recusals[str(sw.candidates[1])] == {
        str(sw.examiners[3]): "trained_candidate",
        str(sw.examiners[4]): "relative",
    }


# R-RATIO-1: one examiner per 5 candidates assessed at once (the skill room's stations).
def test_examiner_ratio_counts_candidates_assessed_at_once(client, world, engine, clock):
    sw = build(client, world, engine, clock, n_candidates=20, pins=False)
    with Session(engine) as db:
        room = db.exec(select(Room).where(Room.code == "S01")).one()
        room.seats = 20
        db.add(room)
        db.commit()
    body = assert_refusal(sw.panel(), 422, "panel_rejected")
    [v] = body["detail"]["violations"]
    assert (v["code"], v["rule"]) == ("examiner_ratio", "R-RATIO-1")
    assert sw.panel(members=sw.examiners).status_code == 201  # five examiners for twenty at once


def test_panel_cannot_change_once_scoring_started(sw):
    assert sw.rubric().status_code == 200
    assert sw.panel().status_code == 201
    assert sw.enter(0, sw.candidates[0], 80).status_code == 201
    assert_refusal(sw.panel(members=sw.examiners), 409, "panel_in_use", "R-PANEL-1")
