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

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from itertools import pairwise
from math import ceil
from typing import Any

from examday.calendar import WorkCalendar
from examday.clock import CST
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

PARTS = ("theory", "skill", "review")
PART_ZH = {"theory": "理论知识考试", "skill": "技能操作考核", "review": "综合评审"}
LEVELS = (5, 4, 3, 2, 1)
FILING_LEAD_WORKING_DAYS = 10  # R-PLAN-1
MIN_FULL_TIME_STAFF = 5  # R-STAFF-1
MIN_THEORY_ROOMS = 2  # R-SITE-1


def required_parts(level: int) -> list[str]:
    """R-PLAN-3: theory and skill; levels 2 and 1 (技师, 高级技师) also the comprehensive review."""
    return ["theory", "skill", "review"] if level in (1, 2) else ["theory", "skill"]


def latest_filing_date(exam_date: date, calendar: WorkCalendar) -> date:
    """R-PLAN-1, R-CAL: the 10th working day before the exam is the last day to file."""
    return calendar.add_working_days(exam_date, -FILING_LEAD_WORKING_DAYS)


def provisional_years(today: date, exam_date: date, calendar: WorkCalendar) -> list[int]:
    """R-CAL: years whose holiday notice is not known, so the deadline is provisional."""
    return calendar.provisional_years_in(today, exam_date)


def _v(code: str, rule: str, zh: str, en: str, **detail: Any) -> Violation:
    return Violation(code, rule, zh, en, detail)


def plan_violations(facts: PlanFacts, today: date, calendar: WorkCalendar) -> list[Violation]:
    """Every rule the plan breaks, in a stable order (never just the first)."""
    out: list[Violation] = []
    out += _institution(facts, today)
    out += _parts(facts)
    out += _rooms(facts)
    out += _times(facts)
    out += _staffing(facts)
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
                f"职业（工种）{what} {f.level}级不在备案认定范围内",
                f"Occupation {f.occupation_code}{' / ' + f.work_type if f.work_type else ''} "
                f"level {f.level} is outside the filed scope.",
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


# -- parts and sessions (R-PLAN-2, R-PLAN-3) ---------------------------------


def _parts(f: PlanFacts) -> list[Violation]:
    out = []
    need = required_parts(f.level)
    if sorted(f.parts) != sorted(need):  # R-PLAN-3
        out.append(
            _v(
                "wrong_parts",
                "R-PLAN-3",
                f"{f.level}级须考核：" + "、".join(PART_ZH[p] for p in need),
                f"Level {f.level} is assessed by: {', '.join(need)}; the plan has {', '.join(f.parts) or 'none'}.",
                required=need,
                planned=list(f.parts),
            )
        )
    by_part = _sessions_by_part(f)
    missing = [p for p in f.parts if not by_part.get(p)]
    if missing:  # R-PLAN-2: a part without a sitting is a stage some candidates skip
        out.append(
            _v(
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
            _v(
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
                _v(
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


def _sessions_by_part(f: PlanFacts) -> dict[str, list[SessionFact]]:
    by: dict[str, list[SessionFact]] = defaultdict(list)
    for s in f.sessions:
        by[s.part].append(s)
    return by


# -- rooms (R-SITE-1, R-SEAT-1) ----------------------------------------------


def _rooms(f: PlanFacts) -> list[Violation]:
    out = []
    wrong, closed, blind = set(), set(), set()
    for s in f.sessions:
        for rid in s.room_ids:
            room = f.rooms[rid]
            if not room.active:
                closed.add(room.code)
            if s.part in ("theory", "skill") and room.kind != s.part:
                wrong.add((room.code, s.part))
            if s.part == "skill" and room.cameras == 0:
                blind.add(room.code)
    if closed:  # R-SITE-1: only filed rooms, no temporary venues
        out.append(
            _v(
                "room_not_filed",
                "R-SITE-1",
                "以下考场已停用或未备案：" + "、".join(sorted(closed)),
                f"These rooms are not in use (not filed): {', '.join(sorted(closed))}.",
                rooms=sorted(closed),
            )
        )
    if wrong:
        out.append(
            _v(
                "room_kind_mismatch",
                "R-SITE-1",
                "考场类型与考核环节不符：" + "、".join(f"{c}（{PART_ZH[p]}）" for c, p in sorted(wrong)),
                "Room kind does not match the part: " + ", ".join(f"{c} ({p})" for c, p in sorted(wrong)),
                rooms=[c for c, _ in sorted(wrong)],
            )
        )
    if blind:  # R-SITE-1, R-VIDEO-1: skill venues are video monitored
        out.append(
            _v(
                "skill_room_without_camera",
                "R-SITE-1",
                "技能考核场地须有视频监控：" + "、".join(sorted(blind)),
                f"Skill venues need video monitoring: {', '.join(sorted(blind))}.",
                rooms=sorted(blind),
            )
        )
    if "theory" in f.parts:
        monitored = {
            rid
            for rid in _part_rooms(f, "theory")
            if f.rooms[rid].kind == "theory" and f.rooms[rid].cameras > 0 and f.rooms[rid].active
        }
        if len(monitored) < MIN_THEORY_ROOMS:  # R-SITE-1
            out.append(
                _v(
                    "too_few_theory_rooms",
                    "R-SITE-1",
                    f"理论知识考试须使用至少{MIN_THEORY_ROOMS}个有视频监控的理论考场，现为{len(monitored)}个",
                    f"A theory part uses at least {MIN_THEORY_ROOMS} theory rooms with video monitoring; "
                    f"the plan uses {len(monitored)}.",
                    have=len(monitored),
                    need=MIN_THEORY_ROOMS,
                )
            )
    for part in ("theory", "skill"):
        if part not in f.parts or not _part_rooms(f, part):
            continue
        seats = sum(_part_capacity(f, part).values())
        if f.candidates > seats:  # R-SEAT-1, R-DAY-2
            out.append(
                _v(
                    "not_enough_seats",
                    "R-SEAT-1",
                    f"{PART_ZH[part]}座位（工位）{seats}个，少于考生{f.candidates}人",
                    f"The {part} part has {seats} seats for {f.candidates} candidates.",
                    part=part,
                    seats=seats,
                    candidates=f.candidates,
                )
            )
    return out


def _part_rooms(f: PlanFacts, part: str) -> list[int]:
    seen: dict[int, None] = {}
    for s in f.sessions:
        if s.part == part:
            for rid in s.room_ids:
                seen[rid] = None
    return list(seen)


def _part_capacity(f: PlanFacts, part: str) -> dict[tuple[int, int], int]:
    """Places per (session, room).

    Theory candidates all sit at once (one seating over the batch's theory
    rooms), so a room counts once, at most ``max_per_theory_room`` (R-SEAT-1).
    Skill candidates rotate through sittings, so every session's stations count.
    """
    cap: dict[tuple[int, int], int] = {}
    seen: set[int] = set()
    for s in f.sessions:
        if s.part != part:
            continue
        for rid in s.room_ids:
            room = f.rooms[rid]
            if part == "theory":
                cap[(s.id, rid)] = 0 if rid in seen else min(room.seats, f.config.max_per_theory_room)
                seen.add(rid)
            else:
                cap[(s.id, rid)] = room.seats
    return cap


def _occupancy(f: PlanFacts, part: str) -> dict[tuple[int, int], int]:
    """Expected candidates per (session, room): the batch spread in proportion to places."""
    cap = _part_capacity(f, part)
    total = sum(cap.values())
    n = min(f.candidates, total)
    if total == 0:
        return dict.fromkeys(cap, 0)
    occ = {k: n * c // total for k, c in cap.items()}
    rest = n - sum(occ.values())
    for k in sorted(cap, key=lambda k: -(n * cap[k] % total))[:rest]:
        occ[k] += 1
    if part == "theory":
        # A theory room used by several sessions holds the same people each time.
        first = {rid: occ[(sid, rid)] for (sid, rid) in occ if cap[(sid, rid)]}
        occ = {(sid, rid): first.get(rid, 0) for (sid, rid) in occ}
    return occ


# -- times (R-PLAN-1 names the time; a room or a person is in one place at once) --


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


def _times(f: PlanFacts) -> list[Violation]:
    out = []
    outside = [
        s
        for s in f.sessions
        if s.starts_at.astimezone(CST).date() != f.exam_date
        or s.ends_at.astimezone(CST).date() != f.exam_date
        or s.ends_at <= s.starts_at
    ]
    if outside:
        out.append(
            _v(
                "session_outside_exam_date",
                "R-PLAN-1",
                f"场次须在考试日 {f.exam_date.isoformat()} 当天内开始和结束",
                f"Sessions must start and end on the exam date {f.exam_date.isoformat()} (China time).",
                sessions=[s.id for s in outside],
            )
        )
    slots = [
        (s.starts_at, s.ends_at, rid, frozenset(s.staff.get(rid, ())), None) for s in f.sessions for rid in s.room_ids
    ]
    others = [(b.starts_at, b.ends_at, b.room_id, b.staff_ids, b.batch_id) for b in f.other_bookings]
    rooms: set[str] = set()
    people: set[int] = set()
    for i, (a0, a1, ar, ast, _) in enumerate(slots):
        for b0, b1, br, bst, _ in slots[i + 1 :] + others:
            if not _overlap(a0, a1, b0, b1):
                continue
            if ar == br:
                rooms.add(f.rooms[ar].code if ar in f.rooms else str(ar))
            people |= ast & bst
    if rooms:
        out.append(
            _v(
                "room_double_booked",
                "R-PLAN-1",
                "考场在同一时间被重复安排：" + "、".join(sorted(rooms)),
                f"Rooms booked twice at the same time: {', '.join(sorted(rooms))}.",
                rooms=sorted(rooms),
            )
        )
    if people:
        names = sorted(f.staff[i].name if i in f.staff else str(i) for i in people)
        out.append(
            _v(
                "staff_double_booked",
                "R-RATIO-1",
                "工作人员在同一时间被安排到多个考场：" + "、".join(names),
                f"{len(people)} staff are assigned to two rooms at the same time.",
                staff_ids=sorted(people),
            )
        )
    return out


# -- staff per room (R-RATIO-1, R-STAFF-3) -------------------------------------


def _staffing(f: PlanFacts) -> list[Violation]:
    cfg = f.config
    short, short_ex, not_proctor, trainers, inactive = [], [], set(), set(), set()
    occ = {**_occupancy(f, "theory"), **_occupancy(f, "skill")}
    for s in f.sessions:
        for rid in s.room_ids:
            people = [f.staff[i] for i in s.staff.get(rid, ()) if i in f.staff]
            inactive |= {p.id for p in people if not p.active}
            people = [p for p in people if p.active]
            here = occ.get((s.id, rid), 0)
            code = f.rooms[rid].code
            acting_proctors = people if s.part == "theory" else [p for p in people if "examiner" not in p.roles]
            for p in acting_proctors:
                # R-STAFF-3: never a trainer, nor anyone from the candidates' training organisations.
                if p.is_trainer or (p.employer and p.employer in f.training_orgs):
                    trainers.add(p.id)
            if s.part == "theory":
                not_proctor |= {p.id for p in people if "proctor" not in p.roles}
                have = sum(1 for p in people if "proctor" in p.roles)
                # R-RATIO-1: at least 2 per theory room and 1 per 15 candidates.
                need = max(cfg.proctors_per_theory_room, ceil(here / cfg.candidates_per_proctor))
                if have < need:
                    short.append({"session_id": s.id, "room": code, "have": have, "need": need, "candidates": here})
            elif s.part == "skill":
                have = sum(1 for p in people if "examiner" in p.roles)
                # R-RATIO-1: at least 1 examiner per 5 candidates (per occupation, in the config).
                need = max(1, ceil(here / cfg.candidates_per_examiner))
                if have < need:
                    short_ex.append({"session_id": s.id, "room": code, "have": have, "need": need, "candidates": here})
    out = []
    if short:
        out.append(
            _v(
                "too_few_proctors",
                "R-RATIO-1",
                "理论考场监考人员不足：" + "；".join(f"{x['room']} 需{x['need']}名，现{x['have']}名" for x in short),
                f"Theory rooms need at least {cfg.proctors_per_theory_room} proctors and 1 per "
                f"{cfg.candidates_per_proctor} candidates: "
                + "; ".join(f"{x['room']} has {x['have']} of {x['need']}" for x in short),
                rooms=short,
            )
        )
    if short_ex:
        out.append(
            _v(
                "too_few_examiners",
                "R-RATIO-1",
                "技能考核考评员不足：" + "；".join(f"{x['room']} 需{x['need']}名，现{x['have']}名" for x in short_ex),
                f"Skill rooms need 1 examiner per {cfg.candidates_per_examiner} candidates: "
                + "; ".join(f"{x['room']} has {x['have']} of {x['need']}" for x in short_ex),
                rooms=short_ex,
            )
        )
    if not_proctor:
        out.append(
            _v(
                "not_a_proctor",
                "R-STAFF-3",
                "理论考场安排了非监考人员（如考评员、督导员）监考",
                "Staff without the proctor role (examiners, supervisors) are posted as proctors.",
                staff_ids=sorted(not_proctor),
            )
        )
    if trainers:
        out.append(
            _v(
                "trainer_as_proctor",
                "R-STAFF-3",
                "监考人员不得是培训机构工作人员或培训师资：" + "、".join(sorted(f.staff[i].name for i in trainers)),
                f"{len(trainers)} proctors are trainers or staff of the candidates' training organisations.",
                staff_ids=sorted(trainers),
            )
        )
    if inactive:
        out.append(
            _v(
                "staff_not_active",
                "R-RATIO-1",
                "安排了已停用的工作人员",
                f"{len(inactive)} assigned staff are no longer active.",
                staff_ids=sorted(inactive),
            )
        )
    return out


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
