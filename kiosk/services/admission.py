"""A candidate admitted by hand (人工放行), for :mod:`examday.plans.admission`: R-ID-1, R-DAY-1.

Stored as check-in's own record — an accepted ``CheckIn`` with ``via`` naming who admitted
(``proctor``) and the reason in its answer, and the ``Attendance`` row whose unique key keeps
one admission per candidate and session — and on the audit chain with the reason.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import conflict
from examday.plans.models import Batch
from kiosk.models import Attendance, CheckIn


class KioskAdmissions:
    """:class:`examday.plans.admission.AdmissionWriter` over kiosk's tables."""

    def admit(
        self,
        db: Session,
        actor: Actor,
        now: datetime,
        batch_id: int,
        session_id: int,
        candidate_id: int,
        room_id: int | None,
        reason: str,
        via: str,
    ) -> int:
        assert actor.account_id is not None  # a person admits, under their own account (R-STAFF-4)
        prior = db.exec(
            select(Attendance).where(Attendance.session_id == session_id, Attendance.candidate_id == candidate_id)
        ).first()
        if prior is not None:
            raise conflict(
                "already_checked_in",
                "该考生已入场",
                "The candidate is already admitted to this session.",
                "R-DAY-1",
                at=iso(prior.at),
            )
        batch = db.get(Batch, batch_id)
        assert batch is not None
        answer = {"status": "accepted", "via": via, "reason": reason, "session_id": session_id, "at": iso(now)}
        row = CheckIn(
            batch_id=batch_id,
            session_id=session_id,
            candidate_id=candidate_id,
            kiosk_account_id=actor.account_id,
            kiosk_nonce=f"{via}:{uuid.uuid4().hex}",
            status="accepted",
            at=now,
            via=via,
            room_id=room_id,
            response=json.dumps(answer, ensure_ascii=False),
        )
        db.add(row)
        db.flush()
        assert row.id is not None
        db.add(
            Attendance(
                batch_id=batch_id,
                session_id=session_id,
                candidate_id=candidate_id,
                checkin_id=row.id,
                room_id=room_id,
                at=now,
            )
        )
        db.flush()
        audit.record(
            db,
            actor,
            "checkin.admit",
            "checkin",
            row.id,
            {"candidate_id": candidate_id, "session_id": session_id, "via": via, "reason": reason[:500]},
            now,
            batch.institution_id,
        )
        return row.id
