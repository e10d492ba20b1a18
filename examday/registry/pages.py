"""The exam office pages (考务办公室): the institution and its filing, the
filed rooms (R-SITE-1) and the staff (R-STAFF-1..3).

Plain HTML forms post urlencoded to these routes, which call the same
services as the API. Admins and centres may look; only an admin changes
(``institution_for_write`` decides which admin). Refusals are shown on the
page, Chinese first with English beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from examday.access import can_write_institution
from examday.errors import Refusal, forbidden
from examday.records.backup_status import backup_status
from examday.registry.models import Institution
from examday.registry.services import address, institutions, rooms, staff
from examday.registry.services.filings import ACTION_ZH, STATE_ZH
from examday.registry.services.institutions import today_of
from examday.registry.services.rooms import KIND_ZH
from examday.registry.services.staff import ROLE_ZH, TITLE_ZH
from examday.rows import row_id
from examday.web import Ctx, page_action, requires_role

GUARD = [requires_role("admin", "centre")]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _focus(ctx: Ctx, iid: int | None) -> Institution | None:
    """The institution a page is about: the one asked for, else the caller's own."""
    target = iid if iid is not None else ctx.user.institution_id
    if target is None:
        return None
    return institutions.get_institution(ctx.db, ctx.user, target)


def _can_write(ctx: Ctx, inst: Institution) -> bool:
    return can_write_institution(ctx.user, inst)


def _base(ctx: Ctx, inst: Institution | None, **extra: Any) -> dict[str, Any]:
    return {
        "actor": ctx.user,
        "inst": inst,
        "can_write": inst is not None and _can_write(ctx, inst),
        "q": f"?iid={inst.id}" if inst is not None else "",
        "state_zh": STATE_ZH,
        "kind_zh": KIND_ZH,
        "role_zh": ROLE_ZH,
        "title_zh": TITLE_ZH,
        "action_zh": ACTION_ZH,
        "error": None,
        "form": {},
        **extra,
    }


@get("/office", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office(ctx: Ctx, iid: FromQuery[int | None] = None) -> Template:
    inst = _focus(ctx, iid)
    today = today_of(ctx.now)
    if inst is None:
        listed = [
            institutions.summary(i, institutions.current_standing(ctx.db, row_id(i), today), today)
            for i in institutions.list_institutions(ctx.db, ctx.user)
        ]
        return Template("office.html", context=_base(ctx, None, institutions=listed, view=None, backup=_backup(ctx)))
    view = institutions.institution_view(ctx.db, inst, today)
    return Template("office.html", context=_base(ctx, inst, view=view, institutions=[], backup=_backup(ctx)))


def _backup(ctx: Ctx) -> dict[str, Any] | None:
    """The installation's last backup, for those who keep the installation running: its admins."""
    if ctx.user.role != "admin":
        return None
    return backup_status(ctx.state.settings.data_dir, ctx.now)


# -- rooms -----------------------------------------------------------------------


def _rooms_page(ctx: Ctx, inst: Institution, error: Refusal | None = None, form: dict | None = None) -> Template:
    listed = rooms.list_rooms(ctx.db, ctx.user, row_id(inst))
    problems = [v.as_dict() for v in rooms.site_readiness(ctx.db, row_id(inst))]
    ctx_ = _base(ctx, inst, rooms=listed, site_problems=problems, error=error, form=form or {})
    return Template("office_rooms.html", context=ctx_, media_type=MediaType.HTML)


@get("/office/rooms", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office_rooms(ctx: Ctx, iid: FromQuery[int | None] = None) -> Template | Redirect:
    inst = _focus(ctx, iid)
    if inst is None:
        return Redirect("/office")
    return _rooms_page(ctx, inst)


@dataclass
class RoomForm:
    iid: str = ""
    code: str = ""
    name: str = ""
    kind: str = "theory"
    seats: str = ""
    rows: str = ""
    cols: str = ""
    cameras: str = ""


def _int(text: str, label_zh: str, label_en: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise Refusal("invalid_number", f"{label_zh}须为整数", f"{label_en} must be a whole number.") from None


def _form_institution(ctx: Ctx, iid_text: str) -> Institution:
    iid = _int(iid_text, "机构", "The institution")
    inst = _focus(ctx, iid)
    if inst is None:
        raise forbidden("Choose an institution first.")
    return inst


# Its own path, not POST /office/rooms: Litestar 2.25 wraps a sync GET handler twice when another
# method shares its path, and the page then comes back as a coroutine.
@post("/office/rooms/add", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office_rooms_add(ctx: Ctx, data: Annotated[RoomForm, Form]) -> Any:
    inst = _form_institution(ctx, data.iid)
    return page_action(
        ctx,
        lambda: rooms.add_room(
            ctx.db,
            ctx.user,
            ctx.now,
            row_id(inst),
            data.code,
            data.name,
            data.kind,
            _int(data.seats, "座位数", "Seats"),
            _int(data.rows, "行数", "Rows"),
            _int(data.cols, "列数", "Columns"),
            rooms.parse_cameras(data.cameras),
        ),
        f"/office/rooms?iid={inst.id}",
        lambda r: _rooms_page(ctx, inst, r, asdict(data)),
    )


# -- staff -----------------------------------------------------------------------


def _staff_page(ctx: Ctx, inst: Institution, error: Refusal | None = None, form: dict | None = None) -> Template:
    listed = staff.list_staff(ctx.db, ctx.user, row_id(inst), today_of(ctx.now))
    full_time = staff.full_time_staff_count(ctx.db, row_id(inst))
    ctx_ = _base(ctx, inst, staff=listed, full_time=full_time, error=error, form=form or {})
    return Template("office_staff.html", context=ctx_, media_type=MediaType.HTML)


@get("/office/staff", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office_staff(ctx: Ctx, iid: FromQuery[int | None] = None) -> Template | Redirect:
    inst = _focus(ctx, iid)
    if inst is None:
        return Redirect("/office")
    return _staff_page(ctx, inst)


@dataclass
class StaffForm:
    iid: str = ""
    name: str = ""
    id_number: str = ""
    role_examiner: str = ""
    role_proctor: str = ""
    role_supervisor: str = ""
    role_staff: str = ""
    full_time: str = ""
    skill_level: str = ""
    title: str = "none"
    examiner_card_valid_until: str = ""
    occupations: str = ""
    is_trainer: str = ""
    employer: str = ""


def _date(text: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal("invalid_date", "日期格式应为 YYYY-MM-DD", "A date is written YYYY-MM-DD.") from None


@post("/office/staff/add", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office_staff_add(ctx: Ctx, data: Annotated[StaffForm, Form]) -> Any:
    inst = _form_institution(ctx, data.iid)
    roles = [r for r in ("examiner", "proctor", "supervisor", "staff") if getattr(data, f"role_{r}")]
    occupations = [o for o in data.occupations.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if o]
    return page_action(
        ctx,
        lambda: staff.add_staff(
            ctx.db,
            ctx.user,
            ctx.now,
            row_id(inst),
            data.name,
            data.id_number,
            roles,
            bool(data.full_time),
            _int(data.skill_level, "技能等级", "Skill level"),
            data.title,
            _date(data.examiner_card_valid_until),
            occupations,
            bool(data.is_trainer),
            data.employer,
        ),
        f"/office/staff?iid={inst.id}",
        lambda r: _staff_page(ctx, inst, r, asdict(data)),
    )


@dataclass
class AddressForm:
    iid: str = ""
    address: str = ""


@post("/office/address", guards=GUARD, sync_to_thread=True, include_in_schema=False, media_type=MediaType.HTML)
def office_address(ctx: Ctx, data: Annotated[AddressForm, Form]) -> Any:
    """The exam site's address the tickets print (issue #16); the office's own, or the installation's admin."""
    inst = _form_institution(ctx, data.iid)

    def refused(r: Refusal) -> Template:
        view = institutions.institution_view(ctx.db, inst, today_of(ctx.now))
        return Template(
            "office.html", context=_base(ctx, inst, view=view, institutions=[], backup=_backup(ctx), error=r)
        )

    return page_action(
        ctx,
        lambda: address.set_address(ctx.db, ctx.user, ctx.now, row_id(inst), data.address),
        f"/office?iid={row_id(inst)}",
        refused,
    )


ROUTES = [office, office_rooms, office_rooms_add, office_staff, office_staff_add, office_address]
