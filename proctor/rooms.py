"""Room state from the database (考场实时状态, R-DAY-3): loads the facts of a
session's rooms and hands them to ``proctor.rules.room_state``.

Names are masked here (R-PRIV-1): the live view identifies a candidate by seat
and ticket number, as the list on the door does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlmodel import Session, col, select

from examday.clock import iso
from examday.identity import mask_name
from examday.plans import attendance
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, Candidate, ExamSession, Seat, SessionRoom
from examday.registry.models import Room
from examday.rows import row_id
from proctor import rules
from proctor.models import HandIn, Incident, SeatMove
from proctor.services.video import camera_state_map


def batch_config(batch: Batch) -> BatchConfig:
    return BatchConfig.from_json(batch.config)


def sessions_of(db: Session, batch_id: int) -> list[ExamSession]:
    return list(
        db.exec(
            select(ExamSession)
            .where(ExamSession.batch_id == batch_id)
            .order_by(col(ExamSession.starts_at), col(ExamSession.id))
        ).all()
    )


def current_session(db: Session, batch: Batch, now: datetime) -> ExamSession | None:
    return pick_current(sessions_of(db, row_id(batch)), batch, now)


def pick_current(sessions: list[ExamSession], batch: Batch, now: datetime) -> ExamSession | None:
    opens = timedelta(minutes=batch_config(batch).entry_open_minutes)
    sid = rules.pick_session([(row_id(s), s.starts_at - opens, s.ends_at) for s in sessions], now)
    return next((s for s in sessions if s.id == sid), None)


def session_body(s: ExamSession, batch: Batch) -> dict[str, Any]:
    cfg = batch_config(batch)
    return {
        "id": s.id,
        "part": s.part,
        "starts_at": iso(s.starts_at),
        "ends_at": iso(s.ends_at),
        "cutoff_at": iso(rules.entry_cutoff(s.starts_at, cfg.entry_close_minutes)),
        "handin_from": iso(rules.handin_opens(s.starts_at, cfg.no_handin_minutes)),
    }


# Every event of the live feed reads a room's state (R-DAY-3), so the statements are built once,
# with bound parameters, and run through Core: building a statement and its cache key costs
# more than running it on SQLite.
_rooms: BindParameter[list[int]] = bindparam("rooms", expanding=True)
_SESSION_ROOMS = (
    select(Room.id, Room.code, Room.name, Room.seats, Room.rows, Room.cols)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
    .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
    .where(SessionRoom.session_id == bindparam("session_id"))
    .order_by(Room.code)
)
_SEATS = (
    select(Seat.room_id, Seat.seat_no, Candidate.id, Candidate.name, Candidate.ticket_number, Candidate.status)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
    .join(Candidate, col(Candidate.id) == Seat.candidate_id)
    .where(Seat.batch_id == bindparam("batch_id"), Seat.part == bindparam("part"), col(Seat.room_id).in_(_rooms))
    .where(col(Seat.sitting).in_(bindparam("sittings", expanding=True)))
)
_STRANGERS = select(Candidate.id, Candidate.name, Candidate.ticket_number).where(
    col(Candidate.id).in_(bindparam("ids", expanding=True))
)
_INCIDENTS = (
    select(
        Incident.id,
        Incident.room_id,
        Incident.candidate_id,
        Incident.kind,
        Incident.tier,
        Incident.at,
        Incident.description,
    )  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
    .where(Incident.session_id == bindparam("session_id"), col(Incident.room_id).in_(_rooms))
    .order_by(col(Incident.at), col(Incident.id))
)
_MOVES = (
    select(SeatMove.room_id, SeatMove.candidate_id, SeatMove.to_seat)
    .where(SeatMove.session_id == bindparam("session_id"), col(SeatMove.room_id).in_(_rooms))
    .order_by(col(SeatMove.at), col(SeatMove.id))
)
_HANDINS = select(HandIn.room_id, HandIn.candidate_id, HandIn.at).where(
    HandIn.session_id == bindparam("session_id"), col(HandIn.room_id).in_(_rooms)
)


def sittings_of(session: ExamSession) -> list[int]:
    """The seats' ``sitting`` values a session's rooms hold (R-SEAT-1, issue #15).

    A skill room's stations are drawn once per sitting (场次), so station 5 holds one candidate
    in each: a skill session's rooms list only the candidates drawn for that sitting (and any
    drawn before sittings were, sitting 0). Theory seats are all sitting 0."""
    return [0, row_id(session)] if session.part == "skill" else [0]


# -- cameras ----------------------------------------------------------------------------


def camera_states(
    db: Session, batch_id: int, now: datetime, batch: Batch | None = None, room_codes: Collection[str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """{room_code: [{code, state, reason}]} for every camera of the batch's rooms (or of
    ``room_codes``), as the video hooks report them; "unknown" until a recorder speaks."""
    return camera_state_map(db, batch_id, now, batch, room_codes)


# -- rooms ------------------------------------------------------------------------------


def session_rooms(db: Session, session: ExamSession) -> list[Room]:
    return list(
        db.exec(
            select(Room)
            .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
            .where(SessionRoom.session_id == session.id)
            .order_by(Room.code)
        ).all()
    )


@dataclass
class RoomLoad:
    """One room's facts as read for a session (``rooms_state`` turns them into its state): the
    live feed keeps them between events and reads again only what an event changed."""

    room_id: int
    name: str
    rows: int | None
    cols: int | None
    facts: rules.RoomFacts


def rooms_state(
    db: Session,
    batch: Batch,
    session: ExamSession,
    now: datetime,
    room_codes: Collection[str] | None = None,
    cameras: Mapping[str, list[dict[str, str]]] | None = None,
) -> list[dict[str, Any]]:
    """The state of each room of ``session`` (only ``room_codes`` when given), times as strings."""
    loads = room_facts(db, batch, session, now, room_codes, cameras)
    return [state_of(load, session, now) for load in loads]


def state_of(load: RoomLoad, session: ExamSession, now: datetime, as_json: bool = True) -> dict[str, Any]:
    """One room's state from its facts; times stay datetimes unless ``as_json`` (the feed converts
    only the part an event carries)."""
    state = rules.room_state(load.facts, now)
    state.update(
        {"room_name": load.name, "rows": load.rows, "cols": load.cols, "session_id": session.id, "part": session.part}
    )
    return jsonable(state) if as_json else state


def room_facts(
    db: Session,
    batch: Batch,
    session: ExamSession,
    now: datetime,
    room_codes: Collection[str] | None = None,
    cameras: Mapping[str, list[dict[str, str]]] | None = None,
) -> list[RoomLoad]:
    """What the state of each room of ``session`` (only ``room_codes`` when given) is made of."""
    q = db.connection().execute
    rooms = [r for r in q(_SESSION_ROOMS, {"session_id": session.id}) if room_codes is None or r.code in room_codes]
    if not rooms:
        return []
    ids = [r.id for r in rooms]
    sid = {"session_id": session.id, "rooms": ids}
    cfg = batch_config(batch)
    cutoff = rules.entry_cutoff(session.starts_at, cfg.entry_close_minutes)
    cameras = camera_states(db, row_id(batch), now, batch, room_codes) if cameras is None else cameras

    seated: dict[int, dict[int, rules.SeatFact]] = defaultdict(dict)
    seat_room: dict[int, int] = {}
    withdrawn: set[int] = set()
    for room_id, seat_no, cid, name, ticket, status in q(
        _SEATS, {"batch_id": batch.id, "part": session.part, "rooms": ids, "sittings": sittings_of(session)}
    ):
        seated[room_id][cid] = rules.SeatFact(cid, seat_no, ticket, mask_name(name))
        seat_room[cid] = room_id
        if status == "withdrawn":
            withdrawn.add(cid)
    arrivals = room_arrivals(db, row_id(session), ids, seat_room)
    strangers = [cid for rid, arr in arrivals.items() for cid in arr if cid not in seated[rid]]
    stranger_facts = (
        {
            cid: rules.SeatFact(cid, None, ticket, mask_name(name))
            for cid, name, ticket in q(_STRANGERS, {"ids": strangers})
        }
        if strangers
        else {}
    )
    incidents: dict[int, list[rules.IncidentFact]] = defaultdict(list)
    for iid, room_id, cid, kind, tier, at, description in q(_INCIDENTS, sid):
        incidents[room_id].append(rules.IncidentFact(iid, cid, kind, tier, at, description or ""))
    moved: dict[int, dict[int, int]] = defaultdict(dict)
    for room_id, cid, to_seat in q(_MOVES, sid):
        moved[room_id][cid] = to_seat
    handed: dict[int, dict[int, datetime]] = defaultdict(dict)
    for room_id, cid, at in q(_HANDINS, sid):
        handed[room_id][cid] = at
    conflicts: dict[int, list[int]] = defaultdict(list)
    for cid in attendance.offline_conflicts(db, row_id(session), unresolved_only=True):
        room_id = next((rid for rid, arr in arrivals.items() if cid in arr), seat_room.get(cid))
        if room_id is not None and room_id in ids:
            conflicts[room_id].append(cid)

    out = []
    for r in rooms:
        facts = rules.RoomFacts(
            room_code=r.code,
            capacity=r.seats,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            cutoff_at=cutoff,
            seats=list(seated[r.id].values()),
            arrivals=arrivals[r.id],
            incidents=incidents[r.id],
            moved_to=moved[r.id],
            handed_in=handed[r.id],
            withdrawn=frozenset(withdrawn),
            cameras=cameras.get(r.code, []),
            conflicts=conflicts[r.id],
            strangers={cid: stranger_facts[cid] for cid in arrivals[r.id] if cid in stranger_facts},
        )
        out.append(RoomLoad(r.id, r.name, r.rows, r.cols, facts))
    return out


def room_arrivals(
    db: Session, session_id: int, room_ids: list[int], seat_room: Mapping[int, int]
) -> dict[int, dict[int, rules.Arrival]]:
    """{room id: {candidate: arrival}}: who came into each of ``room_ids``, a check-in that names
    no room counting in the candidate's seat's room (``seat_room``)."""
    arrivals: dict[int, dict[int, rules.Arrival]] = defaultdict(dict)
    # Only the rooms asked for: an event reads one room, not the whole morning's arrivals.
    for cid, a_room, at, late in attendance.admitted(db, session_id, room_ids):
        room_id = a_room or seat_room.get(cid)
        if room_id is not None and room_id in room_ids:
            arrivals[room_id][cid] = rules.Arrival(cid, at, late)
    return arrivals


def room_state(db: Session, batch: Batch, session: ExamSession, room_code: str, now: datetime) -> dict | None:
    found = rooms_state(db, batch, session, now, {room_code})
    return found[0] if found else None


def jsonable(value: Any) -> Any:
    """Times as China time ISO strings, the way the contract shows them."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value
