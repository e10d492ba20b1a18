"""What an examiner's tablet shows (评分工作台): their panels, their candidates and
their own entries — never a colleague's (R-SCORE-1)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.errors import Refusal, forbidden, not_found
from examday.plans.models import Batch
from scoring import access
from scoring.models import Panel, PartScore, ScoreEntry
from scoring.panel_data import load_panel, panels_of_staff
from scoring.points import text
from scoring.services.entries import entry_items
from scoring.services.rubrics import load_items

ENTERABLE = ("pending", "rescore")


def _own_latest(db: Session, batch_id: int, part: str, staff_id: int) -> dict[int, ScoreEntry]:
    rows = db.exec(
        select(ScoreEntry)
        .where(ScoreEntry.batch_id == batch_id, ScoreEntry.part == part, ScoreEntry.examiner_staff_id == staff_id)
        .order_by(col(ScoreEntry.version))
    ).all()
    return {r.candidate_id: r for r in rows}


def _statuses(db: Session, batch_id: int, part: str) -> dict[int, PartScore]:
    return {
        ps.candidate_id: ps
        for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch_id, PartScore.part == part)).all()
    }


def my_panels(db: Session, actor: Actor) -> list[dict[str, Any]]:
    if actor.staff_id is None:
        return []
    out = []
    for panel in panels_of_staff(db, actor.staff_id):
        batch = db.get(Batch, panel.batch_id)
        if batch is None or batch.institution_id != actor.institution_id or batch.status == "draft":
            continue
        rows = my_candidates(db, actor, batch, panel.part)
        out.append(
            {
                "batch": batch,
                "part": panel.part,
                "is_chief": panel.chief_staff_id == actor.staff_id,
                "total": len(rows),
                "to_do": sum(1 for r in rows if r["to_do"]),
                "arbitration": sum(1 for r in rows if r["status"] == "arbitration"),
            }
        )
    return out


def my_candidates(db: Session, actor: Actor, batch: Batch, part: str) -> list[dict[str, Any]]:
    """The candidates this examiner scores in a part, with their own entry and what is left to do."""
    assert batch.id is not None
    candidates = access.scored_candidates(db, batch.id)
    view = load_panel(db, batch.id, part, candidates)
    if view is None or actor.staff_id not in view.member_ids:
        return []
    mine = _own_latest(db, batch.id, part, actor.staff_id)
    statuses = _statuses(db, batch.id, part)
    out = []
    for cand in candidates:
        assert cand.id is not None
        scorers, _ = view.scorers(cand.id)
        if actor.staff_id not in scorers:
            continue
        ps = statuses.get(cand.id)
        status = ps.status if ps else "pending"
        entry = mine.get(cand.id)
        current = entry is not None and entry.round == (ps.round if ps else 0)
        out.append(
            {
                "candidate": cand,
                "status": status,
                "entry": entry,
                "total": text(entry.total_tenths) if entry else "",
                "to_do": status in ENTERABLE and not current,
                "can_enter": status in ENTERABLE and batch.status in ("filed", "publicity"),
            }
        )
    return out


def entry_form(db: Session, actor: Actor, batch_id: int, part: str, candidate_id: int) -> dict[str, Any]:
    """The rubric and this examiner's own latest points for one candidate's part."""
    if actor.role not in access.SCORER_ROLES or actor.staff_id is None:
        raise forbidden("Only an examiner's own account enters scores.")
    batch = access.batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_unknown_part(batch, part)
    row = next((r for r in my_candidates(db, actor, batch, part) if r["candidate"].id == candidate_id), None)
    if row is None:
        raise not_found("candidate on your list")
    items = load_items(db, batch.id, part)
    if not items:
        raise Refusal("rubric_missing", "该科目尚未设置评分细则", "This part has no rubric yet.", "R-SCORE-3", 409)
    own = entry_items(row["entry"]) if row["entry"] else {}
    return {"batch": batch, "part": part, "row": row, "items": items, "own": own}


def chief_batches(db: Session, actor: Actor) -> dict[int, list[str]]:
    if actor.staff_id is None:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for panel in db.exec(select(Panel).where(Panel.chief_staff_id == actor.staff_id)).all():
        found[panel.batch_id].append(panel.part)
    return dict(found)
