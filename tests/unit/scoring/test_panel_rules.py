"""Panels (R-PANEL-1), examiner qualifications (R-STAFF-2), recusal (R-RECUSE-1), ratio (R-RATIO-1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from scoring.panel_rules import CandidateTie, Examiner, panel_violations, recusal_violations, scorers_for

OCC = "6-31-01-03"
EXAM_DAY = date(2025, 10, 15)


def examiner(staff_id: str, **overrides) -> Examiner:
    base = Examiner(
        staff_id=staff_id,
        name=f"考评员{staff_id}",
        roles=frozenset({"examiner"}),
        skill_level=1,
        title="none",
        card_valid_until=date(2027, 12, 31),
        occupations=frozenset({OCC}),
        is_trainer=False,
        employer=f"单位{staff_id}",
    )
    return replace(base, **overrides)


def panel(n: int) -> list[Examiner]:
    return [examiner(f"E{i}") for i in range(1, n + 1)]


def codes(violations) -> list[str]:
    return [v.code for v in violations]


@pytest.mark.parametrize("size", [3, 5, 7, 9])
def test_odd_panel_of_three_or_more_accepted(size):
    assert panel_violations(panel(size), "E1", 3, OCC, EXAM_DAY) == []


# R-PANEL-1: 3 or more, odd.
@pytest.mark.parametrize(
    "size, expected",
    [
        (0, ["panel_too_small", "panel_even", "chief_not_member"]),
        (1, ["panel_too_small"]),
        (2, ["panel_too_small", "panel_even"]),
        (4, ["panel_even"]),
        (6, ["panel_even"]),
    ],
)
def test_panel_size_refused(size, expected):
    violations = panel_violations(panel(size), "E1", 3, OCC, EXAM_DAY)
    assert codes(violations) == expected
    assert all(v.rule == "R-PANEL-1" for v in violations)


def test_duplicates_are_reported_and_counted_once():
    members = panel(3) + [examiner("E2")]
    violations = panel_violations(members, "E1", 3, OCC, EXAM_DAY)
    assert codes(violations) == ["duplicate_examiner"]
    assert violations[0].staff_id == "E2"


def test_duplicate_that_hides_a_short_panel():
    members = [examiner("E1"), examiner("E2"), examiner("E2")]
    assert codes(panel_violations(members, "E1", 3, OCC, EXAM_DAY)) == [
        "duplicate_examiner",
        "panel_too_small",
        "panel_even",
    ]


@pytest.mark.parametrize("chief", ["E9", None, ""])
def test_chief_must_be_member(chief):
    assert codes(panel_violations(panel(3), chief, 3, OCC, EXAM_DAY)) == ["chief_not_member"]


# R-STAFF-2: levels 5/4/3 need skill level ≤ 3 or a mid/senior title; 2/1 need level 1 or senior.
@pytest.mark.parametrize(
    "batch_level, skill_level, title, ok",
    [
        (5, 3, "none", True),
        (5, 4, "none", False),
        (4, 4, "mid", True),
        (3, 3, "none", True),
        (3, 2, "none", True),
        (3, 4, "none", False),
        (3, 5, "none", False),
        (3, None, "none", False),
        (3, None, "mid", True),
        (3, None, "senior", True),
        (3, 0, "none", False),
        (2, 3, "none", False),  # level-3 examiner refused for a level-2 batch
        (2, 2, "none", False),
        (2, 1, "none", True),
        (2, 3, "mid", False),
        (2, 3, "senior", True),  # senior title accepted
        (2, None, "senior", True),
        (1, 1, "none", True),
        (1, 2, "mid", False),
        (1, 5, "senior", True),
    ],
)
def test_examiner_qualification_for_level(batch_level, skill_level, title, ok):
    members = panel(2) + [examiner("E3", skill_level=skill_level, title=title)]
    violations = panel_violations(members, "E1", batch_level, OCC, EXAM_DAY)
    if ok:
        assert violations == []
    else:
        assert codes(violations) == ["examiner_unqualified"]
        assert violations[0].staff_id == "E3"
        assert violations[0].rule == "R-STAFF-2"


# R-STAFF-2: 持证上岗, valid on the exam day.
@pytest.mark.parametrize(
    "valid_until, ok",
    [
        (None, False),
        (date(2025, 10, 14), False),
        (date(2025, 10, 15), True),
        (date(2025, 10, 16), True),
        (date(2020, 1, 1), False),
    ],
)
def test_examiner_card(valid_until, ok):
    members = panel(2) + [examiner("E3", card_valid_until=valid_until)]
    violations = panel_violations(members, "E1", 3, OCC, EXAM_DAY)
    assert codes(violations) == ([] if ok else ["examiner_card_invalid"])


# R-PANEL-1: qualified for the occupation.
@pytest.mark.parametrize(
    "occupations, ok",
    [
        (frozenset({OCC}), True),
        (frozenset({OCC, "4-01-02-01"}), True),
        (frozenset({"4-01-02-01"}), False),
        (frozenset(), False),
        (frozenset({"6-31-01-0"}), False),
    ],
)
def test_examiner_occupation(occupations, ok):
    members = panel(2) + [examiner("E3", occupations=occupations)]
    assert codes(panel_violations(members, "E1", 3, OCC, EXAM_DAY)) == ([] if ok else ["examiner_wrong_occupation"])


@pytest.mark.parametrize(
    "roles, ok",
    [
        (frozenset({"examiner"}), True),
        ({"examiner", "proctor"}, True),
        (frozenset({"proctor"}), False),
        (frozenset(), False),
    ],
)
def test_examiner_role(roles, ok):
    members = panel(2) + [examiner("E3", roles=roles)]
    assert codes(panel_violations(members, "E1", 3, OCC, EXAM_DAY)) == ([] if ok else ["not_an_examiner"])


# R-LEVEL: batch levels are 5, 4, 3, 2, 1, and an enterprise's tiers 6 (学徒工), 0 (特级技师), -1 (首席技师).
@pytest.mark.parametrize("level", [7, -2, 10, True, None])
def test_batch_level_outside_r_level(level):
    assert codes(panel_violations(panel(3), "E1", level, OCC, EXAM_DAY)) == ["level_invalid"]


# R-LEVEL with R-STAFF-2: a tier is examined as the level it is assessed as — 学徒工 as level 5
# (a level-3 examiner will do), 特级技师 and 首席技师 as level 1 (level 1 or a senior title).
@pytest.mark.parametrize(
    "tier, skill_level, title, ok",
    [
        (6, 3, "none", True),
        (6, 4, "none", False),
        (0, 1, "none", True),
        (0, 3, "mid", False),
        (-1, 2, "senior", True),
        (-1, 2, "mid", False),
    ],
)
def test_enterprise_tier_examined_as_its_assessed_level(tier, skill_level, title, ok):
    members = panel(2) + [examiner("E3", skill_level=skill_level, title=title)]
    violations = panel_violations(members, "E1", tier, OCC, EXAM_DAY)
    assert codes(violations) == ([] if ok else ["examiner_unqualified"])
    if not ok:
        assert "-1级" not in violations[0].message and "0级" not in violations[0].message


# R-RATIO-1: at least 1 examiner per 5 candidates (configurable per occupation).
@pytest.mark.parametrize(
    "size, candidates, per, ok",
    [
        (3, 15, 5, True),
        (3, 16, 5, False),
        (5, 25, 5, True),
        (3, 45, 15, True),
        (3, 46, 15, False),
        (3, 14, 5, True),
        (5, 26, 5, False),
        (5, 24, 5, True),
        (7, 36, 5, False),
    ],
)
def test_examiner_ratio(size, candidates, per, ok):
    violations = panel_violations(
        panel(size), "E1", 3, OCC, EXAM_DAY, candidate_count=candidates, candidates_per_examiner=per
    )
    assert codes(violations) == ([] if ok else ["examiner_ratio"])
    if not ok:
        assert violations[0].rule == "R-RATIO-1"


def test_every_violation_is_returned_at_once():
    members = [
        examiner("E1"),
        examiner("E2", skill_level=3, title="mid"),  # unqualified for level 2
        examiner("E3", card_valid_until=date(2025, 1, 1)),  # expired
        examiner("E4", occupations=frozenset({"X"}), roles=frozenset({"proctor"})),
    ]
    violations = panel_violations(members, "E9", 2, OCC, EXAM_DAY)
    assert [(v.code, v.staff_id) for v in violations] == [
        ("panel_even", None),
        ("chief_not_member", "E9"),
        ("examiner_unqualified", "E2"),
        ("examiner_card_invalid", "E3"),
        ("not_an_examiner", "E4"),
        ("examiner_wrong_occupation", "E4"),
    ]
    assert all(v.message and v.message_en for v in violations)
    assert violations[0].as_dict()["rule"] == "R-PANEL-1"


# R-RECUSE-1: relative, same employer (now or before), trained the candidate.
@pytest.mark.parametrize(
    "tie, expected",
    [
        (CandidateTie("C1"), {}),
        (CandidateTie("C1", relatives=frozenset({"E2"})), {"E2": "relative"}),
        (CandidateTie("C1", employer="单位E3"), {"E3": "same_employer"}),
        (CandidateTie("C1", employer=" 单位　E3 "), {"E3": "same_employer"}),
        (CandidateTie("C1", former_employers=frozenset({"单位E1"})), {"E1": "same_employer"}),
        (CandidateTie("C1", trained_by=frozenset({"E1"})), {"E1": "trained_candidate"}),
        (CandidateTie("C1", training_org="单位E1"), {}),
        (CandidateTie("C1", employer=None), {}),
        (CandidateTie("C1", employer=""), {}),
        (CandidateTie("C1", relatives=frozenset({"E1"}), trained_by=frozenset({"E1"})), {"E1": "relative"}),
        (
            CandidateTie("C1", relatives=frozenset({"E1"}), employer="单位E2", trained_by=frozenset({"E3"})),
            {"E1": "relative", "E2": "same_employer", "E3": "trained_candidate"},
        ),
    ],
)
def test_scorers_for(tie, expected):
    members = panel(3)
    scorers, excluded = scorers_for(tie, members)
    assert excluded == expected
    assert [e.staff_id for e in scorers] == [e.staff_id for e in members if e.staff_id not in expected]


def test_former_employer_of_examiner_counts():
    members = [examiner("E1", former_employers=frozenset({"甲厂"})), examiner("E2"), examiner("E3")]
    _, excluded = scorers_for(CandidateTie("C1", employer="甲厂"), members)
    assert excluded == {"E1": "same_employer"}


def test_examiners_without_employer_never_match():
    members = [examiner("E1", employer=None), examiner("E2", employer=""), examiner("E3")]
    _, excluded = scorers_for(CandidateTie("C1", employer=None), members)
    assert excluded == {}


# R-PANEL-1 / R-RECUSE-1: every candidate keeps an odd panel of 3 or more.
@pytest.mark.parametrize(
    "size, tie, broken",
    [
        (3, CandidateTie("C1"), False),
        (3, CandidateTie("C1", relatives=frozenset({"E1"})), True),  # leaves 2
        (3, CandidateTie("C1", relatives=frozenset({"E1"}), employer="单位E2"), True),  # leaves 1
        (5, CandidateTie("C1", relatives=frozenset({"E1"})), True),  # leaves 4
        (5, CandidateTie("C1", relatives=frozenset({"E1"}), trained_by=frozenset({"E2"})), False),  # leaves 3
        (5, CandidateTie("C1", relatives=frozenset({"E1", "E2", "E3"})), True),  # leaves 2
        (5, CandidateTie("C1", relatives=frozenset({"E9"})), False),
    ],
)
def test_recusal_violations(size, tie, broken):
    violations = recusal_violations([tie], panel(size))
    assert codes(violations) == (["panel_recusal_breaks_odd"] if broken else [])
    if broken:
        assert violations[0].candidate_id == "C1"
        assert violations[0].detail["because"] == "R-RECUSE-1"


def test_recusal_violations_name_each_candidate():
    ties = [CandidateTie("C1"), CandidateTie("C2", relatives=frozenset({"E1"})), CandidateTie("C3", employer="单位E3")]
    violations = recusal_violations(ties, panel(3))
    assert [v.candidate_id for v in violations] == ["C2", "C3"]
    assert violations[0].detail["recused"] == {"E1": "relative"}
    assert violations[1].detail["scorers"] == ["E1", "E2"]


# R-RATIO-1: candidates not a multiple of 5 round the examiners needed up (16 need 4, 26 need 6).
@pytest.mark.parametrize("size, candidates, needed", [(3, 16, 4), (3, 17, 4), (5, 26, 6), (7, 36, 8)])
def test_examiner_ratio_names_the_examiners_needed_rounded_up(size, candidates, needed):
    (v,) = panel_violations(panel(size), "E1", 3, OCC, EXAM_DAY, candidate_count=candidates, candidates_per_examiner=5)
    assert v.code == "examiner_ratio"
    assert f"at least {needed} examiners" in v.message_en and f"至少需要{needed}名" in v.message
