"""The demo's older batch (``examday demo``): scored by its panel, published,
objection-free and locked — through the same services as the API, dated in
the past so that the seal and the public page can be shown on day one.

``examday/demo/seed.py`` calls ``score_publish_lock`` once it has made the older
batch with its candidates and the examiners' accounts.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from examday.accounts.models import Account
from examday.accounts.services.accounts import Passwords, set_pin
from examday.actor import Actor
from examday.clock import CST
from examday.plans import admission
from examday.plans.models import ExamSession
from scoring import access
from scoring.services import entries as entries_service
from scoring.services import lock as lock_service
from scoring.services import panels as panels_service
from scoring.services import publicity as publicity_service
from scoring.services import rubrics as rubrics_service
from scoring.services import theory_versions
from scoring.theory_import import import_theory

DEMO_RUBRIC: list[dict[str, Any]] = [
    {"code": "A1", "title": "安全文明操作", "max_points": 20},
    {"code": "A2", "title": "线路敷设与接线工艺", "max_points": 40},
    {"code": "A3", "title": "通电调试", "max_points": 30},
    {"code": "A4", "title": "工具仪表使用", "max_points": 10},
]


def _items(total: float) -> dict[str, float]:
    left = round(total, 1)
    out: dict[str, float] = {}
    for item in DEMO_RUBRIC:
        give = min(float(item["max_points"]), left)
        out[item["code"]] = round(give, 1)
        left = round(left - give, 1)
    return out


def _beside(base: float, spread: float) -> float:
    """One examiner's total: near the others and on the same side of the pass mark (R-SCORE-3), as
    examiners who watched the same work mostly are; a split would send the candidate to arbitration."""
    total = round(base + spread, 1)
    return max(total, 60.0) if base >= 60 else min(total, 59.5)


def _admit(db: Session, admin: Actor, batch_id: int, candidate_ids: list[int]) -> None:
    """Everyone came through the door (R-ID-1), but the last candidate missed the theory part (缺考):
    each part's first sitting, ten minutes before it starts."""
    sessions = db.exec(
        select(ExamSession).where(ExamSession.batch_id == batch_id).order_by(col(ExamSession.starts_at))
    ).all()
    first: dict[str, ExamSession] = {}
    for s in sessions:
        first.setdefault(s.part, s)
    for part, s in first.items():
        assert s.id is not None
        came = candidate_ids[:-1] if part == "theory" else candidate_ids
        for cid in came:
            admission.admit(
                db, admin, s.starts_at - timedelta(minutes=10), batch_id, s.id, cid, None, "入场核验身份证件", "desk"
            )


def score_publish_lock(
    db: Session,
    *,
    batch_id: int,
    admin: Actor,
    scorers: list[Actor],
    chief_staff_id: int,
    passwords: Passwords,
    secret_key: str,
    pin: str,
    now: datetime,
    seed: int = 7,
) -> dict[str, Any]:
    """Score every candidate of a filed batch, publish on the day after the exam, lock after publicity.

    The batch's exam date must be far enough back that its publicity has
    ended by ``now`` (about ten days before is enough).
    """
    batch = access.load_batch(db, batch_id)
    assert batch.id is not None
    scored_at = datetime.combine(batch.exam_date, time(17, 0), CST)
    for actor in scorers:
        account = db.get(Account, actor.account_id)
        assert account is not None  # the scorer's account: a foreign key
        set_pin(db, passwords, account, pin, scored_at)
    rng = random.Random(seed)
    rubrics_service.set_rubric(db, admin, scored_at, batch.id, "skill", DEMO_RUBRIC)
    panels_service.set_panel(db, admin, scored_at, batch.id, "skill", [a.staff_id for a in scorers], chief_staff_id)
    candidates = access.scored_candidates(db, batch.id)
    _admit(db, admin, batch.id, [c.id for c in candidates if c.id is not None])
    for cand in candidates:
        assert cand.id is not None
        base = rng.uniform(50, 92)
        for actor in scorers:
            entries_service.submit_entry(
                db,
                actor,
                scored_at,
                passwords,
                secret_key,
                batch.id,
                cand.id,
                "skill",
                _items(_beside(base, rng.uniform(-3, 3))),
                pin,
            )
    rows = "".join(
        f"{c.ticket_number},{'缺考' if i == len(candidates) - 1 else rng.randint(48, 96)}\n"
        for i, c in enumerate(candidates)
    )
    draft = import_theory(db, admin, scored_at, batch.id, "理论成绩.csv", ("ticket_number,score\n" + rows).encode())
    # The panel's chief countersigns the theory version: only then is it the scores (R-SCORE-3).
    chief = next(a for a in scorers if a.staff_id == chief_staff_id)
    theory_versions.countersign(db, passwords, secret_key, chief, scored_at, batch.id, draft["import_id"], pin)
    published = publicity_service.start_publicity(
        db, admin, datetime.combine(batch.exam_date + timedelta(days=1), time(8, 30), CST), batch.id
    )
    lock_at = datetime.fromisoformat(published["lock_from"]).replace(hour=9, tzinfo=CST)
    if lock_at > now:
        raise ValueError("the demo batch's publicity has not ended yet; give it an older exam date")
    return lock_service.lock_batch(db, admin, lock_at, batch.id)
