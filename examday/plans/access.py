"""Loading a batch (认定批次) for reading or changing it, and the freeze on filed plans.
Who may read or change it is decided in :mod:`examday.access`.

R-PLAN-1: a filed plan is frozen — changing it means withdrawing it (back to
draft, on the audit chain) and filing it again.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from examday.access import batch_for_read as batch_for_read
from examday.access import institution_for_write
from examday.actor import Actor
from examday.calendar import WorkCalendar
from examday.calendar_notices import load_calendar
from examday.clock import CST
from examday.errors import Refusal, conflict, not_found
from examday.plans.models import Batch


def today_of(now: datetime) -> date:
    """The date in China: deadlines and exam days are Beijing dates."""
    return now.astimezone(CST).date()


def work_calendar(db: Session) -> WorkCalendar:
    """The installation's calendar with the notices entered (R-CAL): never the packages' alone,
    so the last filing day (R-PLAN-1) is computed on each read from what is known now."""
    return load_calendar(db)


def batch_for_write(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch, locked for this transaction, if the caller is its institution's exam office."""
    batch = db.exec(select(Batch).where(Batch.id == batch_id).with_for_update()).first()
    if batch is None:
        raise not_found("batch")
    institution_for_write(db, actor, batch.institution_id)
    return batch


def ensure_draft(batch: Batch) -> None:
    if batch.status != "draft":
        # R-PLAN-1: the filed plan is what the centre received; it changes only by withdrawal.
        raise conflict(
            "plan_frozen",
            "认定计划已报送，不能修改；如需修改请先撤回再重新报送",
            "The plan has been filed and is frozen; withdraw it, change it and file it again.",
            "R-PLAN-1",
            status=batch.status,
        )


def invalid(errors: list[dict], zh: str = "认定计划内容有误", en: str = "The plan has invalid entries.") -> Refusal:
    return Refusal("invalid_batch", zh, en, None, 422, {"errors": errors})
