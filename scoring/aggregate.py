"""Combining a panel's scores, arbitration, and the pass rule (成绩合成与合格判定).

Rules enforced here:

- R-SCORE-3 — a part is passed at 60 or more; a candidate passes when every
  part of the plan is passed. The pass mark is a constant, not a setting:
  lowering or raising it voids the scores.
- R-PANEL-1 — the panel scores independently; when their totals disagree too
  much, or straddle the pass mark, the part goes to arbitration (仲裁) instead
  of being averaged away.

Arithmetic is exact (Decimal) and rounded once, at the end, to one decimal
place half up; rounding intermediate values could move a result across 60.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext

from examday.errors import Refusal
from scoring.rubric import PART_MAX, has_one_decimal_at_most, quantize_points, to_points

PASS_MARK = Decimal(60)
DEFAULT_TOLERANCE = Decimal(10)
ABSENT = "absent"
VOID = "void"  # R-DISC-1 tiers (a) and (c)
CHEATING = "cheating"  # R-DISC-1 tier (b)
METHODS = ("mean", "median", "trimmed_mean")
TRIMMED_MIN = 5


def _scores(totals: Sequence[object]) -> list[Decimal]:
    out: list[Decimal] = []
    for i, raw in enumerate(totals):
        number = to_points(raw)
        if number is None or number < 0 or number > PART_MAX or not has_one_decimal_at_most(number):
            raise Refusal(
                "score_out_of_range",
                "分数须为0至100之间、最多一位小数的数字",
                "A total must be a number from 0 to 100 with at most one decimal.",
                "R-SCORE-3",
                detail={"index": i, "value": str(raw)},
            )
        out.append(number)
    return out


def _mean(values: Sequence[Decimal]) -> Decimal:
    # Enough precision that only the final quantize rounds.
    with localcontext() as ctx:
        ctx.prec = 50
        return sum(values, Decimal(0)) / len(values)


def combine(totals: Sequence[object], method: str = "mean") -> Decimal:
    """One part's score from the panel's totals, to one decimal, half up.

    ``median`` of an even count is the mean of the two middle totals (a panel
    is odd, but a theory import or a re-mark may bring an even list).
    ``trimmed_mean`` drops one highest and one lowest total and so needs 5.
    """
    if method not in METHODS:
        raise Refusal(
            "aggregate_method_invalid",
            "成绩合成方法无效，应为 mean、median 或 trimmed_mean",
            "Unknown combination method; use mean, median or trimmed_mean.",
            None,
            detail={"method": method},
        )
    values = _scores(totals)
    if not values:
        raise Refusal("no_scores", "没有可合成的评分", "There are no scores to combine.", "R-PANEL-1")
    ordered = sorted(values)
    if method == "mean":
        exact = _mean(ordered)
    elif method == "median":
        mid = len(ordered) // 2
        exact = ordered[mid] if len(ordered) % 2 else _mean(ordered[mid - 1 : mid + 1])
    else:
        if len(ordered) < TRIMMED_MIN:
            raise Refusal(
                "trimmed_mean_needs_five",
                "去掉最高分和最低分后取平均，至少需要5个评分",
                "A trimmed mean needs at least 5 scores.",
                None,
                detail={"count": len(ordered)},
            )
        exact = _mean(ordered[1:-1])
    return quantize_points(exact)


def needs_arbitration(
    totals: Sequence[object],
    tolerance: Decimal = DEFAULT_TOLERANCE,
    pass_mark: Decimal = PASS_MARK,
) -> list[str]:
    """Why the panel's totals must go to arbitration; empty when they need not.

    ``spread``: highest minus lowest is more than the tolerance (equal to it is
    still agreement). ``split_pass_fail``: some examiners pass the candidate and
    some fail them — a mean must not decide which side of 60 they land on.
    """
    values = _scores(totals)
    limit, mark = to_points(tolerance), to_points(pass_mark)
    if limit is None or limit < 0 or mark is None:
        raise ValueError("tolerance and pass_mark must be numbers, tolerance not negative")
    reasons: list[str] = []
    if len(values) < 2:
        return reasons
    if max(values) - min(values) > limit:
        reasons.append("spread")
    passing = [v >= mark for v in values]
    if any(passing) and not all(passing):
        reasons.append("split_pass_fail")
    return reasons


def part_passed(score: object) -> bool:
    """R-SCORE-3: a part is passed at 60 or more (59.9 is not 60)."""
    number = to_points(score)
    return number is not None and number >= PASS_MARK


def candidate_result(part_scores: Mapping[str, object], parts: Sequence[str]) -> str:
    """``pass``, ``fail``, ``cheating``, ``void``, ``absent`` or ``incomplete`` for one candidate.

    Precedence: a part treated as cheating → ``cheating``, a void part →
    ``void`` (R-DISC-1, decided in ``scoring.outcome``); absent from any part →
    ``absent`` (not a zero: the candidate did not sit it); else a part without a score yet → ``incomplete`` (no
    partial verdict is published before every part is in, so every candidate
    of the batch gets a result at the same stage, R-PLAN-2); else every part
    ≥ 60 → ``pass`` (R-SCORE-3); else ``fail``.
    """
    if not parts:
        raise Refusal("plan_parts_missing", "认定计划未列出考核科目", "The plan names no assessment parts.", "R-PLAN-3")
    stray = [p for p, v in part_scores.items() if p not in parts and v is not None]
    if stray:
        # A score for a part the plan does not have is a data error, not something to ignore.
        raise Refusal(
            "part_not_in_plan",
            "成绩中含有认定计划以外的科目",
            "A score is given for a part that is not in the plan.",
            "R-PLAN-2",
            detail={"parts": sorted(stray)},
        )
    values = {p: part_scores.get(p) for p in parts}
    for verdict in (CHEATING, VOID):
        if any(v == verdict for v in values.values()):
            return verdict
    if any(v == ABSENT for v in values.values()):
        return "absent"
    if any(v is None for v in values.values()):
        return "incomplete"
    scores = _scores(list(values.values()))
    return "pass" if all(part_passed(s) for s in scores) else "fail"
