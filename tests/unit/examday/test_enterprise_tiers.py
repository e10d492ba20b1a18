"""R-LEVEL: an enterprise (用人单位) may add 学徒工 below level 5 and 特级技师 / 首席技师 above
level 1 (issue #15). The rule functions: one place names a level, the scope reads the tiers only
for an enterprise, the plan check files a tier only for an enterprise inside its scope, and a tier
takes the parts and examiners of the level it is assessed as (R-PLAN-3, R-STAFF-2)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from examday import levels
from examday.calendar import DEFAULT_CALENDAR
from examday.errors import Refusal
from examday.plans.rules import ScopeFact, SessionFact, plan_violations, required_parts
from examday.plans.ticket_render import _variable_ops
from examday.registry import rules
from tests.unit.examday.test_plan_rules import EXAM, S01, TODAY, at, base, check

CHIEF, SPECIAL, APPRENTICE = levels.CHIEF_TECHNICIAN, levels.SPECIAL_TECHNICIAN, levels.APPRENTICE


# -- naming a level (R-LEVEL) ------------------------------------------------------------


def test_the_encoding_keeps_a_lower_number_higher():
    # R-LEVEL: 学徒工 below 5, 特级技师 and 首席技师 above 1.
    assert levels.ALL_LEVELS == (6, 5, 4, 3, 2, 1, 0, -1)
    assert [levels.level_name(x)[0] for x in levels.ALL_LEVELS] == [
        "学徒工",
        "初级工",
        "中级工",
        "高级工",
        "技师",
        "高级技师",
        "特级技师",
        "首席技师",
    ]
    assert [levels.is_enterprise_tier(x) for x in (6, 5, 1, 0, -1, True)] == [True, False, False, True, True, False]


@pytest.mark.parametrize("level", levels.ENTERPRISE_TIERS)
def test_a_tier_is_never_printed_as_a_number(level):
    # R-LEVEL: no "-1级", "0级" or "6级" on any label.
    zh, en = levels.level_name(level)
    for label in (levels.level_label(level), levels.level_title(level), levels.level_text(level)):
        assert label == zh and "级" not in label.replace("特级", "")
    assert levels.level_label_en(level) == en


def test_national_levels_read_as_before():
    assert levels.level_label(3) == "3级" and levels.level_title(3) == "3级 高级工" and levels.level_text(3) == "3"
    assert levels.levels_label([5, 4, -1, 6]) == "学徒工、5、4、首席技师"
    assert levels.parse_stored(levels.stored_text([5, -1, 6, 0])) == [6, 5, 0, -1]


# -- the scope (R-LEVEL, R-INST-3) -------------------------------------------------------


def test_an_enterprise_scope_reads_the_tiers_by_name():
    # R-LEVEL: names only; the numbers stay 1-5 even for an enterprise.
    assert rules.parse_levels("学徒工、5、4、特级技师/首席技师", enterprise=True) == [6, 5, 4, 0, -1]
    for number in ("0", "-1", "6", [0], [6]):
        with pytest.raises(Refusal) as e:
            rules.parse_levels(number, enterprise=True)
        assert (e.value.code, e.value.rule) == ("invalid_level", "R-LEVEL")


@pytest.mark.parametrize("kind", ["training_org", "school", None])
def test_a_scope_with_tiers_is_refused_row_by_row_outside_an_enterprise(kind):
    rows = [
        {"occupation_code": "6-31-01-03", "occupation_name": "电工", "levels": "5、学徒工"},
        {"occupation_code": "4-03-02-01", "occupation_name": "中式烹调师", "levels": "5、4"},
        {"occupation_code": "6-18-01-01", "occupation_name": "车工", "levels": ["首席技师"]},
    ]
    got = [(v.code, v.rule, v.detail["row"], v.detail["level"]) for v in rules.scope_row_violations(rows, kind)]
    # R-LEVEL: each row that lists a tier, with the tier it lists.
    assert got == [
        ("enterprise_tier_needs_enterprise", "R-LEVEL", 1, "学徒工"),
        ("enterprise_tier_needs_enterprise", "R-LEVEL", 3, "首席技师"),
    ]
    assert rules.scope_row_violations(rows, "enterprise") == []


def test_a_stored_scope_covers_its_tiers_only():
    scope = [{"occupation_code": "6-31-01-03", "work_type": None, "levels": "5,4,-1"}]
    assert rules.scope_covers(scope, "6-31-01-03", None, CHIEF)
    assert not rules.scope_covers(scope, "6-31-01-03", None, SPECIAL)  # R-INST-3: tier outside the scope
    assert not rules.scope_covers(scope, "6-31-01-03", None, APPRENTICE)


# -- the plan (R-LEVEL, R-INST-3, R-PLAN-3) -------------------------------------------------------


def _top_tier_plan(level: int, kind: str, scope_levels: frozenset[int]):
    review = SessionFact(12, "review", at(EXAM, 16, 30), at(EXAM, 17, 30), (S01,), {S01: (5, 6)})
    b = base()
    return replace(
        b,
        level=level,
        institution_kind=kind,
        parts=("theory", "skill", "review"),
        sessions=(*b.sessions, review),
        scope=(ScopeFact("6-31-01-03", None, scope_levels),),
    )


def test_an_enterprise_files_a_chief_technician_plan_inside_its_scope():
    # R-LEVEL, R-INST-3: the tier is in the enterprise's filed scope.
    assert check(_top_tier_plan(CHIEF, "enterprise", frozenset({5, 4, 3, 2, 1, -1}))) == []


def test_a_tier_outside_the_enterprise_scope_is_refused():
    # R-INST-3: 特级技师 is not in this scope, which names 首席技师 only.
    facts = _top_tier_plan(SPECIAL, "enterprise", frozenset({5, 4, 3, 2, 1, -1}))
    assert check(facts) == ["outside_scope"]


@pytest.mark.parametrize("kind", ["training_org", "school"])
def test_only_an_enterprise_files_a_tier(kind):
    facts = _top_tier_plan(CHIEF, kind, frozenset({5, 4, 3, 2, 1, -1}))
    got = {v.code: v for v in plan_violations(facts, TODAY, DEFAULT_CALENDAR)}
    # R-LEVEL: the tier is in the scope, but the institution is not an enterprise.
    assert set(got) == {"enterprise_tier_needs_enterprise"}
    assert got["enterprise_tier_needs_enterprise"].rule == "R-LEVEL"
    assert "首席技师" in got["enterprise_tier_needs_enterprise"].message


@pytest.mark.parametrize(
    "level, parts",
    [
        (APPRENTICE, ["theory", "skill"]),
        (SPECIAL, ["theory", "skill", "review"]),
        (CHIEF, ["theory", "skill", "review"]),
    ],
)
def test_a_tier_takes_the_parts_of_the_level_it_is_assessed_as(level, parts):
    # R-PLAN-3: 学徒工 as level 5; 特级技师 and 首席技师 as the top levels, with the review.
    assert required_parts(level) == parts


def test_a_chief_technician_plan_without_the_review_names_the_tier():
    facts = replace(
        _top_tier_plan(CHIEF, "enterprise", frozenset({-1})), parts=("theory", "skill"), sessions=base().sessions
    )
    got = {v.code: v for v in plan_violations(facts, TODAY, DEFAULT_CALENDAR)}
    assert got["wrong_parts"].rule == "R-PLAN-3"
    assert got["wrong_parts"].message.startswith("首席技师须考核") and "-1" not in got["wrong_parts"].message


# -- examiners (R-STAFF-2) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "skill_level, title, level, ok",
    [
        (3, "none", APPRENTICE, True),  # as level 5
        (None, "mid", APPRENTICE, True),
        (3, "none", CHIEF, False),  # as level 1: level 1 or a senior title
        (2, "mid", SPECIAL, False),
        (1, "none", CHIEF, True),
        (None, "senior", SPECIAL, True),
    ],
)
def test_a_tier_takes_the_examiners_of_the_level_it_is_assessed_as(skill_level, title, level, ok):
    assert rules.examiner_qualified_for_level(skill_level, title, level) is ok


# -- the ticket (R-LEVEL) ---------------------------------------------------------------------


def test_the_ticket_prints_the_tier_by_name():
    from tests.unit.examday.test_ticket_render import _view

    texts = [op.text for op in _variable_ops(_view("x", level=CHIEF)) if hasattr(op, "text")]
    assert "首席技师 Chief technician" in texts and not any("-1级" in t for t in texts)
    texts = [op.text for op in _variable_ops(_view("x", level=4)) if hasattr(op, "text")]
    assert "4级 中级工 Intermediate" in texts
