"""Set a part's rubric (评分细则): items with maxima adding up to 100 (R-SCORE-3).

A rubric can be replaced until the first score entry of its part: changing
the items under entries already made would change what those points mean.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict
from scoring import access
from scoring.models import Rubric, RubricLine, ScoreEntry
from scoring.points import from_tenths, show, to_tenths
from scoring.rubric import RubricItem, validate_rubric


def load_items(db: Session, batch_id: int, part: str) -> list[RubricItem]:
    """The rubric of a part as the pure rules read it; empty when none is set."""
    rubric = db.exec(select(Rubric).where(Rubric.batch_id == batch_id, Rubric.part == part)).first()
    if rubric is None:
        return []
    lines = db.exec(
        select(RubricLine).where(RubricLine.rubric_id == rubric.id).order_by(col(RubricLine.position))
    ).all()
    return [RubricItem(line.code, line.title, from_tenths(line.max_tenths)) for line in lines]


def rubric_body(batch_id: int, part: str, items: list[RubricItem]) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "part": part,
        "items": [{"code": i.code, "title": i.title, "max_points": show(to_tenths(i.max_points))} for i in items],
        "total": show(sum(to_tenths(i.max_points) for i in items)),
    }


def _read_items(raw: object) -> list[RubricItem]:
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise Refusal(
            "rubric_invalid",
            "评分细则须为细则项列表",
            "The rubric must be a list of items.",
            "R-SCORE-3",
            detail={"problems": [{"code": None, "reason": "not_a_list"}]},
        )
    return [RubricItem(str(x.get("code") or ""), str(x.get("title") or ""), x.get("max_points")) for x in raw]


def set_rubric(db: Session, actor: Actor, now: datetime, batch_id: int, part: str, items: object) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_if_locked(batch)
    access.refuse_unknown_part(batch, part)
    clean = validate_rubric(_read_items(items))  # R-SCORE-3: sums to 100, each max > 0
    used = db.exec(select(ScoreEntry.id).where(ScoreEntry.batch_id == batch.id, ScoreEntry.part == part)).first()
    if used is not None:
        raise conflict(
            "rubric_in_use",
            "该科目已有评分记录，评分细则不能再改",
            "Scores have been entered for this part; its rubric can no longer change.",
            "R-SCORE-2",
            part=part,
        )
    before = load_items(db, batch.id, part)
    rubric = db.exec(select(Rubric).where(Rubric.batch_id == batch.id, Rubric.part == part)).first()
    if rubric is None:
        rubric = Rubric(batch_id=batch.id, part=part, created_at=now, updated_at=now)
        db.add(rubric)
        db.flush()
    else:
        rubric.updated_at = now
        db.add(rubric)
        db.exec(delete(RubricLine).where(col(RubricLine.rubric_id) == rubric.id))
    assert rubric.id is not None  # loaded, or flushed above: it has its id
    for position, item in enumerate(clean):
        db.add(
            RubricLine(
                rubric_id=rubric.id,
                batch_id=batch.id,
                position=position,
                code=item.code,
                title=item.title[:200],
                max_tenths=to_tenths(item.max_points),
            )
        )
    db.flush()
    body = rubric_body(batch.id, part, clean)
    audit.record(
        db,
        actor,
        "rubric.set",
        "rubric",
        rubric.id,
        {
            "batch_id": batch.id,
            "part": part,
            "before": rubric_body(batch.id, part, before)["items"],
            "after": body["items"],
        },
        now,
        batch.institution_id,
    )
    return body
