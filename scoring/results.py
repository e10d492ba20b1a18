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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.identity import mask_id_number
from examday.plans import incidents
from examday.plans.incidents import IncidentFact
from examday.plans.models import Batch, Candidate
from scoring import access, admission, seal
from scoring.aggregate import ABSENT, candidate_result
from scoring.models import BatchSeal, PartScore, ScoreEntry
from scoring.outcome import RANK, Override, overrides
from scoring.panel_data import PanelView, load_panel
from scoring.points import from_tenths, show
from scoring.services import theory_versions
from scoring.services.entries import entry_body
from scoring.theory_import import PART as THEORY

COMPLETE = ("arbitration", "final")


@dataclass
class CandidateResult:
    """A candidate's part scores as stored, what the exam day decided over them (``overrides``:
    absent, void, cheating — R-ID-1, R-DISC-1) and the result."""

    candidate: Candidate
    parts: dict[str, PartScore | None]
    result: str
    overrides: dict[str, Override] = field(default_factory=dict)

    def status(self, part: str) -> str:
        """The part's status as shown: the exam day's verdict, else the stored score's."""
        if part in self.overrides:
            return self.overrides[part].status
        ps = self.parts.get(part)
        return ps.status if ps else "pending"

    def score_tenths(self, part: str) -> int | None:
        """The part's final score, or None (not final, or absent, void or cheating)."""
        ps = self.parts.get(part)
        if part in self.overrides or ps is None or ps.status != "final":
            return None
        return ps.score_tenths

    def reason(self, part: str | None = None) -> dict[str, Any] | None:
        """Why the exam day decided the part (or, with no part, the result); None when it did not."""
        if part is not None:
            o = self.overrides.get(part)
            return dict(o.reason) if o else None
        if not self.overrides:
            return None
        worst = max(self.overrides.values(), key=lambda o: RANK[o.status])
        return dict(worst.reason)


def _value(ps: PartScore | None, override: Override | None) -> Decimal | str | None:
    if override is not None:
        return override.status
    if ps is None:
        return None
    if ps.status == "absent":
        return ABSENT
    return from_tenths(ps.score_tenths) if ps.status == "final" else None


def stored_result(r: CandidateResult, parts: list[str]) -> str:
    """The result from the stored part scores alone, as it was computed before issue #15 let the
    exam day decide (R-ID-1, R-DISC-1): seals v1 and v2 sealed it, and are verified with it."""
    return candidate_result({p: _value(r.parts.get(p), None) for p in parts}, parts)


_HELD = "scoring.results.held"


@contextmanager
def computed_once(db: Session, batch: Batch) -> Iterator[list[CandidateResult]]:
    """Within the block every ``batch_results(db, batch)`` answers the same results, computed once on
    entry: for a step that reads them many times and changes no score — the lock checks them, seals
    them and archives the summary and the export made from them (R-SCORE-3, R-ARCH-1), all in one
    transaction, so every document states the results the seal covers."""
    assert batch.id is not None
    held: dict[int, list[CandidateResult]] = db.info.setdefault(_HELD, {})
    if batch.id in held:  # already inside such a block
        yield held[batch.id]
        return
    held[batch.id] = _compute(db, batch)
    try:
        yield held[batch.id]
    finally:
        held.pop(batch.id, None)


def batch_results(db: Session, batch: Batch) -> list[CandidateResult]:
    """Every scored candidate with their part scores and result (R-SCORE-3), in ticket order;
    a part they did not sit is absent (R-ID-1), an incident applies its tier (R-DISC-1)."""
    assert batch.id is not None
    held = db.info.get(_HELD)
    if held and batch.id in held:
        return held[batch.id]
    return _compute(db, batch)


def _compute(db: Session, batch: Batch) -> list[CandidateResult]:
    assert batch.id is not None
    parts = batch.part_list()
    scores: dict[int, dict[str, PartScore]] = defaultdict(dict)
    for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch.id)).all():
        scores[ps.candidate_id][ps.part] = ps
    with_sessions, sat = admission.sat_parts(db, batch)
    recorded: dict[int, list[IncidentFact]] = defaultdict(list)
    for inc in incidents.incidents(db, [batch.id]):
        recorded[inc.candidate_id].append(inc)
    # A batch sealed before the exam day decided results (seal v1, v2) is shown as it was sealed:
    # the sealed results are final (R-SCORE-3), and rules that came later do not rewrite them.
    by_exam_day = _sealed_rules(db, batch) != "stored-scores"
    out = []
    for cand in access.scored_candidates(db, batch.id):
        assert cand.id is not None
        mine = scores.get(cand.id, {})
        decided = (
            overrides(parts, with_sessions, sat.get(cand.id, set()), recorded.get(cand.id, [])) if by_exam_day else {}
        )
        values = {p: _value(mine.get(p), decided.get(p)) for p in parts}
        out.append(CandidateResult(cand, {p: mine.get(p) for p in parts}, candidate_result(values, parts), decided))
    return out


def _sealed_rules(db: Session, batch: Batch) -> str | None:
    """The rules the batch's seal follows (``scoring.seal.RULES``), or None before the lock."""
    if batch.status != "locked":
        return None
    version = db.exec(select(BatchSeal.version).where(BatchSeal.batch_id == batch.id)).first()
    return seal.RULES.get(version) if version is not None else None


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
    corrected = theory_versions.corrections(db, batch.id)
    evaluator = actor.role == "evaluator"
    me = actor.staff_id if actor.role in access.SCORER_ROLES else None
    out = []
    for r in results:
        cand = r.candidate
        assert cand.id is not None
        parts: dict[str, Any] = {}
        for part in batch.part_list():
            ps = r.parts.get(part)
            status = r.status(part)
            stored = ps.status if ps else "pending"  # independence follows the entries, not the verdict
            view = panels[part]
            scorers, recused = view.scorers(cand.id) if view else ([], {})
            # A scoring account bound to nobody (made before R-SCORE-1's binding was enforced) is
            # shown only its own entries, which are none.
            scoring_now = actor.role in access.SCORER_ROLES and (me is None or me in scorers)
            own_only = evaluator or (scoring_now and stored not in COMPLETE)
            visible = [e for e in entries.get((cand.id, part), []) if not own_only or e.examiner_staff_id == me]
            body: dict[str, Any] = {"status": status, "entries": [entry_body(e) for e in visible]}
            if not evaluator:
                body.update(
                    {
                        "score": show(r.score_tenths(part)),
                        "reason": r.reason(part),
                        "method": ps.method if ps else None,
                        "round": ps.round if ps else 0,
                        "scorers": scorers,
                        "recused": {str(k): v for k, v in recused.items()},
                    }
                )
                if part == THEORY:
                    # R-SCORE-3: a theory score changed after its first signed version says so.
                    body["corrections"] = corrected.get(cand.id, [])
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
            row["reason"] = r.reason()
        out.append(row)
    return {"batch_id": batch.id, "status": batch.status, "parts": batch.part_list(), "candidates": out}
