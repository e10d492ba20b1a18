"""The exam day's verdicts over part scores (R-ID-1, R-DISC-1) and the entry clock (R-SCORE-1): pure."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from examday.clock import CST
from examday.plans.incidents import IncidentFact
from scoring.admission import entry_refusal
from scoring.aggregate import candidate_result
from scoring.outcome import overrides

PARTS = ["theory", "skill"]
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=CST)


def incident(tier: str, part: str = "theory", iid: int = 1) -> IncidentFact:
    voided = tuple(PARTS) if tier == "c" else (part,)
    return IncidentFact(iid, 1, 7, 1, part, "x", tier, voided, tier == "b", T0)


@pytest.mark.parametrize(
    "tier, expected",
    [("a", {"theory": "void"}), ("b", {"theory": "cheating"}), ("c", {"theory": "void", "skill": "void"})],
)
def test_each_tier_on_its_own_R_DISC_1(tier, expected):
    got = overrides(PARTS, PARTS, PARTS, [incident(tier)])
    assert {p: o.status for p, o in got.items()} == expected
    assert all(o.reason["rule"] == "R-DISC-1" and o.reason["tier"] == tier for o in got.values())


def test_not_admitted_is_absent_and_cheating_outranks_void_R_ID_1():
    got = overrides(PARTS, PARTS, {"theory"}, [])
    assert {p: (o.status, o.reason["code"]) for p, o in got.items()} == {"skill": ("absent", "not_admitted")}
    got = overrides(PARTS, PARTS, PARTS, [incident("c", iid=1), incident("b", iid=2)])
    assert {p: o.status for p, o in got.items()} == {"theory": "cheating", "skill": "void"}
    # A part without any session asks nothing of admission (plan filing refuses such a plan).
    assert overrides(PARTS, ["theory"], {"theory"}, []) == {}


@pytest.mark.parametrize(
    "values, result",
    [
        ({"theory": "cheating", "skill": 90}, "cheating"),
        ({"theory": "void", "skill": "absent"}, "void"),
        ({"theory": "void", "skill": "cheating"}, "cheating"),
        ({"theory": 90, "skill": "absent"}, "absent"),
        ({"theory": 90, "skill": 60}, "pass"),
    ],
)
def test_results_follow_the_verdicts_R_DISC_1(values, result):
    assert candidate_result(values, PARTS) == result


def test_entry_opens_with_the_candidates_own_sitting_R_SCORE_1():
    starts = {1: T0, 2: T0 + timedelta(hours=3)}
    assert entry_refusal({}, set(), T0) is None
    assert entry_refusal(starts, {1}, T0) is None
    assert entry_refusal(starts, {2}, T0 + timedelta(hours=1)).code == "part_not_started"  # their own is later
    assert entry_refusal(starts, set(), T0 - timedelta(minutes=1)).code == "part_not_started"
    refusal = entry_refusal(starts, set(), T0 + timedelta(minutes=1))
    assert (refusal.code, refusal.rule, refusal.status) == ("candidate_not_admitted", "R-ID-1", 409)
    assert entry_refusal(starts, {2}, T0 + timedelta(hours=3)) is None
