"""Skill workstations drawn by lot (工位抽签), per sitting (场次).

R-SEAT-1: skill workstations are drawn by lot and not swapped. A skill part
held in several sittings draws each candidate one sitting and one station of
that sitting's rooms (a room's station 5 holds one candidate per sitting), so
a batch of 90 fits three sittings of 30 stations. The run keeps its seed
(SeatingRun) like a theory allocation; once tickets are out (they name the
sitting and the station), the draw is not run again (issue #15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal
from examday.plans.access import batch_for_write
from examday.plans.models import ExamSession, Seat, SeatingRun, SessionRoom
from examday.plans.seating_draw import draw_sittings
from examday.plans.services.seating import (
    digest,
    ensure_not_out,
    ensure_open,
    latest_run,
    new_seed,
    sitting_candidates,
)
from examday.registry.models import Room
from examday.rows import row_id


@dataclass(frozen=True)
class Sitting:
    session: ExamSession
    rooms: list[Room]

    @property
    def stations(self) -> int:
        return sum(r.seats or 0 for r in self.rooms)

    def head(self) -> dict[str, Any]:
        return {
            "session_id": self.session.id,
            "starts_at": iso(self.session.starts_at),
            "ends_at": iso(self.session.ends_at),
            "rooms": [r.code for r in self.rooms],
            "stations": self.stations,
        }


def skill_sittings(db: Session, batch_id: int) -> list[Sitting]:
    """The batch's skill sittings in time order, each with its rooms by code."""
    sessions = db.exec(
        select(ExamSession)
        .where(ExamSession.batch_id == batch_id, ExamSession.part == "skill")
        .order_by(col(ExamSession.starts_at), col(ExamSession.id))
    ).all()
    out = []
    for s in sessions:
        rooms = db.exec(
            select(Room).join(SessionRoom, col(SessionRoom.room_id) == Room.id).where(SessionRoom.session_id == s.id)
        ).all()
        out.append(Sitting(s, sorted(rooms, key=lambda r: r.code)))
    return out


def draw_batch_stations(
    db: Session, actor: Actor, now: datetime, batch_id: int, seed: int | None = None
) -> dict[str, Any]:
    """Each candidate's skill sitting and workstation drawn by lot, recorded with the seed (R-SEAT-1)."""
    batch = batch_for_write(db, actor, batch_id)
    assert batch.id is not None
    if "skill" not in batch.part_list():
        raise Refusal("no_skill_part", "该批次没有技能操作考核", "This batch has no skill part.", "R-PLAN-3", 422)
    ensure_open(db, batch, now, "skill")
    ensure_not_out(db, batch, "skill")
    seed = new_seed(seed)
    sittings = skill_sittings(db, batch.id)
    # One label per workstation and sitting; the lot shuffles labels, so they need only be unique and stable.
    labels = [{f"{r.code}\x1f{n:04d}": (r, n) for r in s.rooms for n in range(1, (r.seats or 0) + 1)} for s in sittings]
    people = sitting_candidates(db, batch.id)
    drawn = draw_sittings([row_id(c) for c in people], [list(x) for x in labels], seed)  # refuses too few
    previous = latest_run(db, batch.id, "skill")
    db.execute(delete(Seat).where(col(Seat.batch_id) == batch.id, col(Seat.part) == "skill"))
    places = {cid: (i, *labels[i][label]) for cid, (i, label) in drawn.items()}
    db.add_all(
        [
            Seat(
                batch_id=batch.id,
                part="skill",
                sitting=row_id(sittings[i].session),
                candidate_id=cid,
                room_id=row_id(room),
                seat_no=no,
            )
            for cid, (i, room, no) in places.items()
        ]
    )
    run = SeatingRun(
        batch_id=batch.id,
        part="skill",
        seed=seed,
        adjacent_pairs=0,
        blocked="{}",
        created_at=now,
        created_by=actor.account_id,
    )
    db.add(run)
    db.flush()
    heads = [s.head() | {"candidates": sum(1 for i, _, _ in places.values() if i == k)} for k, s in enumerate(sittings)]
    audit.record(
        db,
        actor,
        "seating.stations",
        "seating_run",
        run.id,
        {
            "batch_id": batch.id,
            "seed": seed,
            "sittings": [{k: h[k] for k in ("session_id", "rooms", "stations", "candidates")} for h in heads],
            "candidates": len(people),
            "stations_sha256": digest({cid: (f"{i}:{room.code}", no) for cid, (i, room, no) in places.items()}),
            "replaces_run": previous.id if previous else None,
        },
        now,
        batch.institution_id,
    )
    tickets = {c.id: c.ticket_number for c in people}
    rows = sorted(places.items(), key=lambda kv: (kv[1][0], kv[1][1].code, kv[1][2]))
    return {
        "run_id": run.id,
        "batch_id": batch.id,
        "seed": seed,
        "sittings": heads,
        "stations": [
            {
                "candidate_id": cid,
                "ticket_number": tickets[cid],
                "room_code": room.code,
                "seat": no,
                "session_id": heads[i]["session_id"],
                "starts_at": heads[i]["starts_at"],
            }
            for cid, (i, room, no) in rows
        ],
    }
