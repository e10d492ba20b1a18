"""The checks an exam plan (认定计划) must pass before it is filed (备案报送).

Pure: plain facts in, every violation out — the office fixes a plan in one
round instead of discovering its faults one refusal at a time.

Rules: R-PLAN-1 (filed at least 10 working days ahead, R-CAL; names the
time, rooms, staff and candidates), R-PLAN-2 (one assessment for all, in one
order), R-PLAN-3 (parts per level), R-PLAN-4 (eligibility reviewed),
R-INST-2 (filing active), R-INST-3 (scope), R-STAFF-1 (5 full-time staff),
R-STAFF-3 (no trainers as proctors), R-SITE-1 (2+ monitored theory rooms,
filed rooms only), R-RATIO-1 (proctors and examiners per room), R-SEAT-1
(seats per theory room).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from examday.calendar import WorkCalendar
from examday.levels import ALL_LEVELS, is_enterprise_tier, is_level, level_label, level_label_en, level_name
from examday.plans.facts import (  # noqa: F401  (re-exported: callers build facts from here)
    Booking,
    FilingFact,
    PlanFacts,
    RoomFact,
    ScopeFact,
    SessionFact,
    StaffFact,
    Violation,
)
from examday.plans.rules_parts import PART_ZH, PARTS, parts_violations, required_parts
from examday.plans.rules_parts import violation as _v
from examday.plans.rules_rooms import MIN_THEORY_ROOMS, room_violations
from examday.plans.rules_staffing import staffing_violations, time_violations

LEVELS = ALL_LEVELS  # R-LEVEL: 5..1, and an enterprise's 学徒工 (6), 特级技师 (0), 首席技师 (-1)
FILING_LEAD_WORKING_DAYS = 10  # R-PLAN-1
MIN_FULL_TIME_STAFF = 5  # R-STAFF-1

__all__ = [
    "FILING_LEAD_WORKING_DAYS",
    "LEVELS",
    "MIN_FULL_TIME_STAFF",
    "MIN_THEORY_ROOMS",
    "PARTS",
    "PART_ZH",
    "codes",
    "latest_filing_date",
    "level_violation",
    "plan_violations",
    "provisional_years",
    "required_parts",
]


def latest_filing_date(exam_date: date, calendar: WorkCalendar) -> date:
    """R-PLAN-1, R-CAL: the 10th working day before the exam is the last day to file."""
    return calendar.add_working_days(exam_date, -FILING_LEAD_WORKING_DAYS)


def provisional_years(today: date, exam_date: date, calendar: WorkCalendar) -> list[int]:
    """R-CAL: years whose holiday notice is not known, so the deadline is provisional."""
    return calendar.provisional_years_in(today, exam_date)


def plan_violations(facts: PlanFacts, today: date, calendar: WorkCalendar) -> list[Violation]:
    """Every rule the plan breaks, in a stable order (never just the first).

    Parts in ``rules_parts``, rooms in ``rules_rooms``, times and staff in ``rules_staffing``.
    """
    out: list[Violation] = []
    out += _institution(facts, today)
    out += parts_violations(facts)
    out += room_violations(facts)
    out += time_violations(facts)
    out += staffing_violations(facts)
    out += _candidates(facts)
    out += _deadline(facts, today, calendar)
    return out


# -- institution -------------------------------------------------------------


def _institution(f: PlanFacts, today: date) -> list[Violation]:
    out = []
    for label, day in (("today", today), ("exam_date", f.exam_date)):
        covering = [x for x in f.filings if x.valid_from <= day <= x.valid_until]
        if any(x.status == "active" for x in covering):
            continue
        state = next((x.status for x in covering), "expired")
        zh_state = {"suspended": "已暂停", "revoked": "已撤销"}.get(state, "已过期或不存在")
        when = "今天" if label == "today" else f"考试日 {f.exam_date.isoformat()}"
        when_en = "today" if label == "today" else f"on the exam date {f.exam_date.isoformat()}"
        # R-INST-2: an expired, suspended or revoked filing files no plans and runs no exams.
        out.append(
            _v(
                "filing_not_active",
                "R-INST-2",
                f"机构备案{when}{zh_state}，不能报送认定计划",
                f"The institution's filing is not active {when_en} ({state}); it cannot file plans.",
                on=label,
                date=day.isoformat(),
                state=state,
            )
        )
    out += _level(f)
    covered = any(
        s.occupation_code == f.occupation_code
        and f.level in s.levels
        and (s.work_type is None or s.work_type == f.work_type)
        for s in f.scope
    )
    if not covered:  # R-INST-3
        what = f.occupation_code + (f"（{f.work_type}）" if f.work_type else "")
        out.append(
            _v(
                "outside_scope",
                "R-INST-3",
                f"职业（工种）{what} {level_label(f.level)}不在备案认定范围内",
                f"Occupation {f.occupation_code}{' / ' + f.work_type if f.work_type else ''} "
                f"{level_label_en(f.level)} is outside the filed scope.",
                occupation_code=f.occupation_code,
                work_type=f.work_type,
                level=f.level,
            )
        )
    if f.full_time_staff < MIN_FULL_TIME_STAFF:  # R-STAFF-1
        out.append(
            _v(
                "too_few_full_time_staff",
                "R-STAFF-1",
                f"专职评价工作人员须至少{MIN_FULL_TIME_STAFF}名，现有{f.full_time_staff}名",
                f"At least {MIN_FULL_TIME_STAFF} full-time evaluation staff are needed; there are {f.full_time_staff}.",
                have=f.full_time_staff,
                need=MIN_FULL_TIME_STAFF,
            )
        )
    return out


def level_violation(level: int, institution_kind: str) -> Violation | None:
    """R-LEVEL: a national level 5..1, or a tier an enterprise (用人单位/企业) added.

    Only an enterprise runs 学徒工, 特级技师 or 首席技师; whether the level is in its
    filed scope is R-INST-3's check, as for any level. Batch creation asks this too.
    """
    if not is_level(level):
        return _v(
            "invalid_level",
            "R-LEVEL",
            f"等级“{level}”无效：等级为5、4、3、2、1（企业另可设学徒工、特级技师、首席技师）",
            f"Level {level} is not valid: levels are 5, 4, 3, 2 and 1 (an enterprise may add its tiers).",
            level=level,
        )
    if is_enterprise_tier(level) and institution_kind != "enterprise":
        zh, en = level_name(level)
        return _v(
            "enterprise_tier_needs_enterprise",
            "R-LEVEL",
            f"“{zh}”是企业自设等级，只有用人单位（企业）可以设立",
            f"'{zh}' ({en}) is an enterprise's own tier: only an enterprise (用人单位) runs it.",
            level=level,
            institution_kind=institution_kind,
        )
    return None


def _level(f: PlanFacts) -> list[Violation]:
    v = level_violation(f.level, f.institution_kind)
    return [v] if v is not None else []


# -- candidates (R-PLAN-1, R-PLAN-4) -------------------------------------------


def _candidates(f: PlanFacts) -> list[Violation]:
    out = []
    if f.candidates == 0:
        out.append(_v("no_candidates", "R-PLAN-1", "认定计划须包含参加认定人员", "The plan has no candidates."))
    if f.pending_review:  # R-PLAN-4
        out.append(
            _v(
                "eligibility_not_reviewed",
                "R-PLAN-4",
                f"还有{f.pending_review}名考生未完成申报条件审核",
                f"{f.pending_review} candidates' eligibility has not been reviewed.",
                count=f.pending_review,
            )
        )
    if f.ineligible:  # R-PLAN-4
        out.append(
            _v(
                "ineligible_candidates",
                "R-PLAN-4",
                f"有{f.ineligible}名考生审核不符合申报条件，须先作退出处理",
                f"{f.ineligible} candidates were found ineligible; withdraw them first.",
                count=f.ineligible,
            )
        )
    return out


# -- deadline (R-PLAN-1, R-CAL) --------------------------------------------------


def _deadline(f: PlanFacts, today: date, calendar: WorkCalendar) -> list[Violation]:
    # R-CAL: working days from the calendar (holidays, 调休), never plain Monday to Friday.
    latest = latest_filing_date(f.exam_date, calendar)
    if today <= latest:
        return []
    years = provisional_years(today, f.exam_date, calendar)
    note_zh = f"（{'、'.join(map(str, years))}年节假日安排尚未公布，按暂定日历计算）" if years else ""
    note_en = f" (provisional: the {', '.join(map(str, years))} holiday notice is not known yet)" if years else ""
    # R-PLAN-1: filed at least 10 working days (R-CAL) before the exam.
    return [
        _v(
            "filed_too_late",
            "R-PLAN-1",
            f"认定计划须提前{FILING_LEAD_WORKING_DAYS}个工作日报送，最迟 {latest.isoformat()}{note_zh}",
            f"A plan is filed at least {FILING_LEAD_WORKING_DAYS} working days before the exam; the last "
            f"day was {latest.isoformat()}{note_en}.",
            latest_filing_date=latest.isoformat(),
            working_days=calendar.working_days_between(today, f.exam_date),
            provisional_years=years,
        )
    ]


def codes(violations: Iterable[Violation]) -> list[str]:
    return [v.code for v in violations]
