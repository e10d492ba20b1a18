"""Panels and recusal read from the database: the examiners of a part and who
scores which candidate (R-PANEL-1, R-RECUSE-1).

Recusal ties come from the candidates' and examiners' employers and from the
declared conflicts (``StaffConflict``, 回避事由):

- ``relative`` with a candidate → the examiner stands aside for them;
- ``colleague`` with a candidate, or with an employer (a former employer of
  the examiner: "works or worked at the same employer");
- ``trained`` with a candidate, or with a training organisation: a declared
  "I trained this organisation's candidates for this assessment".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from examday.plans.models import Candidate
from examday.registry.models import Staff, StaffConflict
from scoring.models import Panel, PanelMember
from scoring.panel_rules import CandidateTie, Examiner, scorers_for


def _norm(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


def conflicts_of(db: Session, staff_ids: Iterable[int]) -> list[StaffConflict]:
    ids = list(set(staff_ids))
    if not ids:
        return []
    return list(db.exec(select(StaffConflict).where(col(StaffConflict.staff_id).in_(ids))).all())


def examiner_from(staff: Staff, conflicts: Sequence[StaffConflict]) -> Examiner:
    former = frozenset(
        c.employer
        for c in conflicts
        if c.staff_id == staff.id and c.kind == "colleague" and c.candidate_id is None and c.employer
    )
    return Examiner(
        staff_id=staff.id,
        name=staff.name,
        roles=frozenset(staff.role_set()),
        skill_level=staff.skill_level,
        title=staff.title,
        card_valid_until=staff.examiner_card_valid_until,
        occupations=frozenset(staff.occupation_set()),
        is_trainer=staff.is_trainer,
        employer=staff.employer,
        former_employers=former,
    )


def candidate_ties(candidates: Sequence[Candidate], conflicts: Sequence[StaffConflict]) -> dict[int, CandidateTie]:
    relatives: dict[int, set[int]] = defaultdict(set)
    colleagues: dict[int, set[int]] = defaultdict(set)
    trained: dict[int, set[int]] = defaultdict(set)
    trained_orgs: dict[str, set[int]] = defaultdict(set)
    for c in conflicts:
        if c.candidate_id is not None:
            target = {"relative": relatives, "colleague": colleagues, "trained": trained}.get(c.kind)
            if target is not None:
                target[c.candidate_id].add(c.staff_id)
        elif c.kind == "trained" and c.training_org:
            trained_orgs[_norm(c.training_org)].add(c.staff_id)
    out: dict[int, CandidateTie] = {}
    for cand in candidates:
        assert cand.id is not None
        by_org = trained_orgs.get(_norm(cand.training_org), set()) if cand.training_org else set()
        out[cand.id] = CandidateTie(
            candidate_id=cand.id,
            employer=cand.employer,
            training_org=cand.training_org,
            relatives=frozenset(relatives[cand.id]),
            trained_by=frozenset(trained[cand.id] | by_org),
            colleagues=frozenset(colleagues[cand.id]),
        )
    return out


@dataclass(frozen=True)
class PanelView:
    panel: Panel
    member_ids: tuple[int, ...]
    examiners: tuple[Examiner, ...]
    ties: dict[int, CandidateTie]

    def scorers(self, candidate_id: int) -> tuple[list[int], dict[int, str]]:
        """Who scores this candidate, and who stands aside with why (R-RECUSE-1)."""
        tie = self.ties.get(candidate_id) or CandidateTie(candidate_id)
        scorers, recused = scorers_for(tie, list(self.examiners))
        return [e.staff_id for e in scorers], recused


def load_panel(
    db: Session, batch_id: int, part: str, candidates: Sequence[Candidate], panel: Panel | None = None
) -> PanelView | None:
    """The part's panel with its examiners and recusal ties; ``panel`` when the caller already holds it."""
    if panel is None:
        panel = db.exec(select(Panel).where(Panel.batch_id == batch_id, Panel.part == part)).first()
    if panel is None:
        return None
    ids = tuple(
        db.exec(
            select(PanelMember.staff_id).where(PanelMember.panel_id == panel.id).order_by(col(PanelMember.id))
        ).all()
    )
    staff = {s.id: s for s in db.exec(select(Staff).where(col(Staff.id).in_(ids))).all()}
    conflicts = conflicts_of(db, ids)
    examiners = tuple(examiner_from(staff[i], conflicts) for i in ids if i in staff)
    return PanelView(panel, ids, examiners, candidate_ties(candidates, conflicts))


def panels_of_staff(db: Session, staff_id: int) -> list[Panel]:
    return list(
        db.exec(
            select(Panel)
            .join(PanelMember, col(PanelMember.panel_id) == Panel.id)
            .where(PanelMember.staff_id == staff_id)
            .order_by(col(Panel.batch_id), col(Panel.id))
        ).all()
    )
