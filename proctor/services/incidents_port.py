"""Proctor's incidents for :mod:`examday.plans.incidents` (results, the centre's list): R-DISC-1."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from examday.plans import incidents as port
from examday.plans.models import Batch, ExamSession
from proctor import rules
from proctor.models import Incident


class ProctorIncidents:
    """:class:`examday.plans.incidents.IncidentReader` over proctor's ``Incident`` table."""

    def incidents(self, db: Session, batch_ids: Collection[int]) -> list[port.IncidentFact]:
        if not batch_ids:
            return []
        rows = db.exec(
            select(Incident, ExamSession.part, Batch.parts)
            .join(ExamSession, col(ExamSession.id) == Incident.session_id)
            .join(Batch, col(Batch.id) == Incident.batch_id)
            .where(col(Incident.batch_id).in_(list(batch_ids)))
            .order_by(col(Incident.at), col(Incident.id))
        ).all()
        out = []
        for inc, part, parts in rows:
            assert inc.id is not None
            effect = rules.TIER_EFFECTS[inc.tier]
            voided = rules.voided_parts(effect, part, [p for p in parts.split(",") if p])
            out.append(
                port.IncidentFact(
                    inc.id,
                    inc.batch_id,
                    inc.candidate_id,
                    inc.session_id,
                    part,
                    inc.kind,
                    inc.tier,
                    tuple(voided),
                    inc.cheating,
                    inc.at,
                )
            )
        return out


def register() -> None:
    port.provide(ProctorIncidents())
