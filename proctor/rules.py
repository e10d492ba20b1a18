"""The live room view's rules (考场实时状态), as pure functions over plain facts.

* R-DAY-3 — each room's status: expected, present, late, absent, incidents,
  cameras. Absence is decided by the clock: after the entry cutoff (start +
  ``entry_close_minutes``, R-TIME-1) a registered candidate who is not present
  is absent, with nobody having to mark it.
* R-DAY-2 — a room never holds more candidates than its seats: more present
  than seats raises an alert.
* R-DISC-1 — incident tiers (违纪处理): (a) that part's score is void; (b) that
  part is treated as cheating; (c) every part of this sitting is void.
* R-TIME-1 — no handing in (交卷) during the first 30 minutes.
* R-SUP-1 — the external quality supervisor's report (质量督导报告) is due
  within 3 working days after the exam.

Nothing here reads a clock or a database: time is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from examday.glossary import zh

# -- R-DISC-1 ------------------------------------------------------------------------

# kind -> tier. The kinds are the examples RULES.md gives for each tier.
INCIDENT_TIERS: dict[str, str] = {
    # (a) that part's score is void
    "banned_items_after_warning": "a",
    "wrong_seat": "a",
    "leaving_without_leave": "a",
    "disturbance": "a",
    # (b) that part is treated as cheating
    "whispering_or_signalling": "b",
    "copying": "b",
    "passing_material": "b",
    "false_identity": "b",
    "taking_papers_out": "b",
    "identical_answers": "b",
    "banned_device": "b",
    # (c) every part of this sitting is void
    "using_electronic_device": "c",
    "damaging_papers_or_work": "c",
    "taking_content_out": "c",
}

# The words are the glossary's (examday/glossary.py, issue #16): one source for pages and documents.
INCIDENT_LABELS: dict[str, str] = {k: zh(k, "incident_kind") for k in INCIDENT_TIERS}


@dataclass(frozen=True)
class TierEffect:
    tier: str
    voids: str  # "part": the part of this session; "sitting": every part of this sitting
    cheating: bool
    zh: str
    en: str


TIER_EFFECTS: dict[str, TierEffect] = {
    "a": TierEffect("a", "part", False, zh("a", "incident_tier"), "this part's score is void"),
    "b": TierEffect("b", "part", True, zh("b", "incident_tier"), "this part is treated as cheating"),
    "c": TierEffect("c", "sitting", False, zh("c", "incident_tier"), "every part of this sitting is void"),
}


def incident_effect(kind: str) -> TierEffect | None:
    """The tier and what it voids for an incident kind (R-DISC-1); None for an unknown kind."""
    tier = INCIDENT_TIERS.get(kind)
    return TIER_EFFECTS[tier] if tier else None


def voided_parts(effect: TierEffect, session_part: str, batch_parts: Sequence[str]) -> list[str]:
    """Which parts' scores the incident voids: the session's part, or every part of the sitting."""
    return list(batch_parts) if effect.voids == "sitting" else [session_part]


# -- R-TIME-1 ------------------------------------------------------------------------

DEFAULT_ENTRY_CLOSE_MINUTES = 30
DEFAULT_NO_HANDIN_MINUTES = 30


def entry_cutoff(starts_at: datetime, entry_close_minutes: int = DEFAULT_ENTRY_CLOSE_MINUTES) -> datetime:
    return starts_at + timedelta(minutes=entry_close_minutes)


def handin_opens(starts_at: datetime, no_handin_minutes: int = DEFAULT_NO_HANDIN_MINUTES) -> datetime:
    return starts_at + timedelta(minutes=no_handin_minutes)


def handin_refusal(
    starts_at: datetime, ends_at: datetime, now: datetime, no_handin_minutes: int = DEFAULT_NO_HANDIN_MINUTES
) -> str | None:
    """Why an early hand-in cannot be noted now, or None (R-TIME-1)."""
    if now < handin_opens(starts_at, no_handin_minutes):
        return "handin_too_early"
    if now >= ends_at:
        return "session_over"
    return None


# -- R-SUP-1 -------------------------------------------------------------------------

SUPERVISION_DAYS = 3
SUPERVISION_AREAS = ("organisation", "eligibility", "questions_examiners", "rooms_equipment", "fees")
SUPERVISION_AREA_LABELS = {a: zh(a, "supervision_area") for a in (*SUPERVISION_AREAS, "other")}
VALIDITY_OPINIONS = {o: zh(o, "validity_opinion") for o in ("valid", "partly_valid", "invalid")}


class WorkingDays(Protocol):
    def add_working_days(self, d: date, n: int) -> date: ...


def supervision_deadline(exam_date: date, calendar: WorkingDays) -> date:
    """The last day the supervision report is on time: 3 working days after the exam (R-SUP-1)."""
    return calendar.add_working_days(exam_date, SUPERVISION_DAYS)


def supervision_met(deadline: date, filed_on: date | None, today: date) -> bool | None:
    """True: filed in time; False: filed late, or not filed and the deadline has passed; None: still open."""
    if filed_on is not None:
        return filed_on <= deadline
    return False if today > deadline else None


# -- R-DAY-3 room state ----------------------------------------------------------------

SEAT_STATUSES = ("expected", "present", "late", "absent", "incident")
# States the video hooks report that mean the camera is not monitoring (R-VIDEO-1).
CAMERA_OK = frozenset({"recording", "online", "ok", "unknown"})


@dataclass(frozen=True)
class SeatFact:
    candidate_id: int
    seat: int | None
    ticket_number: str
    name: str


@dataclass(frozen=True)
class Arrival:
    candidate_id: int
    at: datetime
    late: bool


@dataclass(frozen=True)
class IncidentFact:
    id: int
    candidate_id: int
    kind: str
    tier: str
    at: datetime
    description: str = ""  # shown on the room's tile (issue #16)


@dataclass(frozen=True)
class RoomFacts:
    room_code: str
    capacity: int
    starts_at: datetime
    ends_at: datetime
    cutoff_at: datetime
    seats: Sequence[SeatFact]  # the candidates allocated to this room for the session's part
    arrivals: Mapping[int, Arrival] = field(default_factory=dict)  # accepted check-ins into this room
    incidents: Sequence[IncidentFact] = ()
    moved_to: Mapping[int, int] = field(default_factory=dict)  # candidate -> seat after a move
    handed_in: Mapping[int, datetime] = field(default_factory=dict)
    withdrawn: frozenset[int] = frozenset()
    cameras: Sequence[Mapping[str, Any]] = ()
    conflicts: Sequence[int] = ()  # candidates with an unresolved offline-kiosk conflict
    strangers: Mapping[int, SeatFact] = field(default_factory=dict)  # present here, seated elsewhere


def seat_status(present: bool, late: bool, has_incident: bool, cutoff_passed: bool) -> str:
    """The colour of a seat: an incident outranks everything, then presence, then the clock."""
    if has_incident:
        return "incident"
    if present:
        return "late" if late else "present"
    return "absent" if cutoff_passed else "expected"


def room_state(f: RoomFacts, now: datetime) -> dict[str, Any]:
    """Counts, seats and alerts of one room at ``now`` (R-DAY-3, R-DAY-2, R-TIME-1)."""
    cutoff_passed = now >= f.cutoff_at  # R-TIME-1: after the cutoff, not present means absent
    with_incident = {i.candidate_id for i in f.incidents}
    incidents_of: dict[int, int] = {}
    for i in f.incidents:
        incidents_of[i.candidate_id] = incidents_of.get(i.candidate_id, 0) + 1
    expected = [s for s in f.seats if s.candidate_id not in f.withdrawn]
    seats = []
    for s in [*expected, *f.strangers.values()]:
        arrival = f.arrivals.get(s.candidate_id)
        status = seat_status(
            arrival is not None, bool(arrival and arrival.late), s.candidate_id in with_incident, cutoff_passed
        )
        seats.append(
            {
                "seat": f.moved_to.get(s.candidate_id, s.seat),
                "allocated_seat": s.seat,
                "candidate_id": s.candidate_id,
                "ticket_number": s.ticket_number,
                "name": s.name,
                "status": status,
                "late": bool(arrival and arrival.late),
                "arrived_at": arrival.at if arrival else None,
                "handed_in": s.candidate_id in f.handed_in,
                "incidents": incidents_of.get(s.candidate_id, 0),
                "moved": s.candidate_id in f.moved_to,
            }
        )
    seats.sort(key=lambda s: (s["seat"] is None, s["seat"] or 0, s["ticket_number"]))
    expected_ids = {s.candidate_id for s in expected}
    present = len(f.arrivals)
    missing = len(expected_ids - set(f.arrivals))
    return {
        "room_code": f.room_code,
        "capacity": f.capacity,
        "expected": len(expected),
        "present": present,
        "late": sum(1 for a in f.arrivals.values() if a.late),
        "absent": missing if cutoff_passed else 0,
        "waiting": 0 if cutoff_passed else missing,
        "incidents": len(f.incidents),
        "incident_list": [
            {
                "id": i.id,
                "candidate_id": i.candidate_id,
                "kind": i.kind,
                "tier": i.tier,
                "label": INCIDENT_LABELS.get(i.kind, i.kind),
                "description": i.description,
                "at": i.at,
            }
            for i in f.incidents
        ],
        "handed_in": len(f.handed_in),
        "cutoff_at": f.cutoff_at,
        "cutoff_passed": cutoff_passed,
        "cameras": [dict(c) for c in f.cameras],
        "alerts": room_alerts(f.room_code, f.capacity, present, f.cameras, f.conflicts),
        "seats": seats,
    }


def room_alerts(
    room_code: str, capacity: int, present: int, cameras: Iterable[Mapping[str, Any]], conflicts: Iterable[int]
) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    for cam in cameras:
        if cam.get("state", "unknown") not in CAMERA_OK:
            alerts.append(
                {"kind": "camera_down", "rule": "R-VIDEO-1", "camera": cam.get("code"), "state": cam.get("state")}
            )
    if capacity and present > capacity:  # R-DAY-2
        alerts.append({"kind": "over_capacity", "rule": "R-DAY-2", "present": present, "capacity": capacity})
    for cid in conflicts:
        alerts.append({"kind": "offline_conflict", "rule": "R-DAY-1", "candidate_id": cid})
    return alerts


def counts_only(state: Mapping[str, Any]) -> dict[str, Any]:
    """The room's state without its seat list: what an event carries."""
    return {k: v for k, v in state.items() if k != "seats"}


def seat_taken(target: int, candidate_id: int, state: Mapping[str, Any]) -> bool:
    """Whether another candidate holds seat ``target`` now: an absent one has given it up."""
    return any(
        s["seat"] == target and s["candidate_id"] != candidate_id and s["status"] != "absent" for s in state["seats"]
    )


def pick_session(windows: Sequence[tuple[int, datetime, datetime]], now: datetime) -> int | None:
    """Which session a room view shows: the one in progress (entry opening to end), else the one
    nearest in time. ``windows`` holds (session id, entry opens, ends)."""
    best: tuple[float, int] | None = None
    for sid, opens, ends in windows:
        if opens <= now < ends:
            return sid
        distance = (opens - now).total_seconds() if now < opens else (now - ends).total_seconds()
        if best is None or distance < best[0]:
            best = (distance, sid)
    return best[1] if best else None
