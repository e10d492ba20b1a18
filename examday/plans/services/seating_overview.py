"""The exam office's seating page (座位编排): each room's fill, the pairs left, the
runs, the skill sittings, and what changed since seats were allocated.

Issue #15, R-SEAT-1: once tickets are out the page offers no re-allocation, and
it lists every recorded move (who, from where to where, why, when) with the
tickets and room papers to print again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, func, select

from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal
from examday.plans.access import batch_for_read
from examday.plans.config import BatchConfig
from examday.plans.models import Candidate, Seat, Ticket
from examday.plans.seating import count_adjacent_pairs
from examday.plans.seating_models import SeatChange
from examday.plans.services.seating import (
    drops_of,
    groups_of,
    latest_run,
    part_rooms,
    room_spec,
    seats_now,
    sitting_candidates,
    theory_rooms,
    tickets_out,
)
from examday.plans.services.seating_stations import skill_sittings
from examday.rows import row_id


def changes(db: Session, batch_id: int) -> list[dict[str, Any]]:
    """Every recorded seat move of the batch, newest first, and whether its ticket was printed since."""
    code_of = {r.id: r.code for r in part_rooms(db, batch_id, "theory")}
    rows = db.exec(
        select(SeatChange, Candidate.ticket_number)
        .join(Candidate, col(Candidate.id) == SeatChange.candidate_id)
        .where(SeatChange.batch_id == batch_id)
        .order_by(col(SeatChange.id).desc())
    ).all()
    printed = dict(
        db.exec(
            select(Ticket.candidate_id, func.max(Ticket.printed_at))
            .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
            .where(Candidate.batch_id == batch_id, col(Ticket.revoked_at).is_(None))
            .group_by(col(Ticket.candidate_id))
        ).all()
    )
    out = []
    for ch, ticket_number in rows:
        last = printed.get(ch.candidate_id)
        out.append(
            {
                "candidate_id": ch.candidate_id,
                "ticket_number": ticket_number,
                "from": {"room_code": code_of.get(ch.from_room_id), "seat": ch.from_seat},
                "to": {"room_code": code_of.get(ch.to_room_id), "seat": ch.to_seat},
                "reason": ch.reason,
                "room_drop": ch.drop_id is not None,
                "at": iso(ch.at),
                "reprinted": last is not None and last >= ch.at,
            }
        )
    return out


def to_reprint(moves: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Tickets whose seat changed after they were last printed, and the rooms those moves touched."""
    due = [m for m in moves if not m["reprinted"]]
    rooms = {m["from"]["room_code"] for m in due} | {m["to"]["room_code"] for m in due}
    return {"tickets": sorted({m["ticket_number"] for m in due}), "rooms": sorted(r for r in rooms if r)}


def seating_overview(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    """What the exam office's seating page shows: each room's fill, pairs left, runs and drops."""
    batch = batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    run, stations_run = latest_run(db, batch.id), latest_run(db, batch.id, "skill")
    dropped = drops_of(db, batch.id)
    kept_free = json.loads(run.blocked) if run else {}
    limit = BatchConfig.from_json(batch.config).max_per_theory_room
    seats = seats_now(db, batch.id)
    filled: dict[str, int] = {}
    for code, _ in seats.values():
        filled[code] = filled.get(code, 0) + 1
    rooms = []
    all_theory = part_rooms(db, batch.id, "theory")
    for r in all_theory:
        assert r.id is not None
        d = dropped.get(r.id)
        rooms.append(
            {
                "room_code": r.code,
                "name": r.name,
                "seats": r.seats,
                "kept_free": kept_free.get(r.code, []),
                "capacity": min(limit, (r.seats or 0) - len(kept_free.get(r.code, []))),
                "filled": filled.get(r.code, 0),
                "dropped": d is not None,
                "drop_reason": d.reason if d else None,
            }
        )
    pairs = None
    if seats:
        cands = db.exec(select(Candidate).where(col(Candidate.id).in_(list(seats)))).all()
        in_use = [room_spec(r, kept_free.get(r.code, []), limit) for r in theory_rooms(db, batch.id)]
        try:
            pairs = count_adjacent_pairs(seats, {row_id(c): groups_of(c) for c in cands}, in_use)
        except (KeyError, Refusal):
            pairs = None  # a seat outside today's rooms: the page says "re-run"
    skill = part_rooms(db, batch.id, "skill")
    code_of = {r.id: r.code for r in all_theory}
    moved = changes(db, batch.id)
    per_sitting: dict[int, int] = {}
    for sitting in db.exec(select(Seat.sitting).where(Seat.batch_id == batch.id, Seat.part == "skill")).all():
        per_sitting[sitting] = per_sitting.get(sitting, 0) + 1
    printed = tickets_out(db, batch.id)
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "limit": limit,
        "rooms": rooms,
        "skill_rooms": [{"room_code": r.code, "name": r.name, "stations": r.seats} for r in skill],
        "to_seat": len(sitting_candidates(db, batch.id)),
        "seated": len(seats),
        "adjacent_pairs": pairs,
        "run": {"id": run.id, "seed": run.seed, "at": iso(run.created_at), "adjacent_pairs": run.adjacent_pairs}
        if run
        else None,
        "stations_run": {"id": stations_run.id, "seed": stations_run.seed, "at": iso(stations_run.created_at)}
        if stations_run
        else None,
        "tickets_out": printed,
        "frozen": printed > 0,
        "sittings": [
            s.head() | {"candidates": per_sitting.get(row_id(s.session), 0)} for s in skill_sittings(db, batch.id)
        ],
        "changes": moved,
        "reprint": to_reprint(moved),
        "drops": [
            {"room_code": code_of.get(d.room_id), "reason": d.reason, "moved": d.moved, "at": iso(d.at)}
            for d in sorted(dropped.values(), key=row_id)
        ],
    }
