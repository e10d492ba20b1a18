"""HTTP routes of examday/registry: institutions, filings, rooms, staff,
conflicts, and the holiday calendar (CONTRACT.md "Registry and plans")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import get, post, put
from litestar.params import FromPath, JSONBody

from examday import calendar_notices
from examday.registry.services import filings, institutions, rooms, staff
from examday.registry.services.institutions import today_of
from examday.rows import row_id
from examday.web import Ctx, requires_role, signed_in


@dataclass
class FilingIn:
    number: str
    valid_from: date
    valid_until: date
    status: str = "active"


@dataclass
class ScopeIn:
    occupation_code: str
    occupation_name: str
    levels: list[int | str] | str
    work_type: str | None = None


@dataclass
class InstitutionIn:
    name: str
    uscc: str
    province: str
    filing: FilingIn
    scope: list[ScopeIn]
    uscc_override_reason: str | None = None
    kind: str = "training_org"  # enterprise | training_org | school (R-LEVEL)


@post("/api/v1/institutions", guards=[requires_role("admin", "centre")], sync_to_thread=True, status_code=201)
def create_institution(ctx: Ctx, data: JSONBody[InstitutionIn]) -> dict[str, Any]:
    inst = institutions.create_institution(
        ctx.db,
        ctx.user,
        ctx.now,
        data.name,
        data.uscc,
        data.province,
        vars(data.filing),
        [vars(s) for s in data.scope],
        data.uscc_override_reason,
        data.kind,
    )
    return institutions.institution_view(ctx.db, inst, today_of(ctx.now))


@get("/api/v1/institutions", guards=[signed_in], sync_to_thread=True)
def list_institutions(ctx: Ctx) -> list[dict[str, Any]]:
    today = today_of(ctx.now)
    return [
        institutions.summary(i, institutions.current_standing(ctx.db, row_id(i), today), today)
        for i in institutions.list_institutions(ctx.db, ctx.user)
    ]


@get("/api/v1/institutions/{iid:int}", guards=[signed_in], sync_to_thread=True)
def get_institution(ctx: Ctx, iid: FromPath[int]) -> dict[str, Any]:
    inst = institutions.get_institution(ctx.db, ctx.user, iid)
    return institutions.institution_view(ctx.db, inst, today_of(ctx.now))


@dataclass
class KindIn:
    kind: str
    reason: str | None = None


@put("/api/v1/institutions/{iid:int}/kind", guards=[requires_role("admin")], sync_to_thread=True)
def change_kind(ctx: Ctx, iid: FromPath[int], data: JSONBody[KindIn]) -> dict[str, Any]:
    """The installation administrator corrects the institution's kind (R-LEVEL), on the audit chain."""
    inst = institutions.change_kind(ctx.db, ctx.user, ctx.now, iid, data.kind, data.reason)
    return institutions.institution_view(ctx.db, inst, today_of(ctx.now))


@dataclass
class FilingChangeIn:
    action: str
    reason: str | None = None
    number: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@post("/api/v1/institutions/{iid:int}/filing", guards=[signed_in], sync_to_thread=True, status_code=200)
def change_filing(ctx: Ctx, iid: FromPath[int], data: JSONBody[FilingChangeIn]) -> dict[str, Any]:
    filings.change_filing(
        ctx.db, ctx.user, ctx.now, iid, data.action, data.reason, data.number, data.valid_from, data.valid_until
    )
    inst = institutions.get_institution(ctx.db, ctx.user, iid)
    return institutions.institution_view(ctx.db, inst, today_of(ctx.now))


@dataclass
class CameraIn:
    code: str
    name: str = ""


@dataclass
class RoomIn:
    code: str
    name: str
    kind: str
    seats: int = 0
    rows: int | None = None
    cols: int | None = None
    cameras: list[CameraIn] = field(default_factory=list)


@post("/api/v1/institutions/{iid:int}/rooms", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_room(ctx: Ctx, iid: FromPath[int], data: JSONBody[RoomIn]) -> dict[str, Any]:
    room = rooms.add_room(
        ctx.db,
        ctx.user,
        ctx.now,
        iid,
        data.code,
        data.name,
        data.kind,
        data.seats,
        data.rows,
        data.cols,
        [vars(c) for c in data.cameras],
    )
    return rooms.get_room_view(ctx.db, room)


@get("/api/v1/institutions/{iid:int}/rooms", guards=[signed_in], sync_to_thread=True)
def list_rooms(ctx: Ctx, iid: FromPath[int]) -> list[dict[str, Any]]:
    return rooms.list_rooms(ctx.db, ctx.user, iid)


@dataclass
class StaffIn:
    name: str
    id_number: str
    roles: list[str]
    full_time: bool = False
    skill_level: int | None = None
    title: str = "none"
    examiner_card_valid_until: date | None = None
    occupations: list[str] = field(default_factory=list)
    is_trainer: bool = False
    employer: str | None = None


@post("/api/v1/institutions/{iid:int}/staff", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_staff(ctx: Ctx, iid: FromPath[int], data: JSONBody[StaffIn]) -> dict[str, Any]:
    s = staff.add_staff(
        ctx.db,
        ctx.user,
        ctx.now,
        iid,
        data.name,
        data.id_number,
        data.roles,
        data.full_time,
        data.skill_level,
        data.title,
        data.examiner_card_valid_until,
        data.occupations,
        data.is_trainer,
        data.employer,
    )
    return staff.staff_view(s, ctx.user.role == "admin", today_of(ctx.now))


@get("/api/v1/institutions/{iid:int}/staff", guards=[signed_in], sync_to_thread=True)
def list_staff(ctx: Ctx, iid: FromPath[int]) -> list[dict[str, Any]]:
    return staff.list_staff(ctx.db, ctx.user, iid, today_of(ctx.now))


@dataclass
class ConflictIn:
    kind: str
    candidate_id: int | None = None
    employer: str | None = None
    training_org: str | None = None
    note: str = ""


@post("/api/v1/staff/{sid:int}/conflicts", guards=[signed_in], sync_to_thread=True, status_code=201)
def declare_conflict(ctx: Ctx, sid: FromPath[int], data: JSONBody[ConflictIn]) -> dict[str, Any]:
    c = staff.declare_conflict(
        ctx.db, ctx.user, ctx.now, sid, data.kind, data.candidate_id, data.employer, data.training_org, data.note
    )
    return staff.conflict_view(c)


@get("/api/v1/staff/{sid:int}/conflicts", guards=[signed_in], sync_to_thread=True)
def list_conflicts(ctx: Ctx, sid: FromPath[int]) -> list[dict[str, Any]]:
    return staff.list_conflicts(ctx.db, ctx.user, sid)


@dataclass
class NoticeIn:
    year: int
    holidays: list[str]
    workdays: list[str] = field(default_factory=list)


@post("/api/v1/calendar/notices", guards=[requires_role("admin")], sync_to_thread=True, status_code=201)
def enter_notice(ctx: Ctx, data: JSONBody[NoticeIn]) -> dict[str, Any]:
    calendar_notices.enter_notice(ctx.db, ctx.user, data.year, data.holidays, data.workdays, ctx.now)
    return calendar_notices.year_view(ctx.db, data.year)


@get("/api/v1/calendar/{year:int}", guards=[signed_in], sync_to_thread=True)
def calendar_year(ctx: Ctx, year: FromPath[int]) -> dict[str, Any]:
    return calendar_notices.year_view(ctx.db, year)


ROUTES: list = [
    create_institution,
    list_institutions,
    get_institution,
    change_kind,
    change_filing,
    add_room,
    list_rooms,
    add_staff,
    list_staff,
    declare_conflict,
    list_conflicts,
    enter_notice,
    calendar_year,
]
