"""Plan checks of the assessment parts (考核环节): which parts a level takes and in what order.

R-PLAN-3: theory (理论知识考试) and skill (技能操作考核); levels 2 and 1 also the
comprehensive review (综合评审). R-PLAN-2: every part has a sitting and every
candidate takes the parts in one order. Pure, like ``rules``.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from examday.levels import assessed_as, level_label, level_label_en
from examday.plans.facts import PlanFacts, SessionFact, Violation

PARTS = ("theory", "skill", "review")
PART_ZH = {"theory": "理论知识考试", "skill": "技能操作考核", "review": "综合评审"}


def violation(code: str, rule: str, zh: str, en: str, **detail: Any) -> Violation:
    """The one way the plan checks build a violation."""
    return Violation(code, rule, zh, en, detail)


def required_parts(level: int) -> list[str]:
    """R-PLAN-3: theory and skill; levels 2 and 1 (技师, 高级技师) also the comprehensive review.

    An enterprise tier (R-LEVEL) takes the parts of the level it is assessed as: 学徒工 those
    of level 5, 特级技师 and 首席技师 those of level 1 (theory, skill and review).
    """
    return ["theory", "skill", "review"] if assessed_as(level) in (1, 2) else ["theory", "skill"]


# -- parts and sessions (R-PLAN-2, R-PLAN-3) ---------------------------------


def parts_violations(f: PlanFacts) -> list[Violation]:
    out = []
    need = required_parts(f.level)
    if sorted(f.parts) != sorted(need):  # R-PLAN-3
        out.append(
            violation(
                "wrong_parts",
                "R-PLAN-3",
                f"{level_label(f.level)}须考核：" + "、".join(PART_ZH[p] for p in need),
                f"{level_label_en(f.level).capitalize()} is assessed by: {', '.join(need)}; the plan has {', '.join(f.parts) or 'none'}.",
                required=need,
                planned=list(f.parts),
            )
        )
    by_part = sessions_by_part(f)
    missing = [p for p in f.parts if not by_part.get(p)]
    if missing:  # R-PLAN-2: a part without a sitting is a stage some candidates skip
        out.append(
            violation(
                "part_without_session",
                "R-PLAN-2",
                "以下考核环节没有安排场次：" + "、".join(PART_ZH.get(p, p) for p in missing),
                f"These parts have no session: {', '.join(missing)}.",
                parts=missing,
            )
        )
    stray = sorted({s.part for s in f.sessions} - set(f.parts))
    if stray:
        out.append(
            violation(
                "session_outside_parts",
                "R-PLAN-2",
                "存在不属于本批次考核环节的场次",
                f"Sessions for parts the batch does not have: {', '.join(stray)}.",
                parts=stray,
            )
        )
    planned = [p for p in f.parts if by_part.get(p)]
    for earlier, later in pairwise(planned):
        last_end = max(s.ends_at for s in by_part[earlier])
        first_start = min(s.starts_at for s in by_part[later])
        if first_start < last_end:  # R-PLAN-2: every candidate goes through the parts in one order
            out.append(
                violation(
                    "parts_out_of_order",
                    "R-PLAN-2",
                    f"{PART_ZH.get(later, later)}须在{PART_ZH.get(earlier, earlier)}全部结束后开始",
                    f"The {later} part starts before the {earlier} part has ended; every "
                    "candidate takes the parts in the same order.",
                    earlier=earlier,
                    later=later,
                )
            )
    return out


def sessions_by_part(f: PlanFacts) -> dict[str, list[SessionFact]]:
    by: dict[str, list[SessionFact]] = defaultdict(list)
    for s in f.sessions:
        by[s.part].append(s)
    return by
