"""The demo's batches, made through the same services as the API.

Today is two batches: the plan rules seat one batch's theory part at once
over its theory rooms (R-SEAT-1: at most 30 a room, so 90 in T01–T03), so an
institution with 180 electricians to examine on one day files two plans —
电工四级 in the first theory sitting, 电工五级 in the second. The skill room (30 workstations) takes each batch in three sittings
of 30 once its theory part is over (R-PLAN-2), six examiners a sitting
(R-RATIO-1, 1:5), one of the seven resting in turn.

Services take the time as an argument, so the demo files its plans when an
exam office would have: twelve working days before the exam (R-PLAN-1), the
workstations drawn (工位抽签), then seats and tickets two days after filing, the
panels the day after that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil
from typing import Any

from sqlmodel import Session

from examday import keys
from examday.accounts.models import Account
from examday.accounts.services.accounts import Passwords, actor_of
from examday.actor import Actor
from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from examday.demo.people import candidates_csv
from examday.plans.services.batches import BatchSpec, SessionSpec, create_batch
from examday.plans.services.candidates import import_candidates, review_eligibility
from examday.plans.services.filing import file_plan

OCCUPATION = "6-31-01-03"  # 电工
THEORY_ROOMS = ["T01", "T02", "T03"]
SKILL_ROOM = "S01"
STATIONS = 30  # S01's workstations (demo.py files the room)
THEORY_MINUTES, SKILL_MINUTES, CHANGEOVER = 90, 60, 15
BETWEEN_BATCHES = 30  # theory rooms cleared and the next batch's papers laid out
TODAY = [  # (level, candidates, seed) in the order of their theory sittings
    (4, 90, 26),
    (5, 90, 27),
]
DAY_ENDS = time(23, 45)
MORNING = time(8, 30)  # the timetable when the live start no longer fits today
LEAD = timedelta(minutes=20)  # the first theory sitting starts this long after the demo


@dataclass
class Sitting:
    part: str
    rooms: list[str]
    start: datetime
    end: datetime
    staff: dict[str, list[int]] = field(default_factory=dict)

    def spec(self) -> SessionSpec:
        return SessionSpec(
            part=self.part,
            rooms=self.rooms,
            starts_at=self.start.isoformat(),
            ends_at=self.end.isoformat(),
            proctors=self.staff,
        )


@dataclass
class BatchPlan:
    level: int
    candidates: int
    seed: int
    sittings: list[Sitting]


def timetable(
    first: datetime, proctors: list[int], examiners: list[int], batches: list[tuple[int, int, int]] = TODAY
) -> list[BatchPlan]:
    """Theory sittings back to back in T01–T03, skill sittings one after another in S01.

    Two proctors a theory room (R-RATIO-1: 2 per room, 1 per 15), the same two
    in the same room for each batch; six examiners a skill sitting of 30."""
    per_room = {code: proctors[2 * i : 2 * i + 2] for i, code in enumerate(THEORY_ROOMS)}
    need = ceil(STATIONS / 5)
    plans, theory_at, skill_free, rest = [], first, first, 0
    for level, n, seed in batches:
        theory = Sitting(
            "theory", THEORY_ROOMS, theory_at, theory_at + timedelta(minutes=THEORY_MINUTES), dict(per_room)
        )
        sittings = [theory]
        at = max(theory.end, skill_free) + timedelta(minutes=CHANGEOVER)
        for _ in range(ceil(n / STATIONS)):
            team = [e for i, e in enumerate(examiners) if i != rest % len(examiners)][:need]
            rest += 1
            sittings.append(
                Sitting("skill", [SKILL_ROOM], at, at + timedelta(minutes=SKILL_MINUTES), {SKILL_ROOM: team})
            )
            skill_free = sittings[-1].end
            at = skill_free + timedelta(minutes=CHANGEOVER)
        plans.append(BatchPlan(level, n, seed, sittings))
        theory_at = theory.end + timedelta(minutes=BETWEEN_BATCHES)
    return plans


def first_start(now: datetime, proctors: list[int], examiners: list[int]) -> tuple[datetime, bool]:
    """When today's first theory sitting starts, and whether its check-in is open now or later today.

    About 20 minutes from now, so that entry (30 minutes before the start,
    R-TIME-1) is open when the demo serves; not before 08:00; and the whole
    day must end today. Late in the day it falls back to an 08:30 start."""
    local = now.astimezone(CST)
    soon = local + LEAD
    soon = soon.replace(second=0, microsecond=0) + timedelta(minutes=-soon.minute % 5)
    soon = max(soon, datetime.combine(local.date(), time(8, 0), CST))
    last = max(s.end for p in timetable(soon, proctors, examiners) for s in p.sittings)
    if last <= datetime.combine(local.date(), DAY_ENDS, CST):
        return soon, True
    return datetime.combine(local.date(), MORNING, CST), False


def file_batch(db: Session, office: Actor, inst_id: int, exam_day: date, plan: BatchPlan) -> int:
    """Create, import, review and file a batch as the office does, twelve working days ahead (R-PLAN-1)."""
    filed_at = datetime.combine(DEFAULT_CALENDAR.add_working_days(exam_day, -12), time(10, 0), CST)
    spec = BatchSpec(
        institution_id=inst_id,
        occupation_code=OCCUPATION,
        level=plan.level,
        exam_date=exam_day,
        parts=["theory", "skill"],
        sessions=[s.spec() for s in plan.sittings],
    )
    bid = create_batch(db, office, filed_at - timedelta(days=3), spec)["id"]
    import_candidates(
        db,
        office,
        filed_at - timedelta(days=2),
        bid,
        candidates_csv(plan.candidates, plan.seed, exam_day),
        "报名表.csv",
    )
    review_eligibility(db, office, filed_at - timedelta(days=1), bid, "all", "eligible", "材料齐全")
    file_plan(db, office, filed_at, bid)
    return bid


def prepared_at(exam_day: date) -> datetime:
    """Seats and tickets: two working days after filing, as the office prints the tickets."""
    return datetime.combine(DEFAULT_CALENDAR.add_working_days(exam_day, -10), time(9, 0), CST)


def seed_batches(
    db: Session,
    accounts: dict[str, Account],
    staff_ids: dict[str, int],
    inst_id: int,
    now: datetime,
    passwords: Passwords,
    secret_key: str,
) -> dict[str, Any]:
    from examday.demo.scores import DEMO_RUBRIC, score_publish_lock
    from examday.plans.services.seating import run_seating
    from examday.plans.services.seating_stations import draw_batch_stations
    from scoring.services.panels import set_panel
    from scoring.services.rubrics import set_rubric

    office = actor_of(accounts["office"])
    proctors = [staff_ids[f"proctor{i}"] for i in range(1, 7)]
    examiners = [staff_ids[u] for u in PANEL]
    today = now.astimezone(CST).date()
    older_day = DEFAULT_CALENDAR.add_working_days(today, -20)
    # The ticket key dates from the first tickets the institution printed: the older batch's.
    keys.active_key(db, inst_id, prepared_at(older_day), office)

    start, live = first_start(now, proctors, examiners)
    today_ids = []
    for i, plan in enumerate(timetable(start, proctors, examiners)):
        bid = file_batch(db, office, inst_id, today, plan)
        at = prepared_at(today)
        # R-SEAT-1: workstations are drawn by lot before the tickets name them; once tickets are out the
        # draw is refused, so a batch seeded without one could never admit anyone to its skill part.
        draw_batch_stations(db, office, at, bid, 3026 + i)
        run_seating(db, office, at, bid, 2026 + i, None, secret_key)
        # The 考评组 is named before the exam: all seven examiners, since six watch each sitting of 30
        # (R-RATIO-1) and a panel is odd (R-PANEL-1).
        set_rubric(db, office, at + timedelta(days=1), bid, "skill", DEMO_RUBRIC)
        set_panel(db, office, at + timedelta(days=1), bid, "skill", examiners, staff_ids["chief1"])
        today_ids.append(bid)

    # The older batch: 20 candidates in T01 and T02, one skill sitting, then scored, published, locked.
    nine = datetime.combine(older_day, time(9, 0), CST)
    scorers = PANEL[:4] + ["chief1"]  # R-PANEL-1, R-RATIO-1: 20 at once in S01 need 4, so an odd 5
    older = BatchPlan(
        4,
        20,
        25,
        [
            Sitting(
                "theory",
                ["T01", "T02"],
                nine,
                nine + timedelta(minutes=THEORY_MINUTES),
                {"T01": proctors[0:2], "T02": proctors[2:4]},
            ),
            Sitting(
                "skill",
                [SKILL_ROOM],
                nine.replace(hour=13),
                nine.replace(hour=14),
                {SKILL_ROOM: [staff_ids[u] for u in scorers]},
            ),
        ],
    )
    bid_old = file_batch(db, office, inst_id, older_day, older)
    draw_batch_stations(db, office, prepared_at(older_day), bid_old, 3025)
    run_seating(db, office, prepared_at(older_day), bid_old, 2025, None, secret_key)
    sealed = score_publish_lock(
        db,
        batch_id=bid_old,
        admin=office,
        scorers=[actor_of(accounts[u]) for u in scorers],
        chief_staff_id=staff_ids["chief1"],
        passwords=passwords,
        secret_key=secret_key,
        pin="2468",
        now=now,
    )
    return {"today": today_ids, "older": bid_old, "start": start, "live": live, "seal": sealed}


# The seven examiners with accounts, chief last: who sits on the panels.
PANEL = ["evaluator1", "evaluator2", "evaluator3", "evaluator4", "evaluator5", "evaluator6", "chief1"]
