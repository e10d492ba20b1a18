"""Move a candidate to another desk (调换座位), with the reason, within the room (R-SEAT-1)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict
from proctor import rules
from proctor.models import SeatMove
from proctor.services.common import (
    Outcome,
    proctor_place,
    require_in_progress,
    require_no_record,
    seat_in_room,
    text_field,
)


def move_seat(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    room_code: str,
    candidate_id: int,
    to_seat: int,
    reason: str,
    session_id: int | None = None,
) -> Outcome:
    assert actor.account_id is not None
    place = proctor_place(db, actor, batch_id, session_id, room_code, now)
    assert place.batch.id is not None
    assert place.session.id is not None
    assert place.room.id is not None
    reason = text_field(reason, "reason_required", "请填写调换座位的原因", "Give the reason for the move.", 500)
    require_in_progress(place, now)
    require_no_record(db, place)
    state, seat = seat_in_room(db, place, candidate_id, now)
    if seat["status"] in ("expected", "absent"):
        raise conflict("not_present", "考生未到场", "The candidate has not checked in.", "R-DAY-3")
    capacity = place.room.seats or 0
    if not (1 <= to_seat <= capacity):
        raise Refusal(
            "no_such_seat",
            "座位号不存在",
            f"Seat {to_seat} does not exist in this room.",
            "R-SEAT-1",
            422,
            {"seats": capacity},
        )
    if to_seat == seat["seat"]:
        raise conflict("same_seat", "已在该座位", "The candidate already sits there.", "R-SEAT-1")
    if rules.seat_taken(to_seat, candidate_id, state):  # R-SEAT-1: one candidate per desk
        raise conflict("seat_taken", "该座位已有考生", "Another candidate holds that seat.", "R-SEAT-1", seat=to_seat)
    move = SeatMove(
        batch_id=place.batch.id,
        session_id=place.session.id,
        room_id=place.room.id,
        candidate_id=candidate_id,
        from_seat=seat["seat"],
        to_seat=to_seat,
        reason=reason,
        account_id=actor.account_id,
        staff_id=place.staff_id,
        at=now,
    )
    db.add(move)
    db.flush()
    audit.record(
        db,
        actor,
        "seat.move",
        "seat_move",
        move.id,
        {
            "candidate_id": candidate_id,
            "session_id": place.session.id,
            "room": place.room.code,
            "seat": [seat["seat"], to_seat],
            "reason": reason,
        },
        now,
        place.batch.institution_id,
    )
    body = {
        "id": move.id,
        "session_id": place.session.id,
        "room_code": place.room.code,
        "candidate_id": candidate_id,
        "from_seat": seat["seat"],
        "to_seat": to_seat,
        "reason": reason,
        "at": iso(now),
    }
    return Outcome(
        body,
        place.batch.id,
        "seat_move",
        place.room.code,
        {"session_id": place.session.id, "candidate_id": candidate_id, "from_seat": seat["seat"], "to_seat": to_seat},
    )
