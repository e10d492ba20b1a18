"""Scope rules (认定范围), pure: the levels (等级) a scope row lists and whether a scope covers an exam.

R-INST-3 (scope rows of occupation, optional work type and levels), R-LEVEL
(levels 5..1, written as numbers "5、4、3" or by name; an enterprise may add
学徒工 below level 5 and 特级技师 / 首席技师 above level 1).

The tiers are written by name only (the numbers stay 1-5) and only an
enterprise (用人单位/企业) files them; a social training and evaluation
organisation or a technical school listing one is refused row by row with
``enterprise_tier_needs_enterprise``. Names and numbers: ``examday.levels``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from examday import levels as lv
from examday.errors import Refusal
from examday.glossary import TERMS
from examday.registry.violation import OCCUPATION_CODE, Violation, get

LEVEL_NAMES = lv.NATIONAL_TOKENS
ENTERPRISE_TIERS = tuple(lv.TIER_TOKENS)  # the tiers' names as a scope writes them
INSTITUTION_KINDS = ("enterprise", "training_org", "school")
KIND_ZH = {code: words[0] for code, words in TERMS["institution_kind"].items()}  # the one glossary (issue #16)


# -- levels (R-LEVEL) ----------------------------------------------------------


def _level_refusal(token: str) -> Refusal:
    if token in lv.TIER_TOKENS:
        return Refusal(
            "enterprise_tier_needs_enterprise",
            f"“{token}”是企业自设等级，只有用人单位（企业）可在备案范围中增设",
            f"'{token}' is an enterprise's own tier: only an enterprise (用人单位) may add it to its scope.",
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


def parse_levels(value: Any, enterprise: bool = False) -> list[int]:
    """Levels as filed ("5、4、3", "5,4,3", [5, 4, 3], "高级工") → [5, 4, 3], highest number first.

    R-LEVEL: numbers are 1-5 only; 学徒工, 特级技师 and 首席技师 are read (as 6, 0
    and -1, ``examday.levels``) only when ``enterprise`` is true.
    """
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
            if item not in lv.NATIONAL_LEVELS:
                raise _level_refusal(str(item))
            found.add(item)
            continue
        text = unicodedata.normalize("NFKC", str(item))
        for token in re.split(r"[、,，;；/\s]+", text.strip()):
            if not token:
                continue
            if token.isdigit() and int(token) in lv.NATIONAL_LEVELS:
                found.add(int(token))
            elif token in lv.NATIONAL_TOKENS:
                found.add(lv.NATIONAL_TOKENS[token])
            elif enterprise and token in lv.TIER_TOKENS:
                found.add(lv.TIER_TOKENS[token])
            else:
                raise _level_refusal(token)
    if not found:
        raise Refusal("levels_required", "须至少填写一个等级", "At least one level is needed.", "R-LEVEL")
    return sorted(found, reverse=True)


def levels_text(levels: Iterable[int]) -> str:
    """Levels as a scope row stores them ("5,4,3"; tiers by number, "6,5,-1")."""
    return lv.stored_text(levels)


# -- scope (R-INST-3) ----------------------------------------------------------


def scope_row_violations(rows: Sequence[Any], kind: str | None = None) -> list[Violation]:
    """R-INST-3, R-LEVEL: every fault of every row; tiers only for ``kind == "enterprise"``."""
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
            parse_levels(get(row, "levels"), enterprise=kind == "enterprise")
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
        if level in stored_levels(get(row, "levels")):
            return True
    return False


def stored_levels(value: Any) -> list[int]:
    """A row's levels as ints: stored ("5,4,-1"), as filed ("5、4、首席技师") or a list of ints.

    What cannot be read is left out: a row covers only the levels it clearly names.
    """
    if isinstance(value, str):
        try:
            return parse_levels(value, enterprise=True)
        except Refusal:
            return lv.parse_stored(value)
    return [x for x in (value or ()) if lv.is_level(x)]
