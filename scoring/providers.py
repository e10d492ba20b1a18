"""What scoring hands to the rest of the application at start-up: which parts are scored, and the
centre's work for its home page (issue #16)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from examday.plans import centre_work, scored
from scoring.centre_home import CentreWork
from scoring.models import PartScore, ScoreEntry


class ScoringReader:
    def scored_parts(self, db: Session, candidate_id: int) -> frozenset[str]:
        # A pending part score is only the place the entries will combine into; a signed entry,
        # an imported theory score or a recorded absence is a score the record rests on.
        signed = db.exec(select(ScoreEntry.part).where(ScoreEntry.candidate_id == candidate_id).distinct()).all()
        settled = db.exec(
            select(PartScore.part).where(PartScore.candidate_id == candidate_id, col(PartScore.status) != "pending")
        ).all()
        return frozenset(signed) | frozenset(settled)


def register() -> None:
    scored.provide(ScoringReader())
    centre_work.provide(CentreWork())
