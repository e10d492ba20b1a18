"""Registry rules, pure: filings (备案), scope (认定范围) and levels (等级).

Rules: R-INST-2 (a filing is valid 3 years, renewed in the 90 days before it
expires; expired, suspended or revoked filings stop exams), R-INST-3 (scope
rows of occupation, optional work type and levels), R-LEVEL (levels 5..1).
Rooms (R-SITE-1, R-SEAT-1, R-VIDEO-1) live in ``site_rules`` and staff
(R-STAFF-1..3, R-RECUSE-1) in ``staff_rules``; both are re-exported here so
callers need one import.

Nothing here reads a database or a clock: ``today`` is always an argument.

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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from examday.errors import Refusal
from examday.registry.violation import LEVELS, OCCUPATION_CODE, Violation, check, get, refusal

FILING_STATUSES = ("active", "suspended", "revoked")
FILING_YEARS = 3
RENEWAL_DAYS = 90

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


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year + years, day=28)


def last_valid_day(valid_from: date) -> date:
    """R-INST-2: the last day of a 3-year filing. ``valid_until`` is a day of validity (days_left
    counts it), so a filing from 2025-03-01 ends on 2028-02-29, not 2028-03-01."""
    try:
        anniversary = valid_from.replace(year=valid_from.year + FILING_YEARS)
    except ValueError:  # from 29 February: three years run to 1 March
        anniversary = date(valid_from.year + FILING_YEARS, 3, 1)
    return anniversary - timedelta(days=1)


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


# -- filings (R-INST-2) --------------------------------------------------------


def filing_state(filing_status: str, valid_from: date, valid_until: date, today: date) -> str:
    """active | suspended | revoked | expired | not_yet_valid.

    Revocation outranks everything; an expired filing is expired whether or
    not it was suspended, since nothing can be reinstated on it.
    """
    if filing_status == "revoked":
        return "revoked"
    if today > valid_until:
        return "expired"
    if filing_status == "suspended":
        return "suspended"
    if today < valid_from:
        return "not_yet_valid"
    return "active"


def days_left(valid_until: date, today: date) -> int:
    """Days the filing is still valid, today included (1 on its last day, 0 once expired)."""
    return max(0, (valid_until - today).days + 1)


def in_renewal_window(valid_until: date, today: date) -> bool:
    """R-INST-2: renewal may be applied for within the 90 days before expiry (有效期满前90日内)."""
    return 1 <= (valid_until - today).days + 1 <= RENEWAL_DAYS


def filing_violations(
    number: str | None, valid_from: date | None, valid_until: date | None, status: str | None = "active"
) -> list[Violation]:
    out: list[Violation] = []
    if not (number or "").strip():
        out.append(
            Violation("filing_number_required", "R-INST-2", "须填写备案编号", "The filing (备案) number is required.")
        )
    if status not in FILING_STATUSES:
        out.append(
            Violation(
                "invalid_filing_status",
                "R-INST-2",
                "备案状态须为有效、暂停或撤销",
                "A filing's status is active, suspended or revoked.",
                {"status": status},
            )
        )
    if valid_from is None or valid_until is None:
        out.append(
            Violation(
                "filing_period_required",
                "R-INST-2",
                "须填写备案有效期起止日期",
                "The filing's valid_from and valid_until dates are required.",
            )
        )
        return out
    if valid_until < valid_from:
        out.append(
            Violation(
                "filing_period_invalid",
                "R-INST-2",
                "备案有效期截止日期早于起始日期",
                "The filing ends before it starts.",
            )
        )
    # R-INST-2: a filing is valid for 3 years, never longer.
    elif valid_until > last_valid_day(valid_from):
        out.append(
            Violation(
                "filing_too_long",
                "R-INST-2",
                "备案有效期最长3年",
                "A filing is valid for at most 3 years.",
                {"latest_valid_until": last_valid_day(valid_from).isoformat()},
            )
        )
    return out


@dataclass(frozen=True)
class Standing:
    """Where an institution stands today: its governing filing and what follows it."""

    state: str  # filing_state of the governing filing, or "none"
    filing: Any
    next_filing: Any
    days_left: int
    renewal_window: bool  # inside the window and not yet renewed: warn the admin

    @property
    def may_run_exams(self) -> bool:
        # R-INST-2: expired, suspended or revoked institutions file no plans and run no exams.
        return self.state == "active"


def standing(filings: Sequence[Any], today: date) -> Standing:
    """The filing that governs today: the latest one already started, else the earliest."""
    if not filings:
        return Standing("none", None, None, 0, False)
    ordered = sorted(filings, key=lambda f: (get(f, "valid_from"), get(f, "id") or 0))
    started = [f for f in ordered if get(f, "valid_from") <= today]
    current = started[-1] if started else ordered[0]
    later = [f for f in ordered if get(f, "valid_from") > get(current, "valid_from")]
    nxt = later[0] if later else None
    state = filing_state(get(current, "status"), get(current, "valid_from"), get(current, "valid_until"), today)
    until = get(current, "valid_until")
    warn = nxt is None and state in ("active", "suspended") and in_renewal_window(until, today)
    return Standing(state, current, nxt, days_left(until, today), warn)


def renewal_violations(
    current: Standing, today: date, number: str | None, valid_from: date | None, valid_until: date | None
) -> list[Violation]:
    """R-INST-2: a renewal is a new 3-year filing, applied for inside the window, with no gap."""
    if current.filing is None:
        return [
            Violation(
                "no_filing",
                "R-INST-2",
                "该机构没有可延续的备案",
                "This institution has no filing to renew.",
                status=409,
            )
        ]
    if current.state in ("revoked", "suspended"):
        return [
            Violation(
                f"filing_{current.state}",
                "R-INST-2",
                "备案已被撤销，不能延续" if current.state == "revoked" else "暂停评价活动期间不能延续备案",
                f"A {current.state} filing cannot be renewed.",
                status=409,
            )
        ]
    if current.next_filing is not None:
        return [
            Violation("already_renewed", "R-INST-2", "备案已延续", "This filing has already been renewed.", status=409)
        ]
    until = get(current.filing, "valid_until")
    if not in_renewal_window(until, today):
        opens = until - timedelta(days=RENEWAL_DAYS - 1)
        return [
            Violation(
                "outside_renewal_window",
                "R-INST-2",
                f"只能在备案有效期满前90日内申请延续（{opens.isoformat()}至{until.isoformat()}）",
                f"A filing is renewed only within the 90 days before it expires "
                f"({opens.isoformat()} to {until.isoformat()}).",
                {"opens": opens.isoformat(), "valid_until": until.isoformat()},
                409,
            )
        ]
    out = filing_violations(number, valid_from, valid_until, "active")
    if (
        valid_from is not None
        and valid_until is not None
        and (valid_from > until + timedelta(days=1) or valid_until <= until)
    ):
        out.append(
            Violation(
                "renewal_not_continuous",
                "R-INST-2",
                "延续后的有效期须紧接原有效期并晚于原截止日期",
                "The renewed filing must follow on from the current one without a gap and end after it.",
                {"current_valid_until": until.isoformat()},
            )
        )
    return out


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


# Rooms and staff, re-exported so ``rules.room_violations`` and friends work.
from examday.registry.site_rules import (  # noqa: E402
    MAX_THEORY_SEATS,
    ROOM_KINDS,
    room_violations,
    site_violations,
    staff_count_violations,
)
from examday.registry.staff_rules import (  # noqa: E402
    STAFF_ROLES,
    TITLES,
    conflict_violations,
    conflicts_with,
    examiner_qualified_for_level,
    staff_violations,
)

__all__ = [
    "MAX_THEORY_SEATS",
    "OCCUPATION_CODE",
    "ROOM_KINDS",
    "STAFF_ROLES",
    "TITLES",
    "Standing",
    "Violation",
    "add_years",
    "check",
    "conflict_violations",
    "conflicts_with",
    "days_left",
    "examiner_qualified_for_level",
    "filing_state",
    "filing_violations",
    "in_renewal_window",
    "levels_text",
    "parse_levels",
    "refusal",
    "renewal_violations",
    "room_violations",
    "scope_covers",
    "scope_row_violations",
    "site_violations",
    "staff_count_violations",
    "staff_violations",
    "standing",
]
