"""Recorded seat moves (调整座位): a theory room dropped on the day (停用考场) and a
single candidate moved off a broken desk.

R-DAY-2 / R-SEAT-1: a candidate sits only at the seat on their ticket, so once
seats are allocated nobody moves but those affected; each move is a SeatChange
row (who, when, why, from where to where) and on the audit chain, and the
answer names the tickets to reprint and the rooms whose papers changed. After
tickets are out these are the only ways a seat changes (issue #15).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict, not_found
from examday.plans.access import batch_for_write
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, Seat, SeatingRun
from examday.plans.seating import Allocation, Move, relocate
from examday.plans.seating_models import RoomDrop, SeatChange
from examday.plans.services.seating import (
    ensure_open,
    groups_of,
    latest_run,
    new_seed,
    part_rooms,
    room_spec,
    seats_now,
    theory_rooms,
)
from examday.registry.models import Room
from examday.rows import row_id


def _reason(reason: str | None, what_zh: str, what_en: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise Refusal("reason_required", f"请填写{what_zh}的原因", f"Give the reason {what_en}.", "R-SEAT-1", 422)
    return text[:500]


def _seated_run(db: Session, batch: Batch, now: datetime) -> SeatingRun:
    assert batch.id is not None
    ensure_open(db, batch, now, "theory")
    run = latest_run(db, batch.id)
    if run is None:
        raise conflict("not_seated", "尚未编排座位", "Seats have not been allocated yet.", "R-DAY-2")
    return run


def record_moves(
    db: Session,
    actor: Actor,
    now: datetime,
    batch: Batch,
    run: SeatingRun,
    rooms: list[Room],
    moves: list[Move],
    reason: str,
    drop_id: int | None = None,
) -> list[dict[str, Any]]:
    """Apply the moves (each to a free seat) with one SeatChange each; returns them as the API shows them."""
    assert batch.id is not None
    if not moves:
        return []
    room_id = {r.code: row_id(r) for r in rooms}
    ids = [m[0] for m in moves]
    seat_rows = {
        s.candidate_id: s
        for s in db.exec(
            select(Seat).where(Seat.batch_id == batch.id, Seat.part == "theory", col(Seat.candidate_id).in_(ids))
        ).all()
    }
    tickets = dict(db.exec(select(Candidate.id, Candidate.ticket_number).where(col(Candidate.id).in_(ids))).all())
    out: list[dict[str, Any]] = []
    for cid, (from_code, from_no), (to_code, to_no) in moves:
        seat = seat_rows[cid]
        seat.room_id, seat.seat_no = room_id[to_code], to_no
        db.add(seat)
        db.add(
            SeatChange(
                batch_id=batch.id,
                part="theory",
                candidate_id=cid,
                run_id=run.id,
                drop_id=drop_id,
                from_room_id=room_id[from_code],
                from_seat=from_no,
                to_room_id=room_id[to_code],
                to_seat=to_no,
                reason=reason,
                at=now,
                account_id=actor.account_id,
            )
        )
        out.append(
            {
                "candidate_id": cid,
                "ticket_number": tickets[cid],
                "from": {"room_code": from_code, "seat": from_no},
                "to": {"room_code": to_code, "seat": to_no},
            }
        )
    db.flush()
    return out


def reprint(moves: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What goes to the printer again: the moved candidates' tickets and both rooms' papers."""
    rooms = {m["from"]["room_code"] for m in moves} | {m["to"]["room_code"] for m in moves}
    return {"tickets": sorted(m["ticket_number"] for m in moves), "rooms": sorted(rooms)}


def _audit_moves(out: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [m["candidate_id"], [m["from"]["room_code"], m["from"]["seat"]], [m["to"]["room_code"], m["to"]["seat"]]]
        for m in out
    ]


# -- a room dropped on the day -------------------------------------------------------------


def drop_room(
    db: Session, actor: Actor, now: datetime, batch_id: int, room_code: str, reason: str | None, seed: int | None = None
) -> dict[str, Any]:
    """Take a theory room out of use and move its candidates to free seats elsewhere (R-DAY-2, R-SEAT-1).

    Nobody else moves; each move is a SeatChange row and on the audit chain.
    """
    batch = batch_for_write(db, actor, batch_id)
    assert batch.id is not None
    reason = _reason(reason, "停用考场", "the room is dropped")
    run = _seated_run(db, batch, now)
    rooms = theory_rooms(db, batch.id)
    room = next((r for r in rooms if r.code == room_code), None)
    if room is None:
        if any(r.code == room_code for r in part_rooms(db, batch.id, "theory")):
            raise conflict(
                "room_already_dropped",
                "该考场已停用",
                f"Room {room_code} is already dropped.",
                "R-DAY-2",
                room_code=room_code,
            )
        raise not_found("theory room of this batch")
    assert room.id is not None
    seed = new_seed(seed)
    kept_free = json.loads(run.blocked or "{}")
    limit = BatchConfig.from_json(batch.config).max_per_theory_room
    specs = [room_spec(r, kept_free.get(r.code, []), limit) for r in rooms]
    before = seats_now(db, batch.id)
    cands = db.exec(select(Candidate).where(col(Candidate.id).in_(list(before)))).all() if before else []
    current = Allocation(before, 0, run.seed, {row_id(c): groups_of(c) for c in cands})
    try:
        after, moves = relocate(current, specs, room.code, seed)
    except ValueError:
        # A seat no longer fits its room (the room was changed in the registry): allocate afresh.
        raise conflict(
            "seating_out_of_date",
            "座位与考场现状不符，请重新编排座位",
            "The seats no longer match the rooms; allocate again.",
            "R-DAY-2",
        ) from None
    drop = RoomDrop(
        batch_id=batch.id,
        room_id=room.id,
        reason=reason,
        seed=seed,
        moved=len(moves),
        adjacent_pairs=after.adjacent_pairs,
        at=now,
        account_id=actor.account_id,
    )
    db.add(drop)
    db.flush()
    out = record_moves(db, actor, now, batch, run, rooms, moves, reason, drop.id)
    audit.record(
        db,
        actor,
        "seating.room_drop",
        "room_drop",
        drop.id,
        {
            "batch_id": batch.id,
            "room_code": room.code,
            "reason": reason,
            "seed": seed,
            "run_id": run.id,
            "moves": _audit_moves(out),
            "adjacent_pairs": after.adjacent_pairs,
        },
        now,
        batch.institution_id,
    )
    return {
        "drop_id": drop.id,
        "batch_id": batch.id,
        "room_code": room.code,
        "reason": reason,
        "seed": seed,
        "moved": len(out),
        "adjacent_pairs": after.adjacent_pairs,
        "moves": out,
        "reprint": reprint(out),
    }


# -- one candidate moved (a broken desk) -----------------------------------------------------------


def _bad_target(reason: str, zh: str, en: str, **detail: Any) -> Refusal:
    return Refusal("invalid_seat_move", zh, en, "R-SEAT-1", 422, {"reason": reason, **detail})


def move_seat(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    ticket_number: str,
    room_code: str,
    seat_no: int,
    reason: str | None,
) -> dict[str, Any]:
    """Move one seated candidate to a free seat of a theory room in use (R-DAY-2, R-SEAT-1).

    The seat must exist, be free and not kept free, and a move into another room keeps
    that room within its per-room limit. Nobody else moves.
    """
    batch = batch_for_write(db, actor, batch_id)
    assert batch.id is not None
    reason = _reason(reason, "调整座位", "the seat changes")
    run = _seated_run(db, batch, now)
    cand = db.exec(
        select(Candidate).where(Candidate.batch_id == batch.id, Candidate.ticket_number == ticket_number.strip())
    ).first()
    seats = seats_now(db, batch.id)
    if cand is None or cand.id not in seats:
        raise not_found("seated candidate of this batch")
    rooms = theory_rooms(db, batch.id)
    room = next((r for r in rooms if r.code == room_code), None)
    if room is None:
        raise _bad_target(
            "no_such_room", "目标考场不在本批次使用中", f"Room {room_code} is not in use.", room_code=room_code
        )
    if isinstance(seat_no, bool) or not isinstance(seat_no, int) or not 1 <= seat_no <= (room.seats or 0):
        raise _bad_target("no_such_seat", "座位号不存在", f"Room {room.code} has no seat {seat_no}.", seat=seat_no)
    kept_free = json.loads(run.blocked or "{}").get(room.code, [])
    taken = {place: cid for cid, place in seats.items()}
    if seat_no in kept_free or (room.code, seat_no) in taken:
        holder = taken.get((room.code, seat_no))
        raise _bad_target(
            "seat_taken",
            "该座位已有考生或已停用",
            f"Seat {room.code}-{seat_no} is taken or kept free.",
            seat=seat_no,
            kept_free=seat_no in kept_free,
            taken=holder is not None,
        )
    here = seats[cand.id]
    limit = BatchConfig.from_json(batch.config).max_per_theory_room
    filled = sum(1 for code, _ in seats.values() if code == room.code)
    if here[0] != room.code and filled >= limit:  # R-SEAT-1, as filed
        raise _bad_target(
            "room_full", "该考场已达人数上限", f"Room {room.code} holds its limit of {limit}.", limit=limit
        )
    out = record_moves(db, actor, now, batch, run, rooms, [(cand.id, here, (room.code, seat_no))], reason)
    audit.record(
        db,
        actor,
        "seating.move",
        "seat",
        cand.id,
        {"batch_id": batch.id, "reason": reason, "run_id": run.id, "moves": _audit_moves(out)},
        now,
        batch.institution_id,
    )
    return {"batch_id": batch.id, "reason": reason, "moved": 1, "moves": out, "reprint": reprint(out)}
