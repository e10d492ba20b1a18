"""Note an early hand-in (提前交卷): never in the first 30 minutes (R-TIME-1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict
from proctor import rooms as roomstate
from proctor import rules
from proctor.models import HandIn
from proctor.services.common import Outcome, proctor_place, require_no_record, seat_in_room


def note_hand_in(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    room_code: str,
    candidate_id: int,
    session_id: int | None = None,
) -> Outcome:
    assert actor.account_id is not None
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    assert place.batch.id is not None
    assert place.session.id is not None
    assert place.room.id is not None
    minutes = roomstate.batch_config(place.batch).no_handin_minutes
    why = rules.handin_refusal(place.session.starts_at, place.session.ends_at, now, minutes)  # R-TIME-1
    if why == "handin_too_early":
        opens = rules.handin_opens(place.session.starts_at, minutes)
        raise Refusal(
            "handin_too_early",
            f"开考{minutes}分钟内不得交卷",
            f"No handing in during the first {minutes} minutes.",
            "R-TIME-1",
            422,
            {"allowed_from": iso(opens)},
        )
    if why == "session_over":
        raise conflict(
            "session_over", "考试已结束，不属于提前交卷", "The session is over: this is no early hand-in.", "R-TIME-1"
        )
    require_no_record(db, place)
    _, seat = seat_in_room(db, place, candidate_id, now)
    if seat["status"] in ("expected", "absent"):
        raise conflict("not_present", "考生未到场", "The candidate has not checked in.", "R-DAY-3")
    if db.exec(
        select(HandIn.id).where(HandIn.session_id == place.session.id, HandIn.candidate_id == candidate_id)
    ).first():
        raise conflict("already_handed_in", "该考生已交卷", "The candidate has already handed in.", "R-TIME-1")
    h = HandIn(
        batch_id=place.batch.id,
        session_id=place.session.id,
        room_id=place.room.id,
        candidate_id=candidate_id,
        account_id=actor.account_id,
        staff_id=place.staff_id,
        at=now,
    )
    db.add(h)
    try:
        db.flush()
    except IntegrityError:  # a second proctor pressed at the same moment
        db.rollback()
        raise conflict(
            "already_handed_in", "该考生已交卷", "The candidate has already handed in.", "R-TIME-1"
        ) from None
    audit.record(
        db,
        actor,
        "handin.note",
        "hand_in",
        h.id,
        {"candidate_id": candidate_id, "session_id": place.session.id, "room": place.room.code},
        now,
        place.batch.institution_id,
    )
    body = {
        "id": h.id,
        "session_id": place.session.id,
        "room_code": place.room.code,
        "candidate_id": candidate_id,
        "at": iso(now),
    }
    return Outcome(
        body, place.batch.id, "hand_in", place.room.code, {"session_id": place.session.id, "candidate_id": candidate_id}
    )
