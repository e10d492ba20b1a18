"""Reading a batch's scores: part scores, panel entries and results (成绩), for
each role only what it may see.

R-SCORE-1 (independence): a scorer — an evaluator or the chief on the panel —
sees their own entries; a colleague's entries for a candidate's part only
once every scorer of that part's current round is in (status
``arbitration`` or ``final``), and an ``evaluator`` account never (the
contract: "evaluator: only their own entries"). Evaluators get no combined
scores or results either. R-PRIV-1: ID numbers in full for the admin only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.identity import mask_id_number
from examday.plans.models import Batch, Candidate
from scoring import access
from scoring.aggregate import ABSENT, candidate_result
from scoring.models import PartScore, ScoreEntry
from scoring.panel_data import PanelView, load_panel
from scoring.points import from_tenths, show
from scoring.services.entries import entry_body

COMPLETE = ("arbitration", "final")


@dataclass
class CandidateResult:
    candidate: Candidate
    parts: dict[str, PartScore | None]
    result: str


def _value(ps: PartScore | None) -> Decimal | str | None:
    if ps is None:
        return None
    if ps.status == "absent":
        return ABSENT
    return from_tenths(ps.score_tenths) if ps.status == "final" else None


def batch_results(db: Session, batch: Batch) -> list[CandidateResult]:
    """Every scored candidate with their part scores and result (R-SCORE-3), in ticket order."""
    assert batch.id is not None
    parts = batch.part_list()
    scores: dict[int, dict[str, PartScore]] = defaultdict(dict)
    for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch.id)).all():
        scores[ps.candidate_id][ps.part] = ps
    out = []
    for cand in access.scored_candidates(db, batch.id):
        assert cand.id is not None
        mine = scores.get(cand.id, {})
        values = {p: _value(mine.get(p)) for p in parts}
        out.append(CandidateResult(cand, {p: mine.get(p) for p in parts}, candidate_result(values, parts)))
    return out


def _entries_by_part(db: Session, batch_id: int) -> dict[tuple[int, str], list[ScoreEntry]]:
    grouped: dict[tuple[int, str], list[ScoreEntry]] = defaultdict(list)
    rows = db.exec(
        select(ScoreEntry)
        .where(ScoreEntry.batch_id == batch_id)
        .order_by(
            col(ScoreEntry.candidate_id), ScoreEntry.part, col(ScoreEntry.examiner_staff_id), col(ScoreEntry.version)
        )
    ).all()
    for row in rows:
        grouped[(row.candidate_id, row.part)].append(row)
    return grouped


def scores_view(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    batch = access.batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    results = batch_results(db, batch)
    candidates = [r.candidate for r in results]
    panels: dict[str, PanelView | None] = {p: load_panel(db, batch.id, p, candidates) for p in batch.part_list()}
    entries = _entries_by_part(db, batch.id)
    evaluator = actor.role == "evaluator"
    me = actor.staff_id if actor.role in access.SCORER_ROLES else None
    out = []
    for r in results:
        cand = r.candidate
        assert cand.id is not None
        parts: dict[str, Any] = {}
        for part in batch.part_list():
            ps = r.parts.get(part)
            status = ps.status if ps else "pending"
            view = panels[part]
            scorers, recused = view.scorers(cand.id) if view else ([], {})
            # A scoring account bound to nobody (made before R-SCORE-1's binding was enforced) is
            # shown only its own entries, which are none.
            scoring_now = actor.role in access.SCORER_ROLES and (me is None or me in scorers)
            own_only = evaluator or (scoring_now and status not in COMPLETE)
            visible = [e for e in entries.get((cand.id, part), []) if not own_only or e.examiner_staff_id == me]
            body: dict[str, Any] = {"status": status, "entries": [entry_body(e) for e in visible]}
            if not evaluator:
                body.update(
                    {
                        "score": show(ps.score_tenths) if ps and ps.status == "final" else None,
                        "method": ps.method if ps else None,
                        "round": ps.round if ps else 0,
                        "scorers": scorers,
                        "recused": {str(k): v for k, v in recused.items()},
                    }
                )
            elif me in recused:
                body["recused"] = recused[me]
            parts[part] = body
        row: dict[str, Any] = {
            "id": cand.id,
            "ticket_number": cand.ticket_number,
            "name": cand.name,
            "id_number": cand.id_number if actor.role == "admin" else mask_id_number(cand.id_number),
            "parts": parts,
        }
        if not evaluator:
            row["result"] = r.result
        out.append(row)
    return {"batch_id": batch.id, "status": batch.status, "parts": batch.part_list(), "candidates": out}
