"""What the exam-room record (考场记录表, R-DAY-3) states: who proctored, who was seated,
admitted, absent or late, moved, handed in, and every incident of the room in the session —
gathered from the day's own records, and its hash, which each proctor's confirmation binds.
A skill room's record is its sitting's (R-SEAT-1, issue #15): only the candidates drawn for it
are expected, so a later sitting's are never absent from an earlier one's record.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.clock import iso
from examday.plans import attendance
from examday.plans.models import Batch, Candidate, ExamSession, ProctorAssignment, Seat
from examday.registry.models import Institution, Room, Staff
from examday.rows import row_id
from proctor import rules
from proctor.models import HandIn, Incident, SeatMove
from proctor.rooms import sittings_of


def hash_of_content(content: dict[str, Any]) -> str:
    return hashlib.sha256(audit.canonical(content).encode()).hexdigest()


def proctors_of(db: Session, session: ExamSession, room: Room) -> list[Staff]:
    return list(
        db.exec(
            select(Staff)
            .join(ProctorAssignment, col(ProctorAssignment.staff_id) == Staff.id)
            .where(ProctorAssignment.session_id == session.id, ProctorAssignment.room_id == room.id)
            .order_by(col(Staff.id))
        ).all()
    )


def record_content(
    db: Session, batch: Batch, session: ExamSession, room: Room, now: datetime, remarks: str = ""
) -> dict[str, Any]:
    """What happened in the room, from the day's facts (not from anyone's summary)."""
    inst = db.get(Institution, batch.institution_id)
    seats = {
        row_id(c): (c, s.seat_no)
        for s, c in db.exec(
            select(Seat, Candidate)
            .join(Candidate, col(Candidate.id) == Seat.candidate_id)
            .where(Seat.batch_id == batch.id, Seat.part == session.part, Seat.room_id == room.id)
            .where(col(Seat.sitting).in_(sittings_of(session)))  # a skill room: this sitting's (R-SEAT-1)
        ).all()
    }
    arrivals = {
        a.candidate_id: a
        for a in attendance.admitted(db, row_id(session), [row_id(room)])
        if a.room_id == room.id or (a.room_id is None and a.candidate_id in seats)
    }
    others = set(arrivals) - set(seats)
    people = {cid: c for cid, (c, _) in seats.items()}
    people.update(
        {row_id(c): c for c in db.exec(select(Candidate).where(col(Candidate.id).in_(others))).all()} if others else {}
    )
    moves = list(
        db.exec(
            select(SeatMove)
            .where(SeatMove.session_id == session.id, SeatMove.room_id == room.id)
            .order_by(col(SeatMove.at), col(SeatMove.id))
        ).all()
    )
    seat_now = {cid: no for cid, (_, no) in seats.items()}
    for m in moves:
        seat_now[m.candidate_id] = m.to_seat
    staff = {s.id: s.name for s in proctors_of(db, session, room)}

    def who(cid: int) -> dict[str, Any]:
        c = people[cid]
        return {"candidate_id": cid, "ticket_number": c.ticket_number, "name": c.name, "seat": seat_now.get(cid)}

    expected = [cid for cid, (c, _) in seats.items() if c.status != "withdrawn"]
    absent = sorted((cid for cid in expected if cid not in arrivals), key=lambda cid: people[cid].ticket_number)
    late = sorted((a for a in arrivals.values() if a.late), key=lambda a: a.at)
    incidents = db.exec(
        select(Incident)
        .where(Incident.session_id == session.id, Incident.room_id == room.id)
        .order_by(col(Incident.at), col(Incident.id))
    ).all()
    hand_ins = db.exec(
        select(HandIn)
        .where(HandIn.session_id == session.id, HandIn.room_id == room.id)
        .order_by(col(HandIn.at), col(HandIn.id))
    ).all()
    conflicts = attendance.offline_conflicts(db, row_id(session))
    return {
        "institution": inst.name if inst else "",
        "batch": {
            "id": batch.id,
            "occupation_code": batch.occupation_code,
            "occupation_name": batch.occupation_name,
            "level": batch.level,
        },
        "session": {
            "id": session.id,
            "part": session.part,
            "starts_at": iso(session.starts_at),
            "ends_at": iso(session.ends_at),
        },
        "room": {"code": room.code, "name": room.name, "seats": room.seats},
        "proctors": [{"staff_id": sid, "name": name} for sid, name in staff.items()],
        "expected": len(expected),
        "present": len(arrivals),
        "absent": len(absent),
        "late": len(late),
        "absent_candidates": [who(cid) for cid in absent],
        "late_candidates": [{**who(a.candidate_id), "at": iso(a.at)} for a in late],
        "incidents": [
            {
                **who(i.candidate_id),
                "id": i.id,
                "kind": i.kind,
                "label": rules.INCIDENT_LABELS[i.kind],
                "tier": i.tier,
                "effect": rules.TIER_EFFECTS[i.tier].zh,
                "voided_parts": rules.voided_parts(rules.TIER_EFFECTS[i.tier], session.part, batch.part_list()),
                "description": i.description,
                "at": iso(i.at),
                "photo_blob_id": i.photo_blob_id,
                "recorded_by": staff.get(i.staff_id, ""),
            }
            for i in incidents
        ],
        "seat_moves": [
            {**who(m.candidate_id), "from_seat": m.from_seat, "to_seat": m.to_seat, "reason": m.reason, "at": iso(m.at)}
            for m in moves
        ],
        "hand_ins": [{**who(h.candidate_id), "at": iso(h.at)} for h in hand_ins],
        "offline_conflicts": [who(cid) for cid in conflicts if cid in people],
        "remarks": remarks,
        "produced_at": iso(now),
    }
