"""Plan checks of time and people: sessions on the exam date, nothing booked twice, staff per room.

R-PLAN-1 (the plan names the time; a room or a person is in one place at
once), R-RATIO-1 (proctors and examiners per room), R-STAFF-3 (no trainers or
non-proctors as proctors). Pure, like ``rules``.
"""

from __future__ import annotations

from datetime import datetime
from math import ceil

from examday.clock import CST
from examday.plans.facts import PlanFacts, Violation
from examday.plans.rules_parts import violation
from examday.plans.rules_rooms import occupancy

# -- times (R-PLAN-1 names the time; a room or a person is in one place at once) --


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


def time_violations(f: PlanFacts) -> list[Violation]:
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
            violation(
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
            violation(
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
            violation(
                "staff_double_booked",
                "R-RATIO-1",
                "工作人员在同一时间被安排到多个考场：" + "、".join(names),
                f"{len(people)} staff are assigned to two rooms at the same time.",
                staff_ids=sorted(people),
            )
        )
    return out


# -- staff per room (R-RATIO-1, R-STAFF-3) -------------------------------------


def staffing_violations(f: PlanFacts) -> list[Violation]:
    cfg = f.config
    short, short_ex, not_proctor, trainers, inactive = [], [], set(), set(), set()
    occ = {**occupancy(f, "theory"), **occupancy(f, "skill")}
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
            violation(
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
            violation(
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
            violation(
                "not_a_proctor",
                "R-STAFF-3",
                "理论考场安排了非监考人员（如考评员、督导员）监考",
                "Staff without the proctor role (examiners, supervisors) are posted as proctors.",
                staff_ids=sorted(not_proctor),
            )
        )
    if trainers:
        out.append(
            violation(
                "trainer_as_proctor",
                "R-STAFF-3",
                "监考人员不得是培训机构工作人员或培训师资：" + "、".join(sorted(f.staff[i].name for i in trainers)),
                f"{len(trainers)} proctors are trainers or staff of the candidates' training organisations.",
                staff_ids=sorted(trainers),
            )
        )
    if inactive:
        out.append(
            violation(
                "staff_not_active",
                "R-RATIO-1",
                "安排了已停用的工作人员",
                f"{len(inactive)} assigned staff are no longer active.",
                staff_ids=sorted(inactive),
            )
        )
    return out
