"""Checking and filing an exam plan (认定计划报送), and withdrawing a filed one.

R-PLAN-1: the plan is filed at least 10 working days (R-CAL) before the exam
and then frozen; every check of ``rules.plan_violations`` runs on each try
and a refusal lists every broken rule at once. Withdrawal puts the plan back
to draft, before the exam day only, on the audit chain.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict
from examday.levels import parse_stored
from examday.plans.access import batch_for_read, batch_for_write, ensure_draft, today_of, work_calendar
from examday.plans.config import BatchConfig
from examday.plans.facts import Booking, FilingFact, PlanFacts, RoomFact, ScopeFact, SessionFact, StaffFact
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, SessionRoom
from examday.plans.rules import latest_filing_date, plan_violations, provisional_years
from examday.registry.models import Camera, Filing, Institution, Room, ScopeEntry, Staff
from examday.rows import row_id


def _levels(text: str) -> frozenset[int]:
    # Stored scopes write levels as "5,4,3", an enterprise's tiers by number ("6,5,-1"): R-LEVEL.
    return frozenset(parse_stored(text))


def _sessions(db: Session, batch_ids: list[int]) -> tuple[list[ExamSession], dict, dict]:
    """Sessions of these batches with their rooms and their staff per room."""
    sessions = (
        list(
            db.exec(
                select(ExamSession)
                .where(col(ExamSession.batch_id).in_(batch_ids))
                .order_by(col(ExamSession.starts_at), col(ExamSession.id))
            ).all()
        )
        if batch_ids
        else []
    )
    ids = [s.id for s in sessions]
    rooms: dict[int, list[int]] = defaultdict(list)
    staff: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    if ids:
        for sid, rid in db.exec(
            select(SessionRoom.session_id, SessionRoom.room_id)
            .where(col(SessionRoom.session_id).in_(ids))
            .order_by(col(SessionRoom.id))
        ).all():
            rooms[sid].append(rid)
        for pa in db.exec(
            select(ProctorAssignment)
            .where(col(ProctorAssignment.session_id).in_(ids))
            .order_by(col(ProctorAssignment.id))
        ).all():
            staff[pa.session_id][pa.room_id].append(pa.staff_id)
    return sessions, rooms, staff


def load_facts(db: Session, batch: Batch) -> PlanFacts:
    """Everything the plan checks read, in a handful of queries."""
    assert batch.id is not None
    iid = batch.institution_id
    filings = tuple(
        FilingFact(f.status, f.valid_from, f.valid_until)
        for f in db.exec(select(Filing).where(Filing.institution_id == iid)).all()
    )
    scope = tuple(
        ScopeFact(s.occupation_code, s.work_type, _levels(s.levels))
        for s in db.exec(select(ScopeEntry).where(ScopeEntry.institution_id == iid)).all()
    )
    # R-STAFF-1 counts the institution's own active full-time staff.
    full_time = db.exec(
        select(func.count())
        .select_from(Staff)
        .where(Staff.institution_id == iid, col(Staff.full_time).is_(True), col(Staff.active).is_(True))
    ).one()
    cameras = dict(
        db.exec(
            select(Camera.room_id, func.count())
            .join(Room, col(Room.id) == Camera.room_id)
            .where(Room.institution_id == iid)
            .group_by(col(Camera.room_id))
        ).all()
    )
    rooms = {
        row_id(r): RoomFact(row_id(r), r.code, r.kind, r.seats, cameras.get(row_id(r), 0), r.active)
        for r in db.exec(select(Room).where(Room.institution_id == iid)).all()
    }
    staff = {
        row_id(s): StaffFact(row_id(s), s.name, frozenset(s.role_set()), s.is_trainer, s.employer, s.active)
        for s in db.exec(select(Staff).where(Staff.institution_id == iid)).all()
    }
    sessions, s_rooms, s_staff = _sessions(db, [batch.id])
    facts_sessions = tuple(
        SessionFact(
            row_id(s),
            s.part,
            s.starts_at,
            s.ends_at,
            tuple(s_rooms[s.id]),
            {rid: tuple(ids) for rid, ids in s_staff[s.id].items()},
        )
        for s in sessions
    )
    counts = db.exec(
        select(Candidate.status, Candidate.eligibility, func.count())
        .where(Candidate.batch_id == batch.id)
        .group_by(Candidate.status, Candidate.eligibility)
    ).all()
    registered = {e: n for st, e, n in counts if st == "registered"}
    orgs = frozenset(
        o
        for o in db.exec(
            select(Candidate.training_org)
            .distinct()
            .where(Candidate.batch_id == batch.id, Candidate.status == "registered")
        ).all()
        if o
    )
    return PlanFacts(
        batch_id=batch.id,
        occupation_code=batch.occupation_code,
        work_type=batch.work_type,
        level=batch.level,
        exam_date=batch.exam_date,
        parts=tuple(batch.part_list()),
        config=BatchConfig.from_json(batch.config),
        filings=filings,
        scope=scope,
        full_time_staff=full_time,
        rooms=rooms,
        staff=staff,
        sessions=facts_sessions,
        candidates=sum(registered.values()),
        pending_review=registered.get("pending", 0),
        ineligible=registered.get("ineligible", 0),
        training_orgs=orgs,
        other_bookings=_bookings(db, batch),
        institution_kind=_kind(db, iid),
    )


def _kind(db: Session, iid: int) -> str:
    inst = db.get(Institution, iid)
    return inst.kind if inst is not None else "training_org"


def _bookings(db: Session, batch: Batch) -> tuple[Booking, ...]:
    """Rooms and staff held that day by the institution's other filed plans."""
    others = [
        bid
        for bid in db.exec(
            select(Batch.id).where(
                Batch.institution_id == batch.institution_id,
                Batch.exam_date == batch.exam_date,
                Batch.id != batch.id,
                Batch.status != "draft",
            )
        ).all()
        if bid is not None  # a primary key is never NULL; this only tells the type checker
    ]
    sessions, s_rooms, s_staff = _sessions(db, others)
    return tuple(
        Booking(s.batch_id, rid, s.starts_at, s.ends_at, frozenset(s_staff[s.id].get(rid, ())))
        for s in sessions
        for rid in s_rooms[s.id]
    )


def _verdict(db: Session, batch: Batch, now: datetime) -> dict[str, Any]:
    cal = work_calendar(db)
    today = today_of(now)
    violations = plan_violations(load_facts(db, batch), today, cal)
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "ok": not violations,
        "violations": [v.as_dict() for v in violations],
        "latest_filing_date": latest_filing_date(batch.exam_date, cal).isoformat(),
        "provisional_years": provisional_years(today, batch.exam_date, cal),
        "checked_on": today.isoformat(),
    }


def check_plan(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    """A dry run of filing: every violation, nothing written."""
    return _verdict(db, batch_for_read(db, actor, batch_id), now)


def file_plan(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    batch = batch_for_write(db, actor, batch_id)
    ensure_draft(batch)
    verdict = _verdict(db, batch, now)
    if not verdict["ok"]:
        n = len(verdict["violations"])
        # R-PLAN-1: refused with every broken rule, and nothing changes.
        raise Refusal(
            "plan_rejected",
            f"认定计划未通过检查，共{n}项问题",
            f"The plan breaks {n} rules; it was not filed.",
            "R-PLAN-1",
            422,
            {k: verdict[k] for k in ("violations", "latest_filing_date", "provisional_years", "checked_on")},
        )
    config = BatchConfig.from_json(batch.config)
    batch.status, batch.filed_at, batch.filed_by = "filed", now, actor.account_id
    db.add(batch)
    # The filed values go on the chain with the plan (R-RATIO-1 .. R-SEAT-1 "kept as filed").
    audit.record(
        db,
        actor,
        "batch.file",
        "batch",
        batch.id,
        {
            "status": ["draft", "filed"],
            "exam_date": batch.exam_date.isoformat(),
            "config": config.as_dict(),
            "latest_filing_date": verdict["latest_filing_date"],
            "provisional_years": verdict["provisional_years"],
        },
        now,
        batch.institution_id,
    )
    return {
        "status": "filed",
        "id": batch.id,
        "filed_at": iso(now),
        "filed_by": actor.account_id,
        "latest_filing_date": verdict["latest_filing_date"],
        "provisional_years": verdict["provisional_years"],
    }


def withdraw_plan(db: Session, actor: Actor, now: datetime, batch_id: int, reason: str | None = None) -> dict[str, Any]:
    batch = batch_for_write(db, actor, batch_id)
    if batch.status != "filed":
        raise conflict(
            "not_filed",
            "只有已报送的认定计划可以撤回",
            "Only a filed plan can be withdrawn.",
            "R-PLAN-1",
            status=batch.status,
        )
    if today_of(now) >= batch.exam_date:
        raise conflict(
            "exam_day_reached",
            "考试当天及之后不能撤回认定计划",
            "A plan cannot be withdrawn on or after its exam day.",
            "R-PLAN-1",
            exam_date=batch.exam_date.isoformat(),
        )
    filed_at, filed_by = batch.filed_at, batch.filed_by
    batch.status, batch.filed_at, batch.filed_by = "draft", None, None
    db.add(batch)
    audit.record(
        db,
        actor,
        "batch.withdraw",
        "batch",
        batch.id,
        {"status": ["filed", "draft"], "filed_at": iso(filed_at), "filed_by": filed_by, "reason": (reason or "")[:500]},
        now,
        batch.institution_id,
    )
    return {"status": "draft", "id": batch.id}
