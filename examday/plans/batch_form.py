"""The new-batch form built for people (新建认定批次, issue #16): the occupation chosen from the
filed scope, levels by name (五级 / 初级工 … 一级 / 高级技师, an enterprise's tiers by name), rooms
ticked and staff picked by name and role per room, any number of skill sittings, and an exam date
too close to be filed refused before anything is saved (R-PLAN-1).

The form posts field names ``s{i}_part``, ``s{i}_start``, ``s{i}_end``, ``s{i}_rooms`` (one value
per ticked room code) and ``s{i}_staff`` (``ROOM:staff id`` per ticked person); this module turns
them into the service's :class:`BatchSpec`, and the service checks them as it does the API's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from examday.errors import Refusal
from examday.levels import ALL_LEVELS, NATIONAL_TOKENS, is_enterprise_tier, level_name, parse_stored
from examday.plans.access import today_of, work_calendar
from examday.plans.rules import FILING_LEAD_WORKING_DAYS, latest_filing_date
from examday.plans.services.batches import BatchSpec, SessionSpec
from examday.registry.models import Institution, Room, ScopeEntry, Staff

_NUMERAL = {v: k for k, v in NATIONAL_TOKENS.items() if k.endswith("级") and len(k) == 2}  # 5 → 五级
# Which rooms and staff each part offers: proctors watch theory rooms, examiners assess skill and review.
PART_ROOMS = {"theory": ("theory",), "skill": ("skill",), "review": ("theory", "skill", "affairs")}
PART_STAFF = {"theory": "proctor", "skill": "examiner", "review": "examiner"}


def level_choice(level: int) -> str:
    """五级 / 初级工 for a national level; the tier's name alone (学徒工, 特级技师, 首席技师)."""
    name = level_name(level)[0]
    return name if is_enterprise_tier(level) else f"{_NUMERAL[level]} / {name}"


def level_choices(kind: str) -> list[tuple[int, str]]:
    """R-LEVEL: every national level; an enterprise's tiers by name for an enterprise only."""
    order = sorted(ALL_LEVELS, reverse=True)  # 学徒工 (6) first, 首席技师 (-1) last
    return [(lv, level_choice(lv)) for lv in order if kind == "enterprise" or not is_enterprise_tier(lv)]


def earliest_exam_date(db: Session, now: datetime) -> tuple[date, date]:
    """(today, the first exam date a plan made today can still be filed for) on the installation's
    calendar (R-PLAN-1, R-CAL): the last filing day of that date is today or later."""
    cal, today = work_calendar(db), today_of(now)
    day = cal.add_working_days(today, FILING_LEAD_WORKING_DAYS)
    while latest_filing_date(day, cal) < today:
        day = date.fromordinal(day.toordinal() + 1)
    return today, day


def refuse_too_soon(db: Session, now: datetime, exam_date: date) -> None:
    """R-PLAN-1 (认定计划须提前10个工作日报送): a date whose last filing day has passed is refused
    before a draft is made, with the last filing day and the first date still possible."""
    cal = work_calendar(db)
    latest = latest_filing_date(exam_date, cal)
    today, first = earliest_exam_date(db, now)
    if today <= latest:
        return
    raise Refusal(
        "exam_date_too_soon",
        f"考试日期 {exam_date.isoformat()} 过近：认定计划须提前{FILING_LEAD_WORKING_DAYS}个工作日报送，"
        f"该日期的最迟报送日期是 {latest.isoformat()}，已过；最早可选 {first.isoformat()}",
        f"{exam_date.isoformat()} is too soon: a plan is filed {FILING_LEAD_WORKING_DAYS} working days ahead, "
        f"and its last filing day was {latest.isoformat()}. The earliest possible date is {first.isoformat()}.",
        "R-PLAN-1",
        422,
        {"latest_filing_date": latest.isoformat(), "earliest_exam_date": first.isoformat()},
    )


def _many(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]


def _one(data: dict[str, Any], key: str) -> str:
    values = _many(data, key)
    return values[-1].strip() if values else ""


def sessions_of_form(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The form's session rows in the order they were posted: part, times, rooms, ``{room: [ids]}``."""
    indexes = sorted({int(m.group(1)) for k in data if (m := re.fullmatch(r"s(\d+)_part", k))})
    out = []
    for i in indexes:
        rooms = list(dict.fromkeys(_many(data, f"s{i}_rooms")))
        staff: dict[str, list[int]] = {}
        for pick in _many(data, f"s{i}_staff"):
            code, _, sid = pick.partition(":")
            if code in rooms and sid.isdigit():
                staff.setdefault(code, []).append(int(sid))
        out.append(
            {
                "i": i,
                "part": _one(data, f"s{i}_part"),
                "start": _one(data, f"s{i}_start"),
                "end": _one(data, f"s{i}_end"),
                "rooms": rooms,
                "staff": staff,
                "picked": {f"{c}:{s}" for c, ids in staff.items() for s in ids},
            }
        )
    return out


def _invalid(zh: str, en: str, field: str) -> Refusal:
    return Refusal("invalid_batch", zh, en, None, 422, {"errors": [{"field": field, "message": zh, "message_en": en}]})


def spec_of_form(data: dict[str, Any]) -> BatchSpec:
    """The BatchSpec the API would get. Rows with neither times nor rooms are left out (an empty
    sitting the office added and did not fill)."""
    try:
        iid, level = int(_one(data, "institution_id")), int(_one(data, "level"))
    except ValueError:
        raise _invalid("请选择机构和级别", "Choose the institution and the level.", "level") from None
    try:
        day = date.fromisoformat(_one(data, "exam_date"))
    except ValueError:
        raise _invalid("请选择考试日期", "Choose the exam date.", "exam_date") from None
    occupation = _one(data, "occupation")
    code, _, work_type = occupation.partition("|")
    sessions, parts = [], []
    for s in sessions_of_form(data):
        if not (s["start"] or s["end"] or s["rooms"]):
            continue
        if not (s["start"] and s["end"]):
            raise _invalid("每个场次填写开始和结束时间", "Give each session its start and end time.", "sessions")
        if s["part"] not in parts:
            parts.append(s["part"])
        sessions.append(
            SessionSpec(
                part=s["part"],
                rooms=s["rooms"],
                starts_at=f"{day.isoformat()}T{s['start']}",
                ends_at=f"{day.isoformat()}T{s['end']}",
                proctors=s["staff"],
            )
        )
    order = {"theory": 0, "skill": 1, "review": 2}
    return BatchSpec(
        institution_id=iid,
        occupation_code=code.strip(),
        level=level,
        exam_date=day,
        parts=sorted(parts, key=lambda p: order.get(p, 9)) or None,
        sessions=sessions,
        work_type=(_one(data, "work_type") or work_type).strip() or None,
    )


def default_sessions() -> list[dict[str, Any]]:
    """One empty row per part (R-PLAN-3: the review only for levels 2 and 1 and the top tiers; left
    empty it is not part of the plan); more skill sittings are added on the page."""
    parts = ["theory", "skill", "review"]
    return [
        {"i": i, "part": p, "start": "", "end": "", "rooms": [], "staff": {}, "picked": set()}
        for i, p in enumerate(parts)
    ]


def form_context(db: Session, inst: Institution | None, now: datetime) -> dict[str, Any]:
    """What the form offers for the chosen institution: its filed scope, the levels its kind may
    use, its rooms by part, its staff by role, and the first exam date still possible."""
    today, first = earliest_exam_date(db, now)
    if inst is None or inst.id is None:
        return {"scope": [], "levels": [], "rooms_by_part": {}, "staff_by_part": {}, "first_date": first}
    scope = [
        {
            "value": f"{e.occupation_code}|{e.work_type or ''}",
            "label": f"{e.occupation_code} {e.occupation_name}" + (f"（{e.work_type}）" if e.work_type else ""),
            "levels": "、".join(level_choice(lv) for lv in parse_stored(e.levels)),
        }
        for e in db.exec(
            select(ScopeEntry).where(ScopeEntry.institution_id == inst.id).order_by(col(ScopeEntry.id))
        ).all()
    ]
    rooms = list(
        db.exec(select(Room).where(Room.institution_id == inst.id, Room.active == True).order_by(Room.code)).all()  # noqa: E712
    )
    staff = list(
        db.exec(
            select(Staff).where(Staff.institution_id == inst.id, Staff.active == True).order_by(col(Staff.id))  # noqa: E712
        ).all()
    )

    def roles(s: Staff) -> list[str]:
        return [r for r in (s.roles or "").split(",") if r]

    return {
        "scope": scope,
        "levels": level_choices(inst.kind),
        "rooms_by_part": {p: [r for r in rooms if r.kind in kinds] for p, kinds in PART_ROOMS.items()},
        "staff_by_part": {
            p: [
                {"id": s.id, "name": s.name, "roles": roles(s), "trainer": s.is_trainer}
                for s in staff
                if role in roles(s) and not (p == "theory" and s.is_trainer)  # R-STAFF-3: no trainer proctors
            ]
            for p, role in PART_STAFF.items()
        },
        "first_date": first,
        "today": today,
    }
