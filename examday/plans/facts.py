"""Plain facts about one plan, as the plan checks (rules.py) read them.

The service loads these from the database; the rules never see a session,
so the tests of every check build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from examday.plans.config import BatchConfig


@dataclass(frozen=True)
class Violation:
    code: str
    rule: str
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "message_en": self.message_en,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FilingFact:
    status: str  # active | suspended | revoked
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class ScopeFact:
    occupation_code: str
    work_type: str | None
    levels: frozenset[int]


@dataclass(frozen=True)
class RoomFact:
    id: int
    code: str
    kind: str
    seats: int
    cameras: int
    active: bool = True


@dataclass(frozen=True)
class StaffFact:
    id: int
    name: str
    roles: frozenset[str]
    is_trainer: bool = False
    employer: str | None = None
    active: bool = True


@dataclass(frozen=True)
class SessionFact:
    id: int
    part: str
    starts_at: datetime
    ends_at: datetime
    room_ids: tuple[int, ...]
    staff: dict[int, tuple[int, ...]] = field(default_factory=dict)  # room id -> staff ids


@dataclass(frozen=True)
class Booking:
    """A room and its staff taken by another filed batch of the institution."""

    batch_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    staff_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PlanFacts:
    batch_id: int
    occupation_code: str
    work_type: str | None
    level: int
    exam_date: date
    parts: tuple[str, ...]
    config: BatchConfig
    filings: tuple[FilingFact, ...]
    scope: tuple[ScopeFact, ...]
    full_time_staff: int
    rooms: dict[int, RoomFact]
    staff: dict[int, StaffFact]
    sessions: tuple[SessionFact, ...]
    candidates: int  # registered, not withdrawn
    pending_review: int
    ineligible: int
    training_orgs: frozenset[str] = frozenset()
    other_bookings: tuple[Booking, ...] = ()
    institution_kind: str = "training_org"  # enterprise | training_org | school (R-LEVEL)
