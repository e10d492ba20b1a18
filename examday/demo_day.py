"""The demo's two batches, made through the same services as the API.

Services take the time as an argument, so the demo files its plans at the
time an exam office would have: today's batch two weeks before today (the
10-working-day rule, R-PLAN-1, holds), the older batch before its own exam.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from examday.accounts.models import Account
from examday.accounts.service import Passwords, actor_of
from examday.actor import Actor
from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from examday.identity import make_id_number
from examday.plans.candidates import import_candidates, review_eligibility
from examday.plans.filing import file_plan
from examday.plans.service import BatchSpec, SessionSpec, create_batch

SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["子涵", "浩然", "欣怡", "宇轩", "梓萱", "俊杰", "诗涵", "明轩", "雨桐", "志强", "秀兰", "建华", "海燕",
         "晓东", "丽娟", "国庆", "春梅", "文博", "佳琪", "思远", "一鸣", "若曦", "天佑", "静怡"]
EMPLOYERS = ["长春一汽配套电器厂", "吉林省电力检修公司", "长春轨道客车装备公司", "吉林化纤电气车间", "个体"]
TRAINING = ["长春市技工学校", "吉林工程技师学院", "长春职业技能培训中心"]


def candidates_csv(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ["name,id_number,employer,training_org,phone"]
    for i in range(n):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        born = date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 28))
        idn = make_id_number(born, region=rng.choice(["220102", "220104", "220105", "220182"]),
                             seq=rng.randrange(1, 400), female=bool(i % 2))
        lines.append(f"{name},{idn},{rng.choice(EMPLOYERS)},{rng.choice(TRAINING)},1390431{i:04d}")
    return ("\n".join(lines) + "\n").encode()


def _at(d: date, t: time) -> str:
    return datetime.combine(d, t, CST).isoformat()


def make_batch(db: Session, office: Actor, inst_id: int, exam_day: date, theory_start: time, n: int,
               proctors: dict[str, list[int]], examiners: list[int], seed: int) -> int:
    """Create, import, review and file a level-4 electrician batch as the office would, before the exam."""
    filed_on = DEFAULT_CALENDAR.add_working_days(exam_day, -12)
    filed_at = datetime.combine(filed_on, time(10, 0), CST)
    theory_end = (datetime.combine(exam_day, theory_start) + timedelta(minutes=90)).time()
    rooms = list(proctors)
    skill_sessions = []
    per_skill = 10  # the skill room's stations
    for k in range((n + per_skill - 1) // per_skill):
        start = datetime.combine(exam_day, time(13, 0), CST) + timedelta(minutes=70 * k)
        skill_sessions.append(SessionSpec(part="skill", rooms=["S01"], starts_at=start.isoformat(),
                                          ends_at=(start + timedelta(minutes=60)).isoformat(),
                                          proctors={"S01": examiners}))
    spec = BatchSpec(
        institution_id=inst_id, occupation_code="6-31-01-03", level=4, exam_date=exam_day,
        parts=["theory", "skill"],
        sessions=[SessionSpec(part="theory", rooms=rooms, starts_at=_at(exam_day, theory_start),
                              ends_at=_at(exam_day, theory_end), proctors=proctors), *skill_sessions],
    )
    bid = create_batch(db, office, filed_at - timedelta(days=3), spec)["id"]
    import_candidates(db, office, filed_at - timedelta(days=2), bid, candidates_csv(n, seed), "报名表.csv")
    review_eligibility(db, office, filed_at - timedelta(days=1), bid, "all", "eligible", "材料齐全")
    file_plan(db, office, filed_at, bid)
    return bid


def seed_batches(db: Session, accounts: dict[str, Account], staff_ids: dict[str, int], inst_id: int,
                 now: datetime, passwords: Passwords, secret_key: str) -> dict[str, Any]:
    from examday.plans.seating_service import run_seating

    office = actor_of(accounts["office"])
    p = [staff_ids[f"proctor{i}"] for i in range(1, 5)]
    examiners = [staff_ids[u] for u in ("evaluator1", "evaluator3", "chief1")]
    today = now.astimezone(CST).date()
    # Check-in opens 30 minutes before the start: start about 20 minutes from now so it is open.
    start_dt = (now.astimezone(CST) + timedelta(minutes=20)).replace(second=0, microsecond=0)
    start = start_dt.time() if start_dt.date() == today and start_dt.time() < time(11, 0) else time(9, 0)
    bid_today = make_batch(db, office, inst_id, today, start, 30, {"T01": p[0:2], "T02": p[2:4]}, examiners, seed=26)
    run_seating(db, office, now, bid_today, 2026, None, secret_key)

    older_day = DEFAULT_CALENDAR.add_working_days(today, -20)
    older_now = datetime.combine(older_day, time(7, 0), CST)
    bid_old = make_batch(db, office, inst_id, older_day, time(9, 0), 20, {"T01": p[0:2], "T02": p[2:4]}, examiners, seed=25)
    run_seating(db, office, older_now, bid_old, 2025, None, secret_key)
    from scoring.demo_seed import score_publish_lock

    scorers = [actor_of(accounts[u]) for u in ("evaluator1", "evaluator3", "chief1")]
    sealed = score_publish_lock(db, batch_id=bid_old, admin=office, scorers=scorers,
                                chief_staff_id=staff_ids["chief1"], passwords=passwords, secret_key=secret_key,
                                pin="2468", now=now)
    return {"today": bid_today, "older": bid_old, "start": start, "seal": sealed}
