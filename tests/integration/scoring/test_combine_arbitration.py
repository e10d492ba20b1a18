"""Combining the panel and arbitration (R-PANEL-1, R-SCORE-3, R-SCORE-2)."""

from __future__ import annotations

import json
from decimal import Decimal
from statistics import mean, median

import pytest
from sqlmodel import Session, select

from examday.audit import AuditEntry
from scoring.models import ArbitrationStep
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal


def one_decimal(x) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP"))


def scored(sw, totals, candidate=None):
    cand = sw.candidates[0] if candidate is None else candidate
    for i, t in enumerate(totals):
        r = sw.enter(i, cand, t)
        assert r.status_code == 201, r.text
    return sw.part(cand)


@pytest.fixture
def three(sw):
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    return sw


def world_with(client, world, engine, clock, config: dict, members: int = 5):
    sw = build(client, world, engine, clock, config=json.dumps(config))
    assert sw.rubric().status_code == 200
    assert sw.panel(members=sw.examiners[:members]).status_code == 201
    return sw


# R-SCORE-3: the mean by default, kept with one decimal.
def test_mean_by_default_with_one_decimal(three):
    part = scored(three, (80, 80, 81))
    assert part["status"] == "final" and part["method"] == "mean"
    assert part["score"] == one_decimal(mean([80, 80, 81])) == 80.3


def test_median_when_the_plan_says_so(client, world, engine, clock):
    sw = world_with(client, world, engine, clock, {"aggregation": "median"}, members=3)
    part = scored(sw, (70, 78, 79))
    assert (part["method"], part["score"]) == ("median", float(median([70, 78, 79])))


def test_trimmed_mean_drops_highest_and_lowest_with_five(client, world, engine, clock):
    sw = world_with(client, world, engine, clock, {"aggregation": "trimmed_mean"})
    totals = (70, 72, 75, 77, 80)
    part = scored(sw, totals)
    assert part["method"] == "trimmed_mean"
    assert part["score"] == one_decimal(mean(sorted(totals)[1:-1])) == 74.7


def test_trimmed_mean_with_fewer_than_five_scorers_is_the_mean(client, world, engine, clock):
    sw = world_with(client, world, engine, clock, {"aggregation": "trimmed_mean"}, members=3)
    part = scored(sw, (70, 72, 75))
    assert (part["method"], part["score"]) == ("mean", one_decimal(mean([70, 72, 75])))


# R-PANEL-1: a spread above the tolerance (default 10) goes to the chief.
def test_spread_over_tolerance_goes_to_arbitration(three, engine):
    part = scored(three, (70, 75, 80.5))
    assert part["status"] == "arbitration" and part["score"] is None
    items = three.client.get(f"/api/v1/batches/{three.batch_id}/arbitrations", headers=three.scorer(0)).json()
    assert [(i["candidate_id"], i["reasons"]) for i in items] == [(three.candidates[0], ["spread"])]
    assert items[0]["totals"] == {
        str(three.examiners[0]): "70.0",
        str(three.examiners[1]): "75.0",
        str(three.examiners[2]): "80.5",
    }


def test_spread_equal_to_tolerance_is_agreement(three):
    assert scored(three, (70, 75, 80))["status"] == "final"


def test_tolerance_comes_from_the_plan(client, world, engine, clock):
    sw = world_with(client, world, engine, clock, {"spread_tolerance": 4}, members=3)
    assert scored(sw, (70, 72, 75))["status"] == "arbitration"


# R-PANEL-1 / R-SCORE-3: a split pass/fail is not averaged away.
def test_split_pass_fail_goes_to_arbitration(three):
    part = scored(three, (58, 61, 62))
    assert part["status"] == "arbitration"
    steps = three.client.get(f"/api/v1/batches/{three.batch_id}/arbitrations", headers=three.admin).json()
    assert steps[0]["reasons"] == ["split_pass_fail"]


# The chief asks for a re-score with a reason; every step is recorded.
def test_chief_rescore_opens_a_new_round(three, engine):
    sw = three
    scored(sw, (60, 75, 85))
    url = f"/api/v1/batches/{sw.batch_id}/arbitrations/{sw.candidates[0]}/skill"
    assert_refusal(
        sw.client.post(url, json={"action": "rescore", "reason": " "}, headers=sw.scorer(0)), 422, "reason_required"
    )
    assert_refusal(
        sw.client.post(url, json={"action": "rescore", "reason": "x"}, headers=sw.scorer(1)), 403, "forbidden"
    )
    r = sw.client.post(url, json={"action": "rescore", "reason": "分差过大，请复核接线工艺项"}, headers=sw.scorer(0))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["round"]) == ("rescore", 1)
    # Two re-scores in: not complete, the round-0 entry of the third does not count.
    sw.enter(0, sw.candidates[0], 72)
    sw.enter(1, sw.candidates[0], 74)
    assert sw.part(sw.candidates[0])["status"] == "rescore"
    sw.enter(2, sw.candidates[0], 76)
    part = sw.part(sw.candidates[0])
    assert (part["status"], part["score"], part["round"]) == ("final", 74.0, 1)
    with Session(engine) as db:
        steps = db.exec(select(ArbitrationStep).order_by(ArbitrationStep.id)).all()
        assert [(s.action, s.round) for s in steps] == [("opened", 0), ("rescore", 1)]
        assert steps[1].note == "分差过大，请复核接线工艺项"
        actions = db.exec(select(AuditEntry.action).where(AuditEntry.object_type == "part_score")).all()
        assert actions == ["part_score.arbitration", "part_score.rescore", "part_score.final"]
    # Each examiner's chain goes on across rounds: version 2 points at version 1.
    entries = sw.part(sw.candidates[0])["entries"]
    v2 = next(e for e in entries if e["examiner_id"] == sw.examiners[2] and e["version"] == 2)
    v1 = next(e for e in entries if e["examiner_id"] == sw.examiners[2] and e["version"] == 1)
    assert v2["prev_hash"] == v1["hash"] and v2["round"] == 1


def test_chief_accepts_the_totals(three, engine):
    sw = three
    scored(sw, (59, 61, 62))
    url = f"/api/v1/batches/{sw.batch_id}/arbitrations/{sw.candidates[0]}/skill"
    r = sw.client.post(url, json={"action": "accept", "reason": "复核评分记录，评分有据"}, headers=sw.scorer(0))
    assert r.status_code == 200, r.text
    assert r.json()["score"] == one_decimal(mean([59, 61, 62])) == 60.7
    assert [s["action"] for s in r.json()["steps"]] == ["opened", "accept"]
    assert_refusal(
        sw.client.post(url, json={"action": "accept", "reason": "again"}, headers=sw.scorer(0)),
        409,
        "not_in_arbitration",
    )


def test_entries_wait_while_the_chief_decides(three):
    scored(three, (60, 75, 85))
    assert_refusal(three.enter(1, three.candidates[0], 70), 409, "in_arbitration", "R-PANEL-1")


# R-SCORE-3: the pass mark is 60; a plan whose stored config says otherwise is not scored.
def test_a_moved_pass_mark_is_refused(client, world, engine, clock):
    sw = build(client, world, engine, clock, config=json.dumps({"pass_mark": 50}))
    assert sw.rubric().status_code == 200
    assert_refusal(sw.panel(), 409, "pass_mark_altered", "R-SCORE-3")
