"""A proctor admits a candidate by hand (人工放行), with the reason: R-ID-1, R-DAY-1, R-AUDIT-1.

When the door cannot (a kiosk down, an ID card that will not read and was checked another
way), a proctor of the candidate's room in that session admits them and says why. The
admission is check-in's own record (``examday.plans.admission``, filled by kiosk) and goes on
the audit chain with the reason; the room sees the candidate present. Only someone admitted
to a part's session has a score for it (``scoring.outcome``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, not_found
from examday.plans import admission
from examday.plans.models import Candidate, Seat
from examday.registry import standing
from proctor.services.common import (
    Outcome,
    proctor_place,
    require_in_progress,
    require_no_record,
    seat_in_room,
    text_field,
)


def admit_by_hand(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    room_code: str,
    candidate_id: int,
    reason: str,
    session_id: int | None = None,
) -> Outcome:
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    assert place.batch.id is not None and place.session.id is not None and place.room.id is not None
    standing.refuse_unless_in_standing(db, place.batch.institution_id, now, "admission")  # R-INST-2
    reason = text_field(
        reason,
        "reason_required",
        "请填写人工放行的原因（500字以内）",
        "Say why the candidate is admitted by hand (up to 500 characters).",
        500,
    )
    require_in_progress(place, now)
    require_no_record(db, place)
    cand = db.get(Candidate, candidate_id)
    if cand is None or cand.batch_id != place.batch.id:
        raise not_found("candidate")
    if cand.status == "withdrawn":
        raise conflict("candidate_withdrawn", "该考生已退考", "The candidate has withdrawn.", "R-DAY-1")
    seat_no = None
    try:
        seat_no = seat_in_room(db, place, candidate_id, now)[1].get("seat")
    except Refusal:
        # A room whose part has no seats drawn (a skill venue without stations) admits anyone of the batch.
        drawn = db.exec(select(Seat.id).where(Seat.batch_id == place.batch.id, Seat.part == place.session.part)).first()
        if drawn is not None:
            raise
    checkin_id = admission.admit(
        db, actor, now, place.batch.id, place.session.id, candidate_id, place.room.id, reason, "proctor"
    )
    body = {
        "checkin_id": checkin_id,
        "batch_id": place.batch.id,
        "session_id": place.session.id,
        "room_code": place.room.code,
        "candidate_id": candidate_id,
        "via": "proctor",
        "reason": reason,
        "at": iso(now),
    }
    return Outcome(
        body,
        place.batch.id,
        "checkin",
        place.room.code,
        {
            "candidate_id": candidate_id,
            "session_id": place.session.id,
            "seat": seat_no,
            "late": False,
            "status": "present",
        },
    )
