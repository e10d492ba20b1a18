"""Mark a candidate absent from a panel-scored part (缺考): absent, not zero (R-SCORE-3).

Theory absences come with the exam system's file (``scoring.theory_import``);
this is for the skill part and the review, where no file exists. A candidate
someone has already scored cannot be marked absent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.errors import conflict
from examday.registry import standing
from scoring import access
from scoring.models import ScoreEntry
from scoring.services.combine import part_score


def mark_absent(
    db: Session, actor: Actor, now: datetime, batch_id: int, candidate_id: int, part: str, note: str = ""
) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_unless_filed(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "absence")  # R-INST-2
    access.refuse_unknown_part(batch, part)
    if batch.status != "filed":
        raise conflict("scores_published", "成绩已公示，不能再登记缺考", "Scores are published.", "R-PUB-1")
    cand = access.candidate_of(db, batch, candidate_id)
    assert cand.id is not None
    if db.exec(
        select(ScoreEntry.id).where(
            ScoreEntry.batch_id == batch.id, ScoreEntry.candidate_id == cand.id, ScoreEntry.part == part
        )
    ).first():
        raise conflict(
            "entries_exist",
            "该考生本科目已有评分，不能登记缺考",
            "Scores were entered for this candidate's part; they cannot be marked absent.",
            "R-SCORE-2",
        )
    ps = part_score(db, batch.id, cand.id, part, now)
    if ps.status not in ("pending", "absent"):
        raise conflict("part_final", "该考生本科目成绩已确定", "This part's score is already final.", "R-SCORE-3")
    before = ps.status
    ps.status, ps.score_tenths, ps.source, ps.updated_at = "absent", None, "admin", now
    db.add(ps)
    db.flush()
    audit.record(
        db,
        actor,
        "part_score.absent",
        "part_score",
        ps.id,
        {"batch_id": batch.id, "candidate_id": cand.id, "part": part, "status": [before, "absent"], "note": note[:500]},
        now,
        batch.institution_id,
    )
    return {"batch_id": batch.id, "candidate_id": cand.id, "part": part, "status": "absent"}
