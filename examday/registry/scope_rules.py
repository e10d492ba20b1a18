"""Scope rules (认定范围), pure: the levels (等级) a scope row lists and whether a scope covers an exam.

R-INST-3 (scope rows of occupation, optional work type and levels), R-LEVEL
(levels 5..1).

Enterprise tiers (学徒工 below level 5, 特级技师 / 首席技师 above level 1,
R-LEVEL) are refused by ``parse_levels``: they are an employer's internal
ladder, outside the five national levels that the filing scope, the plan and
the certificate number (R-FMT-CERT: one level digit, 1-5) are written in, so
an exam for them is not a 职业技能等级认定 this system runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from examday.errors import Refusal
from examday.registry.violation import LEVELS, OCCUPATION_CODE, Violation, get

LEVEL_NAMES = {
    "初级工": 5,
    "中级工": 4,
    "高级工": 3,
    "技师": 2,
    "高级技师": 1,
    "五级": 5,
    "四级": 4,
    "三级": 3,
    "二级": 2,
    "一级": 1,
}
ENTERPRISE_TIERS = ("学徒工", "特级技师", "首席技师")


# -- levels (R-LEVEL) ----------------------------------------------------------


def _level_refusal(token: str) -> Refusal:
    if token in ENTERPRISE_TIERS:
        return Refusal(
            "enterprise_level_not_supported",
            f"“{token}”是企业自设等级，不属于职业技能等级认定的五个等级（5—1级），本系统不受理",
            f"'{token}' is an enterprise's own tier, outside the five national levels (5-1) "
            "that filings, plans and certificate numbers use; examday does not run it.",
            "R-LEVEL",
            422,
            {"level": token},
        )
    return Refusal(
        "invalid_level",
        f"等级“{token}”无效：等级为5（初级工）、4（中级工）、3（高级工）、2（技师）、1（高级技师）",
        f"Level '{token}' is not valid: levels are 5 (初级工), 4, 3, 2 and 1 (高级技师).",
        "R-LEVEL",
        422,
        {"level": token},
    )


def parse_levels(value: Any) -> list[int]:
    """Levels as filed ("5、4、3", "5,4,3", [5, 4, 3], "高级工") → [5, 4, 3], highest number first."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        items: Iterable[Any] = [value]
    elif value is None:
        items = []
    else:
        items = value
    found: set[int] = set()
    for item in items:
        if isinstance(item, bool):
            raise _level_refusal(str(item))
        if isinstance(item, int):
            if item not in LEVELS:
                raise _level_refusal(str(item))
            found.add(item)
            continue
        text = unicodedata.normalize("NFKC", str(item))
        for token in re.split(r"[、,，;；/\s]+", text.strip()):
            if not token:
                continue
            if token.isdigit() and int(token) in LEVELS:
                found.add(int(token))
            elif token in LEVEL_NAMES:
                found.add(LEVEL_NAMES[token])
            else:
                raise _level_refusal(token)
    if not found:
        raise Refusal("levels_required", "须至少填写一个等级", "At least one level is needed.", "R-LEVEL")
    return sorted(found, reverse=True)


def levels_text(levels: Iterable[int]) -> str:
    return ",".join(str(x) for x in sorted(set(levels), reverse=True))


# -- scope (R-INST-3) ----------------------------------------------------------


def scope_row_violations(rows: Sequence[Any]) -> list[Violation]:
    out: list[Violation] = []
    if not rows:
        out.append(
            Violation(
                "scope_required",
                "R-INST-3",
                "备案范围须至少包含一个职业",
                "The filed scope lists at least one occupation.",
            )
        )
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        code = (get(row, "occupation_code") or "").strip()
        name = (get(row, "occupation_name") or "").strip()
        if not OCCUPATION_CODE.match(code):
            out.append(
                Violation(
                    "invalid_occupation_code",
                    "R-INST-3",
                    f"第{i + 1}行职业编码格式应如 6-31-01-03",
                    f"Scope row {i + 1}: an occupation code looks like 6-31-01-03.",
                    {"row": i + 1, "occupation_code": code},
                )
            )
        if not name:
            out.append(
                Violation(
                    "occupation_name_required",
                    "R-INST-3",
                    f"第{i + 1}行须填写职业名称",
                    f"Scope row {i + 1}: the occupation name is required.",
                    {"row": i + 1},
                )
            )
        try:
            parse_levels(get(row, "levels"))
        except Refusal as r:
            out.append(
                Violation(
                    r.code,
                    r.rule,
                    f"第{i + 1}行：{r.message}",
                    f"Scope row {i + 1}: {r.message_en}",
                    {"row": i + 1, **r.detail},
                )
            )
        key = (code, (get(row, "work_type") or "").strip())
        if key in seen:
            out.append(
                Violation(
                    "duplicate_scope_row",
                    "R-INST-3",
                    f"第{i + 1}行与前面的职业（工种）重复",
                    f"Scope row {i + 1} repeats an occupation and work type.",
                    {"row": i + 1},
                )
            )
        seen.add(key)
    return out


def scope_covers(scope_rows: Sequence[Any], occupation_code: str, work_type: str | None, level: int) -> bool:
    """R-INST-3: exams run only inside the filed scope.

    A row without a work type covers the whole occupation; a row naming a
    work type covers that work type only, not the occupation at large.
    """
    wanted = (work_type or "").strip()
    for row in scope_rows:
        if (get(row, "occupation_code") or "").strip() != occupation_code:
            continue
        row_type = (get(row, "work_type") or "").strip()
        if row_type and row_type != wanted:
            continue
        try:
            if level in parse_levels(get(row, "levels")):
                return True
        except Refusal:
            continue
    return False
