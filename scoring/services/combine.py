"""Combining a panel's entries into a part score, and the arbitration that
follows a disagreement (成绩合成与仲裁): R-PANEL-1, R-SCORE-3.

When the last scorer of a candidate's part is in (every scorer's newest
version belongs to the current round), the totals are combined with the
plan's method (mean; median; trimmed mean when five or more score — with
fewer it falls back to the mean, since there is nothing to trim). A spread
above the plan's tolerance, or a panel split across the pass mark, sends the
part to the chief instead (status ``arbitration``); the chief either asks
the panel to re-score (a new round) or accepts the totals. Every step is an
``ArbitrationStep`` row and an audit entry.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Literal, overload

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.plans.models import Batch
from scoring.access import ScoringConfig
from scoring.aggregate import TRIMMED_MIN, combine, needs_arbitration
from scoring.models import ArbitrationStep, Objection, PartScore, ScoreEntry
from scoring.points import from_tenths, text, to_tenths


@overload
def part_score(
    db: Session, batch_id: int, candidate_id: int, part: str, now: datetime, create: Literal[True] = True
) -> PartScore: ...
@overload
def part_score(
    db: Session, batch_id: int, candidate_id: int, part: str, now: datetime, create: bool
) -> PartScore | None: ...
def part_score(
    db: Session, batch_id: int, candidate_id: int, part: str, now: datetime, create: bool = True
) -> PartScore | None:
    ps = db.exec(
        select(PartScore).where(
            PartScore.batch_id == batch_id, PartScore.candidate_id == candidate_id, PartScore.part == part
        )
    ).first()
    if ps is None and create:
        ps = PartScore(batch_id=batch_id, candidate_id=candidate_id, part=part, status="pending", updated_at=now)
        db.add(ps)
        db.flush()
    return ps


def latest_entries(db: Session, batch_id: int, candidate_id: int, part: str) -> dict[int, ScoreEntry]:
    """Each examiner's newest version for this candidate's part."""
    rows = db.exec(
        select(ScoreEntry)
        .where(ScoreEntry.batch_id == batch_id, ScoreEntry.candidate_id == candidate_id, ScoreEntry.part == part)
        .order_by(col(ScoreEntry.version))
    ).all()
    return {row.examiner_staff_id: row for row in rows}


def method_for(configured: str, count: int) -> str:
    # The trimmed mean drops the highest and lowest only when five or more score.
    if configured == "trimmed_mean" and count < TRIMMED_MIN:
        return "mean"
    return configured


def current_totals(db: Session, ps: PartScore, scorers: list[int]) -> dict[int, Decimal] | None:
    """The scorers' totals of the current round, or None while one is still missing."""
    latest = latest_entries(db, ps.batch_id, ps.candidate_id, ps.part)
    if not scorers or any(s not in latest or latest[s].round != ps.round for s in scorers):
        return None
    return {s: from_tenths(latest[s].total_tenths) for s in scorers}


def record_step(
    db: Session,
    actor: Actor,
    now: datetime,
    ps: PartScore,
    action: str,
    totals: dict[int, Decimal],
    reasons: list[str] | None = None,
    note: str = "",
) -> ArbitrationStep:
    step = ArbitrationStep(
        batch_id=ps.batch_id,
        candidate_id=ps.candidate_id,
        part=ps.part,
        round=ps.round,
        action=action,
        reasons=json.dumps(reasons or []),
        totals=json.dumps({str(k): format(v, "f") for k, v in sorted(totals.items())}),
        note=note[:1000],
        account_id=actor.account_id,
        at=now,
    )
    db.add(step)
    db.flush()
    return step


def finalise(
    db: Session,
    actor: Actor,
    now: datetime,
    batch: Batch,
    ps: PartScore,
    totals: dict[int, Decimal],
    cfg: ScoringConfig,
    how: str,
) -> None:
    method = method_for(cfg.method, len(totals))
    score = combine(list(totals.values()), method)  # one decimal, half up (R-SCORE-3)
    before = ps.status
    ps.status, ps.score_tenths, ps.method, ps.updated_at = "final", to_tenths(score), method, now
    db.add(ps)
    # An upheld objection is settled once its re-score is final.
    settled = db.exec(
        select(Objection).where(
            Objection.batch_id == ps.batch_id,
            Objection.candidate_id == ps.candidate_id,
            Objection.part == ps.part,
            Objection.status == "rescoring",
        )
    ).all()
    for objection in settled:
        objection.status = "upheld"
        db.add(objection)
    db.flush()
    audit.record(
        db,
        actor,
        "part_score.final",
        "part_score",
        ps.id,
        {
            "batch_id": ps.batch_id,
            "candidate_id": ps.candidate_id,
            "part": ps.part,
            "round": ps.round,
            "status": [before, "final"],
            "score": text(ps.score_tenths),
            "method": method,
            "how": how,
            "totals": {str(k): format(v, "f") for k, v in totals.items()},
            "objections_settled": [o.id for o in settled],
        },
        now,
        batch.institution_id,
    )


def try_complete(
    db: Session, actor: Actor, now: datetime, batch: Batch, ps: PartScore, scorers: list[int], cfg: ScoringConfig
) -> None:
    """Combine the part once every scorer is in, or send it to arbitration."""
    if ps.status not in ("pending", "rescore"):
        return
    totals = current_totals(db, ps, scorers)
    if totals is None:
        return
    reasons = needs_arbitration(list(totals.values()), cfg.tolerance, cfg.pass_mark)
    if not reasons:
        finalise(db, actor, now, batch, ps, totals, cfg, "combined")
        return
    ps.status, ps.score_tenths, ps.updated_at = "arbitration", None, now
    db.add(ps)
    step = record_step(db, actor, now, ps, "opened", totals, reasons)
    audit.record(
        db,
        actor,
        "part_score.arbitration",
        "part_score",
        ps.id,
        {
            "batch_id": ps.batch_id,
            "candidate_id": ps.candidate_id,
            "part": ps.part,
            "round": ps.round,
            "reasons": reasons,
            "step_id": step.id,
            "totals": {str(k): format(v, "f") for k, v in totals.items()},
        },
        now,
        batch.institution_id,
    )


def reopen_for_rescore(
    db: Session, actor: Actor, now: datetime, batch: Batch, ps: PartScore, action: str, note: str, scorers: list[int]
) -> ArbitrationStep:
    """A new scoring round for this part: the panel enters new versions (chief's re-score or an upheld objection)."""
    latest = latest_entries(db, ps.batch_id, ps.candidate_id, ps.part)
    totals = {s: from_tenths(latest[s].total_tenths) for s in scorers if s in latest}
    before = ps.status
    ps.round += 1
    ps.status, ps.score_tenths, ps.updated_at = "rescore", None, now
    db.add(ps)
    step = record_step(db, actor, now, ps, action, totals, note=note)
    audit.record(
        db,
        actor,
        f"part_score.{action}",
        "part_score",
        ps.id,
        {
            "batch_id": ps.batch_id,
            "candidate_id": ps.candidate_id,
            "part": ps.part,
            "status": [before, "rescore"],
            "round": ps.round,
            "reason": note,
            "step_id": step.id,
        },
        now,
        batch.institution_id,
    )
    return step
