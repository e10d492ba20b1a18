"""What every scoring service loads first: the batch, who may act on it, its
filed scoring settings, the working-day calendar and the candidates scored.

A locked batch refuses every change with 409 ``locked`` (R-SCORE-3: nobody
alters a score once sealed); the database triggers of ``scoring.ddl`` say the
same to anyone who goes around this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from examday.access import SCORE_READ_ROLES, can_read_scores, institution_for_write
from examday.actor import Actor
from examday.calendar import WorkCalendar
from examday.calendar_notices import load_calendar
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate
from examday.registry.models import Institution
from scoring.aggregate import PASS_MARK

READ_ROLES = SCORE_READ_ROLES
SCORER_ROLES = ("evaluator", "chief")


def load_batch(db: Session, batch_id: int) -> Batch:
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    return batch


def batch_for_admin(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch, for its own institution's exam office only."""
    batch = load_batch(db, batch_id)
    institution_for_write(db, actor, batch.institution_id)
    return batch


def batch_for_read(db: Session, actor: Actor, batch_id: int) -> Batch:
    """The batch, for those who may read its scores (``examday.access.can_read_scores``)."""
    batch = load_batch(db, batch_id)
    if actor.role not in READ_ROLES:
        raise forbidden(f"The role {actor.role!r} may not read scores.")
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_read_scores(actor, inst):
        raise forbidden("This batch belongs to an institution whose scores you may not read.")
    return batch


def refuse_if_locked(batch: Batch) -> None:
    # R-SCORE-3: a sealed batch's scores never change.
    if batch.status == "locked":
        raise conflict(
            "locked",
            "该批次成绩已锁定封存，不能再修改",
            "This batch is locked and sealed; its scores cannot change.",
            "R-SCORE-3",
            batch_id=batch.id,
        )


def refuse_unless_filed(batch: Batch) -> None:
    refuse_if_locked(batch)
    if batch.status == "draft":
        raise conflict(
            "batch_not_filed",
            "认定计划尚未备案，不能评分",
            "The plan has not been filed; it cannot be scored yet.",
            "R-PLAN-1",
        )


def refuse_unknown_part(batch: Batch, part: str) -> None:
    if part not in batch.part_list():
        raise Refusal(
            "part_not_in_plan",
            f"认定计划中没有科目{part}",
            f"The plan has no part {part!r}.",
            "R-PLAN-3",
            detail={"part": part, "parts": batch.part_list()},
        )


@dataclass(frozen=True)
class ScoringConfig:
    method: str
    tolerance: Decimal
    pass_mark: Decimal
    candidates_per_examiner: int


def scoring_config(batch: Batch) -> ScoringConfig:
    """The scoring values the plan was filed with (``Batch.config``, frozen at filing)."""
    cfg = BatchConfig.from_json(batch.config)
    pass_mark = Decimal(cfg.pass_mark)
    # R-SCORE-3: the pass mark is 60; a stored plan saying otherwise is not scored.
    if pass_mark != PASS_MARK:
        raise conflict(
            "pass_mark_altered",
            "合格线被改动，不能评分：合格线固定为60分",
            "The plan's pass mark was changed; it is fixed at 60.",
            "R-SCORE-3",
            pass_mark=str(pass_mark),
        )
    return ScoringConfig(cfg.aggregation, Decimal(cfg.spread_tolerance), pass_mark, cfg.candidates_per_examiner)


def working_calendar(db: Session) -> WorkCalendar:
    """Working days (R-CAL): the packages with every notice the installation administrator entered."""
    return load_calendar(db)


def scored_candidates(db: Session, batch_id: int) -> list[Candidate]:
    """The candidates who sit and are scored: registered and not found ineligible (R-PLAN-4)."""
    rows = db.exec(
        select(Candidate)
        .where(Candidate.batch_id == batch_id, Candidate.status != "withdrawn", Candidate.eligibility != "ineligible")
        .order_by(Candidate.ticket_number)
    ).all()
    return list(rows)


def candidate_of(db: Session, batch: Batch, candidate_id: int) -> Candidate:
    cand = db.get(Candidate, candidate_id)
    if cand is None or cand.batch_id != batch.id:
        raise not_found("candidate")
    if cand.status == "withdrawn" or cand.eligibility == "ineligible":
        raise conflict(
            "candidate_not_scored",
            "该考生已退考或资格审核未通过，不评分",
            "This candidate withdrew or was found ineligible and is not scored.",
            "R-PLAN-4",
        )
    return cand
