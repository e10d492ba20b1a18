"""Rubrics per batch and part (R-SCORE-3), through the HTTP API."""

from __future__ import annotations

from sqlmodel import Session, select

from scoring.models import Rubric, RubricLine
from tests.support import assert_refusal, bearer


def lines(engine) -> list[tuple[str, int]]:
    with Session(engine) as db:
        return [(r.code, r.max_tenths) for r in db.exec(select(RubricLine).order_by(RubricLine.position)).all()]


# R-SCORE-3: the items of a part add up to 100.
def test_rubric_summing_to_100_is_stored_and_returned(sw, engine):
    r = sw.rubric(
        items=[
            {"code": "A1", "title": "安全", "max_points": 40.5},
            {"code": "A2", "title": "工艺", "max_points": "59.5"},
        ]
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 100.0
    assert [i["max_points"] for i in r.json()["items"]] == [40.5, 59.5]
    assert lines(engine) == [("A1", 405), ("A2", 595)]
    got = sw.client.get(f"/api/v1/batches/{sw.batch_id}/rubrics/skill", headers=sw.admin).json()
    assert [i["code"] for i in got["items"]] == ["A1", "A2"]


# R-SCORE-3
def test_rubric_not_summing_to_100_is_refused_with_every_problem_and_nothing_stored(sw, engine):
    r = sw.rubric(
        items=[
            {"code": "A1", "title": "x", "max_points": 50},
            {"code": "A1", "title": "y", "max_points": 30},
            {"code": "A3", "title": "z", "max_points": -5},
        ]
    )
    body = assert_refusal(r, 422, "rubric_invalid", "R-SCORE-3")
    reasons = {p["reason"] for p in body["detail"]["problems"]}
    assert {"code_duplicate", "max_not_positive", "sum_not_100"} <= reasons
    assert lines(engine) == []


def test_rubric_can_be_replaced_until_the_first_entry(sw, engine):
    assert sw.rubric(items=[{"code": "X", "title": "all", "max_points": 100}]).status_code == 200
    assert sw.rubric().status_code == 200
    assert [c for c, _ in lines(engine)] == ["A1", "A2", "A3"]
    assert sw.panel().status_code == 201
    assert sw.enter(1, sw.candidates[0], 70).status_code == 201
    r = sw.rubric(items=[{"code": "X", "title": "all", "max_points": 100}])
    assert_refusal(r, 409, "rubric_in_use", "R-SCORE-2")
    assert [c for c, _ in lines(engine)] == ["A1", "A2", "A3"]


def test_rubric_for_a_part_the_plan_lacks_is_refused(sw, engine):
    assert_refusal(sw.rubric(part="review"), 422, "part_not_in_plan", "R-PLAN-3")
    with Session(engine) as db:
        assert db.exec(select(Rubric)).first() is None


def test_only_the_exam_office_sets_a_rubric(sw):
    r = sw.client.put(f"/api/v1/batches/{sw.batch_id}/rubrics/skill", json={"items": []}, headers=sw.scorer(1))
    assert_refusal(r, 403, "forbidden")
    other = sw.world.token("outsider", "admin", None)  # the installation admin may; another institution's may not
    assert (
        sw.client.put(
            f"/api/v1/batches/{sw.batch_id}/rubrics/skill",
            json={"items": [{"code": "A", "title": "a", "max_points": 100}]},
            headers=bearer(other),
        ).status_code
        == 200
    )
