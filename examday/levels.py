"""Levels (等级): the one place that names a level, national or an enterprise's own tier.

R-LEVEL: the five national levels are 5 初级工, 4 中级工, 3 高级工, 2 技师 and
1 高级技师, written as numbers ("5、4、3"). An enterprise (用人单位) may add
学徒工 below level 5 and 特级技师 / 首席技师 above level 1 (002 §3(二); 003
attachment 3 note 5). Everywhere a level is an ``int``; the tiers are encoded
so that a lower number is still a higher level:

    6 学徒工 · 5 初级工 · 4 中级工 · 3 高级工 · 2 技师 · 1 高级技师 · 0 特级技师 · -1 首席技师

A tier is never shown as a number ("-1级"): ``level_label`` and ``level_title``
give the words every page, ticket, export and certificate prints. Whether a tier
may be used (an enterprise, inside its filed scope) is decided by the scope
rules (examday.registry.scope_rules) and the plan checks (examday.plans.rules).
"""

from __future__ import annotations

from typing import Any

NATIONAL_LEVELS = (5, 4, 3, 2, 1)
APPRENTICE = 6  # 学徒工, below level 5
SPECIAL_TECHNICIAN = 0  # 特级技师, above level 1
CHIEF_TECHNICIAN = -1  # 首席技师, above 特级技师
ENTERPRISE_TIERS = (APPRENTICE, SPECIAL_TECHNICIAN, CHIEF_TECHNICIAN)
ALL_LEVELS = (APPRENTICE, *NATIONAL_LEVELS, SPECIAL_TECHNICIAN, CHIEF_TECHNICIAN)

_NAMES: dict[int, tuple[str, str]] = {
    APPRENTICE: ("学徒工", "Apprentice"),
    5: ("初级工", "Elementary"),
    4: ("中级工", "Intermediate"),
    3: ("高级工", "Advanced"),
    2: ("技师", "Technician"),
    1: ("高级技师", "Senior technician"),
    SPECIAL_TECHNICIAN: ("特级技师", "Special-grade technician"),
    CHIEF_TECHNICIAN: ("首席技师", "Chief technician"),
}

# Words a filed scope may use for a national level (R-LEVEL); numbers 1-5 are read as such.
NATIONAL_TOKENS: dict[str, int] = {
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
# The enterprise tiers are written by name only: there is no number for them in a filing.
TIER_TOKENS: dict[str, int] = {_NAMES[t][0]: t for t in ENTERPRISE_TIERS}

# The national level a tier is assessed as (R-PLAN-3 parts, R-STAFF-2 examiners):
# 学徒工 as level 5; 特级技师 and 首席技师 as the top levels (theory, skill and review).
_ASSESSED_AS = {APPRENTICE: 5, SPECIAL_TECHNICIAN: 1, CHIEF_TECHNICIAN: 1}


def is_level(value: Any) -> bool:
    """Any level this system knows, national or enterprise tier (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in ALL_LEVELS


def is_national(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in NATIONAL_LEVELS


def is_enterprise_tier(value: Any) -> bool:
    """R-LEVEL: 学徒工, 特级技师 or 首席技师 — only an enterprise may use one."""
    return isinstance(value, int) and not isinstance(value, bool) and value in ENTERPRISE_TIERS


def level_name(level: int) -> tuple[str, str]:
    """(Chinese, English) name: 3 → ("高级工", "Advanced"), -1 → ("首席技师", "Chief technician")."""
    return _NAMES.get(level, (str(level), str(level)))


def level_label(level: int) -> str:
    """The short label pages print where they wrote "{level}级": "3级", or the tier's name."""
    if is_enterprise_tier(level):
        return level_name(level)[0]
    return f"{level}级"


def level_label_en(level: int) -> str:
    if is_enterprise_tier(level):
        return level_name(level)[1]
    return f"level {level}"


def level_text(level: int) -> str:
    """A level as R-LEVEL writes it in a list or a cell: "5", or the tier's name ("首席技师")."""
    return level_name(level)[0] if is_enterprise_tier(level) else str(level)


def level_title(level: int) -> str:
    """Number and name for documents: "3级 高级工", or "首席技师" alone."""
    zh = level_name(level)[0]
    return zh if is_enterprise_tier(level) else f"{level}级 {zh}"


def assessed_as(level: int) -> int:
    """The national level whose parts and examiners a level takes (itself for 1-5)."""
    return _ASSESSED_AS.get(level, level)


def parse_stored(text: str | None) -> list[int]:
    """A scope's stored levels ("5,4,-1") → [5, 4, -1]; anything else is skipped (the writer checked it)."""
    out: set[int] = set()
    for part in (text or "").replace("、", ",").replace("，", ",").split(","):
        try:
            value = int(part.strip())
        except ValueError:
            continue
        if value in ALL_LEVELS:
            out.add(value)
    return sorted(out, reverse=True)


def stored_text(levels: Any) -> str:
    """Levels as a scope stores them: "6,5,4,-1", lowest level first."""
    return ",".join(str(x) for x in sorted(set(levels), reverse=True))


def levels_label(levels: Any) -> str:
    """A scope's levels for reading: "5、4、3" or "5、首席技师"."""
    return "、".join(level_text(x) for x in sorted(set(levels), reverse=True))


def install_template_filters(engine: Any) -> None:
    """Jinja filters for every page: ``{{ batch.level|level_label }}`` prints "3级" or "首席技师"."""
    env = engine.engine
    env.filters["level_label"] = level_label
    env.filters["level_label_en"] = level_label_en
    env.filters["level_text"] = level_text
    env.filters["level_title"] = level_title
    env.filters["levels_label"] = levels_label
