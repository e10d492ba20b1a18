"""The public score publicity (成绩公示) of a batch, without login: R-PUB-1, R-PRIV-1.

Shown from the moment publicity starts: ticket number, masked name (张*三),
masked ID number, each part's score and the result with its reason (缺考, or an
incident's tier, R-DISC-1); the seal once the batch
is locked. Nothing else about a candidate leaves the server.

It also says how, where and until when to object (R-PUB-1, 异议): in writing to the
institution's exam office — at the exam site's address and its exam-affairs room (考务室) as
filed, the place the registry holds (it keeps no telephone) — by the last day of the publicity
on today's calendar (R-CAL).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from examday import checkpoints
from examday.errors import not_found
from examday.identity import mask_id_number, mask_name
from examday.registry.models import Institution, Room
from scoring import access
from scoring.exports import PART_NAMES, PART_STATUS_NAMES, RESULT_NAMES
from scoring.points import show
from scoring.results import batch_results
from scoring.services.lock import seal_body, seal_of
from scoring.services.publicity import publicity_body, publicity_of


def _public_reason(reason: dict[str, Any] | None) -> dict[str, Any] | None:
    # The reason's words and rule; the incident's id and kind stay with the exam office (R-PRIV-1).
    if reason is None:
        return None
    return {k: reason[k] for k in ("code", "rule", "message", "message_en") if k in reason}


def public_view(db: Session, batch_id: int) -> dict[str, Any]:
    batch = access.load_batch(db, batch_id)
    assert batch.id is not None
    publicity = publicity_of(db, batch.id)
    if publicity is None:
        raise not_found("publicity")  # nothing is public before publicity starts
    inst = db.get(Institution, batch.institution_id)
    parts = batch.part_list()
    rows = []
    for r in batch_results(db, batch):
        scores: dict[str, Any] = {}
        for p in parts:
            status = r.status(p)
            scores[p] = status if status in PART_STATUS_NAMES else show(r.score_tenths(p))
        rows.append(
            {
                "ticket_number": r.candidate.ticket_number,
                "name": mask_name(r.candidate.name),
                "id_number": mask_id_number(r.candidate.id_number),
                "parts": scores,
                "result": r.result,
                "result_zh": RESULT_NAMES.get(r.result, r.result),
                "reason": _public_reason(r.reason()),
            }
        )
    seal = seal_of(db, batch.id)
    checkpoint = checkpoints.at_lock(db, batch.institution_id, batch.id) if seal else None
    window = publicity_body(db, publicity)
    return {
        "batch_id": batch.id,
        "institution": inst.name if inst else "",
        "occupation_code": batch.occupation_code,
        "occupation_name": batch.occupation_name,
        "level": batch.level,
        "exam_date": batch.exam_date.isoformat(),
        "status": batch.status,
        "parts": parts,
        "part_names": {p: PART_NAMES.get(p, p) for p in parts},
        "publicity": window,
        "objections": objection_notice(db, batch.institution_id, inst, window["ends_on"], batch.status),
        "pass_mark": 60,
        "candidates": rows,
        "seal": seal_body(seal) if seal else None,
        # Issue #17: the audit checkpoint signed at the lock, as the centre received it.
        "checkpoint": checkpoints.body(checkpoint, inst.uscc) if checkpoint and inst else None,
    }


def objection_notice(
    db: Session, institution_id: int, inst: Institution | None, until: str, status: str
) -> dict[str, Any]:
    """Where and until when to object (R-PUB-1): the exam site's address and the exam office's
    rooms of kind ``affairs``."""
    rooms = db.exec(
        select(Room)
        .where(Room.institution_id == institution_id, Room.kind == "affairs", Room.active == True)  # noqa: E712
        .order_by(col(Room.code))
    ).all()
    return {
        "open": status == "publicity",  # once locked, objections are closed
        "until": until,
        "institution": inst.name if inst else "",
        "address": inst.address if inst else None,
        "places": [{"code": r.code, "name": r.name} for r in rooms],
    }
