"""Rubrics and score entries: the points an examiner may give (评分细则).

Enforces R-SCORE-3: a theory or skill part is scored out of 100, so a rubric's
items add up to exactly 100 and an entry gives each item between 0 and its
maximum. Points carry one decimal place and are held as ``Decimal`` so that a
total is exact; floats are accepted at the edge and read through their
shortest decimal form (``7.3`` means 7.3, not 7.29999…).

Also the shared points helpers (``to_points``, ``quantize_points``) that the
other scoring modules use, so every module reads a number the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from examday.errors import Refusal

PART_MAX = Decimal(100)
ONE_DECIMAL = Decimal("0.1")

PointsLike = Decimal | int | float | str


def to_points(value: object) -> Decimal | None:
    """Read a number as an exact Decimal, or None when it is not a finite number.

    ``bool`` is refused although it is an ``int``: ``True`` as 1 point is a bug
    upstream, not a score.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest string that round-trips, i.e. what the user typed.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite():
        return None
    return number


def has_one_decimal_at_most(number: Decimal) -> bool:
    # "7.50" is 7.5 and allowed; "7.55" is not: compare values, not exponents.
    try:
        return number == number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # too many digits to hold at one decimal: not a score
        return False


def quantize_points(number: Decimal) -> Decimal:
    """Round to one decimal place, half up (the one rounding the system uses)."""
    return number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RubricItem:
    """One line of a part's scoring rubric (评分细则项)."""

    code: str
    title: str
    max_points: Decimal


def _problem(code: str | None, reason: str, **extra: object) -> dict[str, object]:
    return {"code": code, "reason": reason, **extra}


def validate_rubric(items: Iterable[RubricItem]) -> list[RubricItem]:
    """Return the rubric with exact Decimal maxima, or refuse ``rubric_invalid``.

    Every problem is listed in ``detail.problems`` so that the admin fixes the
    rubric in one pass.
    """
    items = list(items)
    problems: list[dict[str, object]] = []
    seen: set[str] = set()
    clean: list[RubricItem] = []
    running = Decimal(0)
    if not items:
        problems.append(_problem(None, "empty"))
    for item in items:
        code = item.code.strip() if isinstance(item.code, str) else ""
        if not code:
            problems.append(_problem(item.code, "code_empty"))
        elif code in seen:
            problems.append(_problem(code, "code_duplicate"))
        seen.add(code)
        maximum = to_points(item.max_points)
        if maximum is None:
            problems.append(_problem(code, "max_not_a_number"))
            continue
        running += maximum
        if maximum <= 0:
            problems.append(_problem(code, "max_not_positive", max_points=str(maximum)))
        if not has_one_decimal_at_most(maximum):
            problems.append(_problem(code, "max_too_precise", max_points=str(maximum)))
            continue
        clean.append(RubricItem(code, item.title, quantize_points(maximum)))
    # R-SCORE-3: every part is out of 100, so the items sum to exactly 100.
    if items and running != PART_MAX:
        problems.append(_problem(None, "sum_not_100", sum=str(running)))
    if problems:
        raise Refusal(
            "rubric_invalid",
            "评分细则无效：细则项代码须唯一且非空，分值须大于0，合计须为100分",
            "Invalid rubric: item codes must be unique and non-empty, maxima positive, summing to 100.",
            "R-SCORE-3",
            detail={"problems": problems},
        )
    return clean


def validate_entry(items: Iterable[RubricItem], points: Mapping[str, object]) -> dict[str, Decimal]:
    """Check one examiner's points against the rubric; return them as Decimals.

    The rubric is checked first (an entry against a broken rubric means
    nothing), then the item codes, then each item's range.
    """
    rubric = validate_rubric(items)
    codes = [item.code for item in rubric]
    given = set(points)
    missing = [code for code in codes if code not in given]
    unknown = sorted(str(code) for code in given - set(codes))
    if missing or unknown:
        raise Refusal(
            "score_items_mismatch",
            "评分项与评分细则不一致",
            "The scored items do not match the rubric.",
            "R-SCORE-3",
            detail={"missing": missing, "unknown": unknown},
        )
    result: dict[str, Decimal] = {}
    problems: list[dict[str, object]] = []
    for item in rubric:
        raw = points[item.code]
        number = to_points(raw)
        if number is None:
            problems.append(_problem(item.code, "not_a_number", value=str(raw)))
            continue
        # R-SCORE-3: no item below 0 or above its maximum, one decimal at most.
        if number < 0:
            problems.append(_problem(item.code, "below_zero", value=str(number)))
        elif number > item.max_points:
            problems.append(_problem(item.code, "above_max", value=str(number), max_points=str(item.max_points)))
        if not has_one_decimal_at_most(number):
            problems.append(_problem(item.code, "too_precise", value=str(number)))
            continue
        result[item.code] = quantize_points(number)
    if problems:
        raise Refusal(
            "score_out_of_range",
            "评分超出范围：每项须在0至该项满分之间，最多一位小数",
            "Score out of range: each item must be between 0 and its maximum, with at most one decimal.",
            "R-SCORE-3",
            detail={"problems": problems},
        )
    return result


def total(points: Mapping[str, object]) -> Decimal:
    """The exact sum of an entry's points, shown with one decimal place.

    Refuses rather than rounds a value with more decimals: a total that
    silently rounds its items would alter a score (R-SCORE-3).
    """
    running = Decimal(0)
    for code, raw in points.items():
        number = to_points(raw)
        if number is None or not has_one_decimal_at_most(number):
            raise Refusal(
                "score_out_of_range",
                "评分不是有效的一位小数",
                "A score is not a number with at most one decimal.",
                "R-SCORE-3",
                detail={"problems": [_problem(str(code), "not_a_number", value=str(raw))]},
            )
        running += number
    return quantize_points(running)
