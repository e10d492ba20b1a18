"""Combining a panel, arbitration and the pass rule (R-SCORE-3, R-PANEL-1)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from examday.errors import Refusal
from scoring.aggregate import candidate_result, combine, needs_arbitration, part_passed


def ds(*values: str) -> list[D]:
    return [D(v) for v in values]


@pytest.mark.parametrize(
    "totals, method, expected",
    [
        (ds("80", "85", "90"), "mean", "85.0"),
        (ds("80", "85", "91"), "mean", "85.3"),  # 85.333…
        (ds("80", "85", "90.5"), "mean", "85.2"),  # 85.1666…
        (ds("59.9", "60", "60"), "mean", "60.0"),  # 59.9666… rounds up
        (ds("59.9", "59.9", "60"), "mean", "59.9"),  # 59.9333…
        (ds("70.1", "70.2"), "mean", "70.2"),  # 70.15 half up
        (ds("0.1", "0.2", "0.2"), "mean", "0.2"),  # 0.1666…
        (ds("100", "100", "100"), "mean", "100.0"),
        (ds("72.5"), "mean", "72.5"),
        (ds("80", "85", "90"), "median", "85.0"),
        (ds("90", "60", "75.5"), "median", "75.5"),
        (ds("59.9", "60.0"), "median", "60.0"),  # even count: 59.95 half up
        (ds("10", "20", "30", "41"), "median", "25.0"),
        (ds("1", "2", "3", "4", "100"), "median", "3.0"),
        (ds("50", "70", "80", "90", "100"), "trimmed_mean", "80.0"),
        (ds("0", "70", "71", "71", "100"), "trimmed_mean", "70.7"),  # 70.666…
        (ds("60", "60.1", "60.1", "60.2", "99"), "trimmed_mean", "60.1"),
        (ds("55", "61", "62", "62", "63", "64", "70"), "trimmed_mean", "62.4"),
        ([80, "85.5", 90.1], "mean", "85.2"),  # 85.2 exactly
    ],
)
def test_combine(totals, method, expected):
    result = combine(totals, method)
    assert isinstance(result, D)
    assert str(result) == expected


@pytest.mark.parametrize("totals", [ds(), ds("80"), ds("80", "90"), ds("1", "2", "3"), ds("1", "2", "3", "4")])
def test_trimmed_mean_needs_five(totals):
    with pytest.raises(Refusal) as caught:
        combine(totals, "trimmed_mean")
    expected = "no_scores" if not totals else "trimmed_mean_needs_five"
    assert caught.value.code == expected


@pytest.mark.parametrize(
    "totals, method, code",
    [
        (ds(), "mean", "no_scores"),
        (ds(), "median", "no_scores"),
        (ds("80"), "average", "aggregate_method_invalid"),
        (ds("80", "100.1", "90"), "mean", "score_out_of_range"),
        (ds("80", "-1", "90"), "mean", "score_out_of_range"),
        (ds("80", "85.55", "90"), "mean", "score_out_of_range"),
        (["80", "abc", "90"], "mean", "score_out_of_range"),
    ],
)
def test_combine_refused(totals, method, code):
    with pytest.raises(Refusal) as caught:
        combine(totals, method)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "totals, expected",
    [
        (ds("80", "85", "90"), []),
        (ds("80", "85", "90.1"), ["spread"]),  # 10.1 > 10
        (ds("70", "80"), []),  # exactly the tolerance is agreement
        (ds("70", "80.1"), ["spread"]),
        (ds("58", "61", "62"), ["split_pass_fail"]),
        (ds("59.9", "60", "60"), ["split_pass_fail"]),
        (ds("50", "62", "75"), ["spread", "split_pass_fail"]),
        (ds("30", "45", "59.9"), ["spread"]),
        (ds("60", "60", "60"), []),
        (ds("59", "59", "59"), []),
        (ds("88"), []),
        (ds(), []),
    ],
)
def test_needs_arbitration(totals, expected):
    assert needs_arbitration(totals) == expected


@pytest.mark.parametrize(
    "totals, tolerance, pass_mark, expected",
    [
        (ds("80", "85"), D(5), D(60), []),
        (ds("80", "85.1"), D(5), D(60), ["spread"]),
        (ds("80", "85.1"), 5, 60, ["spread"]),
        (ds("68", "72"), D(10), D(70), ["split_pass_fail"]),
    ],
)
def test_needs_arbitration_with_settings(totals, tolerance, pass_mark, expected):
    assert needs_arbitration(totals, tolerance, pass_mark) == expected


# R-SCORE-3: a part passes at 60 or more.
@pytest.mark.parametrize(
    "score, passed",
    [
        (D("60.0"), True),
        (D("60"), True),
        (D("59.9"), False),
        (D("59.99"), False),
        (D("100"), True),
        (D("0"), False),
        (60, True),
        ("59.9", False),
        (None, False),
        ("absent", False),
    ],
)
def test_part_passed(score, passed):
    assert part_passed(score) is passed


PARTS = ["theory", "skill"]


# R-SCORE-3: pass only when every part of the plan is passed; absent is not zero.
@pytest.mark.parametrize(
    "scores, parts, expected",
    [
        ({"theory": D("60.0"), "skill": D("60.0")}, PARTS, "pass"),
        ({"theory": D("95"), "skill": D("88.5")}, PARTS, "pass"),
        ({"theory": D("59.9"), "skill": D("90")}, PARTS, "fail"),
        ({"theory": D("90"), "skill": D("59.9")}, PARTS, "fail"),
        ({"theory": D("0"), "skill": D("0")}, PARTS, "fail"),
        ({"theory": "absent", "skill": D("90")}, PARTS, "absent"),
        ({"theory": D("90"), "skill": "absent"}, PARTS, "absent"),
        ({"theory": "absent", "skill": None}, PARTS, "absent"),
        ({"theory": D("40"), "skill": "absent"}, PARTS, "absent"),
        ({"theory": D("90"), "skill": None}, PARTS, "incomplete"),
        ({"theory": D("90")}, PARTS, "incomplete"),
        ({"theory": D("40")}, PARTS, "incomplete"),
        ({}, PARTS, "incomplete"),
        ({"theory": D("70"), "skill": D("70"), "review": D("59.9")}, ["theory", "skill", "review"], "fail"),
        ({"theory": D("70"), "skill": D("70"), "review": D("60")}, ["theory", "skill", "review"], "pass"),
        ({"theory": D("70"), "skill": D("70")}, ["theory", "skill", "review"], "incomplete"),
        ({"skill": D("61"), "review": None}, ["skill"], "pass"),
    ],
)
def test_candidate_result(scores, parts, expected):
    assert candidate_result(scores, parts) == expected


@pytest.mark.parametrize(
    "scores, parts, code",
    [
        ({"theory": D("70")}, [], "plan_parts_missing"),
        ({"theory": D("70"), "skill": D("70"), "review": D("70")}, PARTS, "part_not_in_plan"),
        ({"theory": D("100.5"), "skill": D("70")}, PARTS, "score_out_of_range"),
        ({"theory": "zero", "skill": D("70")}, PARTS, "score_out_of_range"),
    ],
)
def test_candidate_result_refused(scores, parts, code):
    with pytest.raises(Refusal) as caught:
        candidate_result(scores, parts)
    assert caught.value.code == code
