"""Rubric and entry checks (R-SCORE-3)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from examday.errors import Refusal
from scoring.rubric import RubricItem, total, validate_entry, validate_rubric


def rubric(*maxima: object, codes: list[str] | None = None) -> list[RubricItem]:
    codes = codes or [f"A{i}" for i in range(1, len(maxima) + 1)]
    return [RubricItem(code, f"item {code}", m) for code, m in zip(codes, maxima)]  # type: ignore[arg-type]


STANDARD = rubric(D(40), D(30), D("20.5"), D("9.5"))


# R-SCORE-3: items sum to exactly 100.
@pytest.mark.parametrize(
    "items",
    [
        rubric(D(100)),
        rubric(D(50), D(50)),
        rubric(D(40), D(30), D("20.5"), D("9.5")),
        rubric(D("33.3"), D("33.3"), D("33.4")),
        rubric(*([D(10)] * 10)),
        rubric(60, "40"),
        rubric(D("70.00"), D("30.0")),
    ],
)
def test_rubric_accepted(items):
    clean = validate_rubric(items)
    assert sum(i.max_points for i in clean) == D(100)
    assert all(isinstance(i.max_points, D) for i in clean)


@pytest.mark.parametrize(
    "items, reason",
    [
        ([], "empty"),
        (rubric(D(50), D(49)), "sum_not_100"),
        (rubric(D(50), D("50.1")), "sum_not_100"),
        (rubric(D("33.3"), D("33.3"), D("33.3")), "sum_not_100"),
        (rubric(D(60), D(40), codes=["A", "A"]), "code_duplicate"),
        (rubric(D(60), D(40), codes=["A", "  "]), "code_empty"),
        (rubric(D(60), D(40), codes=["A", ""]), "code_empty"),
        (rubric(D(110), D(-10)), "max_not_positive"),
        (rubric(D(100), D(0)), "max_not_positive"),
        (rubric(D("33.33"), D("33.33"), D("33.34")), "max_too_precise"),
        (rubric("abc", D(100)), "max_not_a_number"),
        (rubric(D("NaN"), D(100)), "max_not_a_number"),
    ],
)
def test_rubric_refused(items, reason):
    with pytest.raises(Refusal) as caught:
        validate_rubric(items)
    refusal = caught.value
    assert refusal.code == "rubric_invalid"
    assert refusal.rule == "R-SCORE-3"
    assert reason in [p["reason"] for p in refusal.detail["problems"]]


def test_rubric_lists_every_problem_at_once():
    items = rubric(D(0), D(50), D(40), codes=["A", "A", ""])
    with pytest.raises(Refusal) as caught:
        validate_rubric(items)
    reasons = {p["reason"] for p in caught.value.detail["problems"]}
    assert reasons == {"max_not_positive", "code_duplicate", "code_empty", "sum_not_100"}


# R-SCORE-3: each item from 0 to its maximum, one decimal at most.
@pytest.mark.parametrize(
    "points, expected_total",
    [
        ({"A1": D(40), "A2": D(30), "A3": D("20.5"), "A4": D("9.5")}, D("100.0")),
        ({"A1": D(0), "A2": D(0), "A3": D(0), "A4": D(0)}, D("0.0")),
        ({"A1": 35, "A2": "22.5", "A3": 18.3, "A4": D("7.0")}, D("82.8")),
        ({"A1": "39.9", "A2": "29.9", "A3": "20.4", "A4": "9.4"}, D("99.6")),
        ({"A1": D("12.50"), "A2": D(1), "A3": D(1), "A4": D(1)}, D("15.5")),
        ({"A1": 0.1, "A2": 0.2, "A3": 0.3, "A4": 0.4}, D("1.0")),
    ],
)
def test_entry_accepted(points, expected_total):
    clean = validate_entry(STANDARD, points)
    assert list(clean) == ["A1", "A2", "A3", "A4"]
    assert all(isinstance(v, D) for v in clean.values())
    assert total(clean) == expected_total


@pytest.mark.parametrize(
    "code, value, reason",
    [
        ("A1", D("40.1"), "above_max"),
        ("A4", D(10), "above_max"),
        ("A3", D("-0.1"), "below_zero"),
        ("A2", -1, "below_zero"),
        ("A1", D("12.25"), "too_precise"),
        ("A1", 12.25, "too_precise"),
        ("A1", "7.05", "too_precise"),
        ("A1", "seven", "not_a_number"),
        ("A1", None, "not_a_number"),
        ("A1", True, "not_a_number"),
        ("A1", D("Infinity"), "not_a_number"),
        ("A1", "1e40", "above_max"),
    ],
)
def test_entry_out_of_range(code, value, reason):
    points = {"A1": D(1), "A2": D(1), "A3": D(1), "A4": D(1), code: value}
    with pytest.raises(Refusal) as caught:
        validate_entry(STANDARD, points)
    assert caught.value.code == "score_out_of_range"
    assert caught.value.rule == "R-SCORE-3"
    assert {"code": code, "reason": reason}.items() <= caught.value.detail["problems"][0].items()


@pytest.mark.parametrize(
    "points, missing, unknown",
    [
        ({"A1": 1, "A2": 1, "A3": 1}, ["A4"], []),
        ({"A1": 1, "A2": 1, "A3": 1, "A4": 1, "B9": 1}, [], ["B9"]),
        ({}, ["A1", "A2", "A3", "A4"], []),
        ({"A1": 1, "A2": 1, "A3": 1, "a4": 1}, ["A4"], ["a4"]),
    ],
)
def test_entry_items_mismatch(points, missing, unknown):
    with pytest.raises(Refusal) as caught:
        validate_entry(STANDARD, points)
    assert caught.value.code == "score_items_mismatch"
    assert caught.value.detail == {"missing": missing, "unknown": unknown}


def test_entry_against_broken_rubric_is_refused_as_rubric():
    with pytest.raises(Refusal) as caught:
        validate_entry(rubric(D(50), D(40)), {"A1": 1, "A2": 1})
    assert caught.value.code == "rubric_invalid"


@pytest.mark.parametrize(
    "points, expected",
    [
        ({}, D("0.0")),
        ({"a": D("0.1"), "b": D("0.2")}, D("0.3")),
        ({"a": D("33.3"), "b": D("33.3"), "c": D("33.4")}, D("100.0")),
        ({"a": 1, "b": "2.5"}, D("3.5")),
    ],
)
def test_total_is_exact(points, expected):
    assert total(points) == expected
    assert str(total(points)) == str(expected)


@pytest.mark.parametrize("value", ["0.05", "x", None, D("1.25")])
def test_total_refuses_rather_than_rounds(value):
    with pytest.raises(Refusal) as caught:
        total({"a": value})
    assert caught.value.code == "score_out_of_range"
