"""Plan checks of the rooms (考场) a plan uses and the places they hold.

R-SITE-1 (filed rooms only, 2+ monitored theory rooms, monitored skill
venues), R-SEAT-1 and R-DAY-2 (seats per theory room, enough places for the
candidates). ``occupancy`` spreads the batch over the rooms for the staffing
checks. Pure, like ``rules``.
"""

from __future__ import annotations

from examday.plans.facts import PlanFacts, Violation
from examday.plans.rules_parts import PART_ZH, violation

MIN_THEORY_ROOMS = 2  # R-SITE-1


# -- rooms (R-SITE-1, R-SEAT-1) ----------------------------------------------


def room_violations(f: PlanFacts) -> list[Violation]:
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
            violation(
                "room_not_filed",
                "R-SITE-1",
                "以下考场已停用或未备案：" + "、".join(sorted(closed)),
                f"These rooms are not in use (not filed): {', '.join(sorted(closed))}.",
                rooms=sorted(closed),
            )
        )
    if wrong:
        out.append(
            violation(
                "room_kind_mismatch",
                "R-SITE-1",
                "考场类型与考核环节不符：" + "、".join(f"{c}（{PART_ZH[p]}）" for c, p in sorted(wrong)),
                "Room kind does not match the part: " + ", ".join(f"{c} ({p})" for c, p in sorted(wrong)),
                rooms=[c for c, _ in sorted(wrong)],
            )
        )
    if blind:  # R-SITE-1, R-VIDEO-1: skill venues are video monitored
        out.append(
            violation(
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
            for rid in part_rooms(f, "theory")
            if f.rooms[rid].kind == "theory" and f.rooms[rid].cameras > 0 and f.rooms[rid].active
        }
        if len(monitored) < MIN_THEORY_ROOMS:  # R-SITE-1
            out.append(
                violation(
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
        if part not in f.parts or not part_rooms(f, part):
            continue
        seats = sum(part_capacity(f, part).values())
        if f.candidates > seats:  # R-SEAT-1, R-DAY-2
            out.append(
                violation(
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


def part_rooms(f: PlanFacts, part: str) -> list[int]:
    seen: dict[int, None] = {}
    for s in f.sessions:
        if s.part == part:
            for rid in s.room_ids:
                seen[rid] = None
    return list(seen)


def part_capacity(f: PlanFacts, part: str) -> dict[tuple[int, int], int]:
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


def occupancy(f: PlanFacts, part: str) -> dict[tuple[int, int], int]:
    """Expected candidates per (session, room): the batch spread in proportion to places."""
    cap = part_capacity(f, part)
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
