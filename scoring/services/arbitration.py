"""The chief's arbitration (主考仲裁) of a part whose panel disagreed (R-PANEL-1, R-SCORE-2).

``rescore``: the panel scores the part again (a new round; each examiner
enters a new version of their entry). ``accept``: the chief accepts the
totals as entered and the part is combined with the plan's method. Both need
a reason; both are recorded as an ``ArbitrationStep`` and on the audit chain.
The chief does not type a score of their own: the rules give the score to
the panel.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, forbidden
from examday.plans.models import Candidate
from examday.registry import standing
from examday.registry.models import Staff
from scoring import access
from scoring.models import ArbitrationStep, PartScore
from scoring.panel_data import load_panel
from scoring.points import show
from scoring.services.combine import current_totals, finalise, part_score, record_step, reopen_for_rescore

ACTIONS = ("rescore", "accept")


def _chief_view(db: Session, actor: Actor, batch_id: int, candidate_id: int, part: str):
    if actor.role != "chief" or actor.staff_id is None:
        raise forbidden("Only the panel's chief examiner arbitrates.")
    batch = access.load_batch(db, batch_id)
    assert batch.id is not None
    if actor.institution_id != batch.institution_id:
        raise forbidden("This batch belongs to another institution.")
    access.refuse_if_locked(batch)
    access.refuse_unknown_part(batch, part)
    cand = access.candidate_of(db, batch, candidate_id)
    assert cand.id is not None
    view = load_panel(db, batch.id, part, [cand])
    if view is None:
        raise conflict("no_panel", "该科目尚未组建考评组", "This part has no panel yet.", "R-PANEL-1")
    if view.panel.chief_staff_id != actor.staff_id:
        raise Refusal("not_chief", "您不是该考评组的主考", "You are not this panel's chief examiner.", "R-PANEL-1", 403)
    scorers, recused = view.scorers(cand.id)
    if actor.staff_id in recused:
        # R-RECUSE-1: standing aside covers judging the candidate's scores too.
        raise Refusal(
            "recused",
            "您须回避该考生，不能仲裁",
            "You stand aside from this candidate and may not arbitrate.",
            "R-RECUSE-1",
            403,
            {"reason": recused[actor.staff_id]},
        )
    return batch, cand, scorers


def arbitrate(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    candidate_id: int,
    part: str,
    action: object,
    reason: object,
) -> dict[str, Any]:
    batch, cand, scorers = _chief_view(db, actor, batch_id, candidate_id, part)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "arbitration")  # R-INST-2
    if action not in ACTIONS:
        raise Refusal("invalid_action", "仲裁操作须为 rescore 或 accept", "action must be rescore or accept.")
    note = reason.strip() if isinstance(reason, str) else ""
    if not note:
        raise Refusal("reason_required", "仲裁须说明理由", "Arbitration needs a reason.", "R-SCORE-2")
    ps = part_score(db, batch.id, cand.id, part, now, create=False)
    if ps is None or ps.status != "arbitration":
        raise conflict(
            "not_in_arbitration",
            "该考生本科目不在仲裁中",
            "This part is not in arbitration.",
            "R-PANEL-1",
            status=ps.status if ps else None,
        )
    cfg = access.scoring_config(batch)
    if action == "rescore":
        reopen_for_rescore(db, actor, now, batch, ps, "rescore", note, scorers)
    else:
        totals = current_totals(db, ps, scorers)
        if totals is None:  # a panel changed under the part; never accept a partial set
            raise conflict("panel_incomplete", "评分不齐，不能确认", "Not every scorer's entry is in.", "R-PANEL-1")

        record_step(db, actor, now, ps, "accept", totals, note=note)
        finalise(db, actor, now, batch, ps, totals, cfg, "accepted")
    return {
        "batch_id": batch.id,
        "candidate_id": cand.id,
        "part": part,
        "status": ps.status,
        "round": ps.round,
        "score": show(ps.score_tenths),
        "steps": steps_of(db, batch.id, cand.id, part),
    }


def steps_of(db: Session, batch_id: int, candidate_id: int, part: str) -> list[dict[str, Any]]:
    rows = db.exec(
        select(ArbitrationStep)
        .where(
            ArbitrationStep.batch_id == batch_id,
            ArbitrationStep.candidate_id == candidate_id,
            ArbitrationStep.part == part,
        )
        .order_by(col(ArbitrationStep.id))
    ).all()
    return [
        {
            "id": s.id,
            "round": s.round,
            "action": s.action,
            "reasons": json.loads(s.reasons),
            "totals": json.loads(s.totals),
            "note": s.note,
            "account_id": s.account_id,
            "at": iso(s.at),
        }
        for s in rows
    ]


def open_arbitrations(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    """What the chief (or the exam office) has waiting: parts in arbitration, with the totals."""
    batch = access.batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    if actor.role == "evaluator":
        raise forbidden("Only the chief and the exam office see arbitrations.")
    rows = db.exec(
        select(PartScore)
        .where(PartScore.batch_id == batch.id, PartScore.status == "arbitration")
        .order_by(col(PartScore.candidate_id), PartScore.part)
    ).all()
    out = []
    for ps in rows:
        steps = steps_of(db, batch.id, ps.candidate_id, ps.part)
        opened = next((s for s in reversed(steps) if s["action"] == "opened"), None)
        totals = opened["totals"] if opened else {}
        cand = db.get(Candidate, ps.candidate_id)
        assert cand is not None  # a foreign key
        names = {sid: s.name for sid in totals if (s := db.get(Staff, int(sid))) is not None}
        out.append(
            {
                "candidate_id": ps.candidate_id,
                "ticket_number": cand.ticket_number,
                "name": cand.name,
                "part": ps.part,
                "round": ps.round,
                "reasons": opened["reasons"] if opened else [],
                "totals": totals,
                "examiners": names,
                "steps": steps,
            }
        )
    return out
