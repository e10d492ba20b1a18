"""Seating a batch (座位编排): theory seats over the batch's rooms, and what the
other seating services share. A room dropped on the day and a single seat
change are in ``seating_moves``, skill workstations drawn by lot (工位抽签) per
sitting in ``seating_stations``, the office page's view in ``seating_overview``.

R-DAY-2: a room never holds more candidates than its seats. R-SEAT-1: one
candidate per desk, at most ``max_per_theory_room`` (the filed config) per
room, seats can be kept free, workstations drawn by lot; every run keeps its
seed (SeatingRun) so a supervisor can re-derive it. R-SITE-1: two theory rooms
or more. Allocation is part of the preparation after filing: allowed on a
draft or filed plan, refused once the part has started or the batch has moved
on to publicity or the lock. Once tickets are out (printed), the seats on them
are frozen: a whole re-allocation or a new draw is refused, and only recorded
moves change a seat (issue #15).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from examday import audit
from examday.access import reader_view
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict
from examday.plans.access import batch_for_write
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SeatingRun, SessionRoom, Ticket
from examday.plans.seating import RoomSpec, Sitter, allocate
from examday.plans.seating_models import RoomDrop, SeatChange
from examday.registry.models import Room
from examday.rows import row_id

MAX_SEED = 2**31 - 1  # SeatingRun.seed is a 32-bit integer column on PostgreSQL
OPEN_STATUSES = ("draft", "filed")


# -- loading -----------------------------------------------------------------------


def part_rooms(db: Session, batch_id: int, part: str) -> list[Room]:
    """The rooms of the batch's sessions of one part, each once, by code."""
    rooms = db.exec(
        select(Room)
        .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
        .join(ExamSession, col(ExamSession.id) == SessionRoom.session_id)
        .where(ExamSession.batch_id == batch_id, ExamSession.part == part)
    ).all()
    return sorted({r.id: r for r in rooms}.values(), key=lambda r: r.code)


def drops_of(db: Session, batch_id: int) -> dict[int, RoomDrop]:
    return {d.room_id: d for d in db.exec(select(RoomDrop).where(RoomDrop.batch_id == batch_id)).all()}


def theory_rooms(db: Session, batch_id: int) -> list[Room]:
    """The theory rooms still in use: those dropped on the day are left out of every later allocation."""
    dropped = drops_of(db, batch_id)
    return [r for r in part_rooms(db, batch_id, "theory") if r.id not in dropped]


def latest_run(db: Session, batch_id: int, part: str = "theory") -> SeatingRun | None:
    return db.exec(
        select(SeatingRun)
        .where(SeatingRun.batch_id == batch_id, SeatingRun.part == part)
        .order_by(col(SeatingRun.id).desc())
    ).first()


def sitting_candidates(db: Session, batch_id: int) -> list[Candidate]:
    """Who gets a seat: registered candidates not found ineligible (R-PLAN-4)."""
    return list(
        db.exec(
            select(Candidate)
            .where(
                Candidate.batch_id == batch_id, Candidate.status == "registered", Candidate.eligibility != "ineligible"
            )
            .order_by(col(Candidate.id))
        ).all()
    )


def groups_of(c: Candidate) -> frozenset[str]:
    """Employer and training organisation: candidates sharing either are kept apart."""
    return frozenset(g for g in (c.employer, c.training_org) if g and g.strip())


def layout(room: Room) -> tuple[int, int]:
    """Rows and columns; a room filed without them is taken as a near-square grid."""
    if room.rows and room.cols:
        return room.rows, room.cols
    cols = max(1, math.ceil(math.sqrt(room.seats or 1)))
    return max(1, math.ceil((room.seats or 1) / cols)), cols


def room_spec(room: Room, blocked: list[int] | tuple[int, ...], limit: int | None) -> RoomSpec:
    rows, cols = layout(room)
    return RoomSpec(room.code, room.seats or 0, rows, cols, frozenset(blocked), limit)


def seats_now(db: Session, batch_id: int, part: str = "theory") -> dict[int, tuple[str, int]]:
    rows = db.exec(
        select(Seat.candidate_id, Room.code, Seat.seat_no)
        .join(Room, col(Room.id) == Seat.room_id)
        .where(Seat.batch_id == batch_id, Seat.part == part)
    ).all()
    return {cid: (code, no) for cid, code, no in rows}


def _first_start(db: Session, batch_id: int, part: str) -> datetime | None:
    return db.exec(
        select(ExamSession.starts_at)
        .where(ExamSession.batch_id == batch_id, ExamSession.part == part)
        .order_by(col(ExamSession.starts_at))
    ).first()


def ensure_open(db: Session, batch: Batch, now: datetime, part: str) -> None:
    """Seats change only while the plan is prepared and the part has not begun (R-SEAT-1)."""
    assert batch.id is not None
    if batch.status not in OPEN_STATUSES:
        raise conflict(
            "seating_closed",
            "该批次已进入公示或已锁定，座位不能再编排或调整",
            "This batch is past its exam; seats can no longer be allocated or moved.",
            "R-SEAT-1",
            status=batch.status,
        )
    start = _first_start(db, batch.id, part)
    if start is not None and now >= start:
        # A candidate sits only at the seat on the ticket; once the part runs, only proctors move people.
        raise conflict(
            "exam_started",
            "考试已开始，不能再编排或调整座位",
            f"The {part} part has started; seats can no longer be allocated or moved here.",
            "R-SEAT-1",
            part=part,
            starts_at=iso(start),
        )


def tickets_out(db: Session, batch_id: int) -> int:
    """How many of the batch's tickets were drawn for printing (current or since reissued)."""
    return len(
        db.exec(
            select(Ticket.id)
            .join(Candidate, col(Candidate.id) == Ticket.candidate_id)
            .where(Candidate.batch_id == batch_id, col(Ticket.printed_at).is_not(None))
        ).all()
    )


def ensure_not_out(db: Session, batch: Batch, part: str) -> None:
    """R-SEAT-1: a candidate sits only at the seat on their ticket, so once tickets are out nothing
    re-seats the whole batch (or draws the stations again): a broken seat or a room lost is a
    recorded move of those affected."""
    assert batch.id is not None
    if latest_run(db, batch.id, part) is None:
        return  # the first allocation (or draw) puts on the tickets what they did not say yet
    printed = tickets_out(db, batch.id)
    if printed:
        raise conflict(
            "tickets_out",
            "准考证已打印发出，不能再重新编排全部座位或重新抽签；请逐个调整座位或停用考场",
            f"Tickets are out ({printed} printed): the {part} places can no longer be allocated or drawn again. "
            "Move single candidates or drop a room instead.",
            "R-SEAT-1",
            part=part,
            printed=printed,
        )


def new_seed(seed: Any) -> int:
    if seed is None:
        return secrets.randbelow(MAX_SEED + 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise Refusal(
            "invalid_seed",
            f"随机种子应为 0 至 {MAX_SEED} 的整数",
            f"The seed is a whole number from 0 to {MAX_SEED}.",
            "R-SEAT-1",
            422,
            {"seed": seed},
        )
    return seed


def _blocked(blocked: dict[str, list[int]] | None, rooms: list[Room]) -> dict[str, list[int]]:
    """Seats kept free (a broken desk) per room code, checked against the rooms in use."""
    by_code = {r.code: r for r in rooms}
    errors: list[dict[str, Any]] = []
    out: dict[str, list[int]] = {r.code: [] for r in rooms}
    for code, seats in (blocked or {}).items():
        room = by_code.get(code)
        if room is None:
            errors.append({"room_code": code, "reason": "not_a_theory_room_of_this_batch"})
            continue
        if not isinstance(seats, list) or any(isinstance(s, bool) or not isinstance(s, int) for s in seats):
            errors.append({"room_code": code, "reason": "seats_are_whole_numbers"})
            continue
        bad = sorted({s for s in seats if not 1 <= s <= (room.seats or 0)})
        if bad:
            errors.append({"room_code": code, "reason": "no_such_seat", "seats": bad})
            continue
        out[code] = sorted(set(seats))
    if errors:
        raise Refusal(
            "invalid_blocked",
            "停用座位有误",
            "Some seats to keep free are not valid.",
            "R-SEAT-1",
            422,
            {"errors": errors},
        )
    return out


def digest(seats: dict[int, tuple[str, int]]) -> str:
    return hashlib.sha256(audit.canonical(sorted([c, r, s] for c, (r, s) in seats.items())).encode()).hexdigest()


# -- theory seats ----------------------------------------------------------------------


def allocate_batch(
    db: Session,
    actor: Actor,
    batch: Batch,
    seed: int | None,
    now: datetime,
    blocked: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    """Seat every sitting candidate over the theory rooms; replaces the batch's theory seats.

    The caller has checked that ``actor`` may change the batch (``batch_for_write``).
    """
    assert batch.id is not None
    ensure_open(db, batch, now, "theory")
    ensure_not_out(db, batch, "theory")
    seed = new_seed(seed)
    rooms = theory_rooms(db, batch.id)
    kept_free = _blocked(blocked, rooms)
    limit = BatchConfig.from_json(batch.config).max_per_theory_room  # R-SEAT-1, as filed
    specs = [room_spec(r, kept_free[r.code], limit) for r in rooms]
    people = sitting_candidates(db, batch.id)
    # R-DAY-2, R-SEAT-1, R-SITE-1 are enforced inside; a refusal there writes nothing.
    result = allocate([Sitter(row_id(c), groups_of(c)) for c in people], specs, seed)
    previous = latest_run(db, batch.id)
    db.execute(delete(Seat).where(col(Seat.batch_id) == batch.id, col(Seat.part) == "theory"))
    room_id = {r.code: row_id(r) for r in rooms}
    db.add_all(
        [
            Seat(batch_id=batch.id, part="theory", candidate_id=cid, room_id=room_id[code], seat_no=no)
            for cid, (code, no) in result.seats.items()
        ]
    )
    run = SeatingRun(
        batch_id=batch.id,
        part="theory",
        seed=seed,
        adjacent_pairs=result.adjacent_pairs,
        blocked=json.dumps(kept_free, sort_keys=True),
        created_at=now,
        created_by=actor.account_id,
    )
    db.add(run)
    db.flush()
    filled = {r.code: 0 for r in rooms}
    for code, _ in result.seats.values():
        filled[code] += 1
    audit.record(
        db,
        actor,
        "seating.allocate",
        "seating_run",
        run.id,
        {
            "batch_id": batch.id,
            "seed": seed,
            "blocked": kept_free,
            "limit": limit,
            "rooms": {
                s.code: {"seats": s.seats, "rows": s.rows, "cols": s.cols, "filled": filled[s.code]} for s in specs
            },
            "candidates": len(people),
            "adjacent_pairs": result.adjacent_pairs,
            "seats_sha256": digest(result.seats),
            "replaces_run": previous.id if previous else None,
        },
        now,
        batch.institution_id,
    )
    tickets = {c.id: c.ticket_number for c in people}
    return {
        "run_id": run.id,
        "batch_id": batch.id,
        "seed": seed,
        "adjacent_pairs": result.adjacent_pairs,
        "blocked": kept_free,
        "limit": limit,
        "rooms": [
            {"room_code": s.code, "seats": s.seats, "free": s.seats - len(s.blocked), "filled": filled[s.code]}
            for s in specs
        ],
        "seats": [
            {"candidate_id": cid, "ticket_number": tickets[cid], "room_code": code, "seat": no}
            for cid, (code, no) in sorted(result.seats.items(), key=lambda kv: kv[1])
        ],
    }


def run_seating(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    seed: int | None,
    blocked: dict[str, list[int]] | None,
    secret_key: str,
) -> dict[str, Any]:
    """POST seating: allocate, then issue a ticket to everyone who has none (R-DAY-1)."""
    from examday.plans.tickets import issue_batch_tickets

    batch = batch_for_write(db, actor, batch_id)
    body = allocate_batch(db, actor, batch, seed, now, blocked)
    body["tickets_issued"] = issue_batch_tickets(db, actor, batch, secret_key, now)
    return body


def list_seating(db: Session, actor: Actor, batch_id: int, part: str = "theory") -> list[dict[str, Any]]:
    """Who sits where; a proctor gets their own rooms' seats only (R-DAY-3, issue #14 finding 9)."""
    view = reader_view(db, actor, batch_id)
    batch = view.batch
    rows = db.exec(
        select(Seat.candidate_id, Candidate.ticket_number, Room.code, Seat.seat_no, Seat.sitting)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .join(Candidate, col(Candidate.id) == Seat.candidate_id)
        .join(Room, col(Room.id) == Seat.room_id)
        .where(Seat.batch_id == batch.id, Seat.part == part)
        .order_by(col(Seat.sitting), Room.code, col(Seat.seat_no))
    ).all()
    # A skill station names its sitting (the session id, issue #15); a theory seat has none.
    return [
        {"candidate_id": cid, "ticket_number": t, "room_code": code, "seat": no}
        | ({"session_id": sitting} if sitting else {})
        for cid, t, code, no, sitting in rows
        if view.sees(code)
    ]


# -- reading the state back -----------------------------------------------------------------


def rederive(db: Session, batch: Batch) -> dict[str, Any] | None:
    """Run the latest theory allocation again from its seed: does it give the seats it gave then?

    The seats it gave are today's seats with the later room-drop moves undone.
    """
    assert batch.id is not None
    run = latest_run(db, batch.id)
    if run is None:
        return None
    kept_free = json.loads(run.blocked or "{}")
    rooms = [r for r in part_rooms(db, batch.id, "theory") if r.code in kept_free]
    original = seats_now(db, batch.id)
    code_of = {r.id: r.code for r in rooms}
    for ch in db.exec(select(SeatChange).where(SeatChange.run_id == run.id).order_by(col(SeatChange.id).desc())).all():
        original[ch.candidate_id] = (code_of.get(ch.from_room_id, "?"), ch.from_seat)
    cands = db.exec(select(Candidate).where(col(Candidate.id).in_(list(original)))).all() if original else []
    limit = BatchConfig.from_json(batch.config).max_per_theory_room
    try:
        again = allocate(
            [Sitter(row_id(c), groups_of(c)) for c in cands],
            [room_spec(r, kept_free.get(r.code, []), limit) for r in rooms],
            run.seed,
        )
        matches = again.seats == original
    except Refusal:
        matches = False
    return {"run_id": run.id, "seed": run.seed, "matches": matches}
