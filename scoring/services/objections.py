"""Objections (异议) raised during the score publicity, and their settlement (R-PUB-1).

The exam office records an objection a candidate raises while the scores are
published (from the moment they are put up to the last day of publicity). It
is settled before the lock: ``rejected`` with a reason, or ``upheld`` — the
panel re-scores that candidate's part (a new round of entries, as after the
chief's re-score), and the objection counts as open until the re-score is
final. Theory scores come from the exam system, not a panel: an upheld
objection to one waits (``rescoring``) for the exam system's re-marked file,
imported by the office and countersigned by the chief
(``scoring.services.theory_objections``), which settles it as ``upheld``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import Refusal, conflict, not_found
from examday.records.holds import place_hold
from examday.registry import standing
from examday.rows import row_id
from scoring import access
from scoring.models import Objection, TheoryImport
from scoring.panel_data import load_panel
from scoring.services.combine import part_score, reopen_for_rescore
from scoring.services.publicity import publicity_of, window_of
from scoring.theory_import import PART as THEORY

DECISIONS = ("upheld", "rejected")


def _theory_imported(db: Session, batch_id: int) -> bool:
    return db.exec(select(TheoryImport.id).where(TheoryImport.batch_id == batch_id)).first() is not None


def objection_body(o: Objection) -> dict[str, Any]:
    return {
        "id": o.id,
        "batch_id": o.batch_id,
        "candidate_id": o.candidate_id,
        "part": o.part,
        "raised_by": o.raised_by,
        "reason": o.reason,
        "status": o.status,
        "resolution": o.resolution,
        "created_at": iso(o.created_at),
        "resolved_at": iso(o.resolved_at),
    }


def _reason(value: object, what: str = "reason") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise Refusal("reason_required", "须填写理由", f"A {what} is required.", "R-PUB-1")
    return text[:2000]


def raise_objection(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    candidate_id: int,
    part: str | None,
    reason: object,
    raised_by: str = "",
) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    access.refuse_if_locked(batch)
    publicity = publicity_of(db, row_id(batch))
    if publicity is None:
        raise conflict(
            "publicity_not_started", "成绩尚未公示，不能提出异议", "Scores are not published yet.", "R-PUB-1"
        )
    # R-PUB-1: objections are heard during the publicity, up to its last day (R-CAL: on today's calendar).
    ends_on = window_of(db, publicity).ends_on
    if now.astimezone(CST).date() > ends_on:
        raise conflict(
            "publicity_over",
            f"公示已于{ends_on.isoformat()}结束",
            f"The publicity ended on {ends_on.isoformat()}.",
            "R-PUB-1",
            ends_on=ends_on.isoformat(),
        )
    if part is not None:
        access.refuse_unknown_part(batch, part)
    cand = access.candidate_of(db, batch, candidate_id)
    o = Objection(
        batch_id=row_id(batch),
        candidate_id=row_id(cand),
        part=part,
        raised_by=(raised_by or "")[:100],
        reason=_reason(reason),
        created_at=now,
        account_id=actor.account_id,
    )
    db.add(o)
    db.flush()
    audit.record(
        db,
        actor,
        "objection.raise",
        "objection",
        o.id,
        {"batch_id": batch.id, "candidate_id": cand.id, "part": part, "reason": o.reason},
        now,
        batch.institution_id,
    )
    # R-ARCH-1: a disputed batch's records and video stay until the hold is released by hand.
    place_hold(db, actor, "batch", row_id(batch), f"成绩异议 objection #{o.id}", now, source=f"objection:{o.id}")
    return objection_body(o)


def resolve_objection(
    db: Session,
    actor: Actor,
    now: datetime,
    objection_id: int,
    decision: object,
    reason: object,
    part: str | None = None,
) -> dict[str, Any]:
    o = db.get(Objection, objection_id)
    if o is None:
        raise not_found("objection")
    batch = access.batch_for_admin(db, actor, o.batch_id)
    access.refuse_if_locked(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "objections")  # R-INST-2
    if o.status != "open":
        raise conflict(
            "objection_settled", "该异议已处理", "This objection is already settled.", "R-PUB-1", status=o.status
        )
    if decision not in DECISIONS:
        raise Refusal("invalid_decision", "处理结果须为 upheld 或 rejected", "decision must be upheld or rejected.")
    note = _reason(reason, "reason for the decision")
    before = o.status
    if decision == "rejected":
        o.status = "rejected"
    else:
        part = part or o.part
        if part is None:
            raise Refusal("part_required", "维持异议须指明复评的科目", "Name the part the panel re-scores.", "R-PUB-1")
        access.refuse_unknown_part(batch, part)
        cand = access.candidate_of(db, batch, o.candidate_id)
        view = load_panel(db, row_id(batch), part, [cand])
        # R-PUB-1: an imported theory score is re-marked by the exam system; its re-marked file,
        # countersigned by the chief, settles the objection (scoring.services.theory_objections).
        by_exam_system = view is None and part == THEORY and _theory_imported(db, row_id(batch))
        if view is None and not by_exam_system:
            raise conflict(
                "no_panel",
                "该科目没有考评组，也不是导入的理论成绩",
                "This part has no panel to re-score it, and it is not an imported theory score.",
                "R-PUB-1",
                part=part,
            )
        ps = part_score(db, row_id(batch), row_id(cand), part, now, create=False)
        if ps is None or ps.status not in (("final", "absent") if by_exam_system else ("final",)):
            raise conflict(
                "part_not_final",
                "该科目成绩不是已确定状态，不能复评",
                "This part's score is not final; it cannot be re-scored.",
                "R-PUB-1",
            )
        if view is not None:
            scorers, _ = view.scorers(row_id(cand))
            reopen_for_rescore(db, actor, now, batch, ps, "objection_rescore", f"objection {o.id}: {note}", scorers)
        o.part, o.status = part, "rescoring"
    o.resolution, o.resolved_at, o.resolved_by = note, now, actor.account_id
    db.add(o)
    db.flush()
    audit.record(
        db,
        actor,
        "objection.resolve",
        "objection",
        o.id,
        {"batch_id": batch.id, "decision": decision, "status": [before, o.status], "reason": note, "part": o.part},
        now,
        batch.institution_id,
    )
    return objection_body(o)


def list_objections(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    batch = access.batch_for_read(db, actor, batch_id)
    rows = db.exec(select(Objection).where(Objection.batch_id == batch.id).order_by(col(Objection.id))).all()
    return [objection_body(o) for o in rows]
