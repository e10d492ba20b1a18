"""The installation administrator's pages (系统管理员, issue #16): the institutions — list, register,
their filing's state (R-INST-2), their kind (R-LEVEL), their retention profile (R-VIDEO-1) — at
``/admin/institutions``, and the State Council's holiday notices (R-CAL) at ``/admin/calendar``.

Each form calls the service its API twin calls (``POST /api/v1/institutions``, ``PUT …/kind``,
``POST …/filing``, ``PUT …/retention-profile``, ``POST /api/v1/calendar/notices``), so a page
refuses what the API refuses, and who may is decided in :mod:`examday.access` as there. The pages
themselves are the installation administrator's: an institution's own office is refused.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template

from examday import calendar_notices
from examday.errors import Refusal, forbidden
from examday.levels import NATIONAL_TOKENS, is_enterprise_tier, level_name
from examday.records import profile
from examday.registry.services import address, filings, institutions
from examday.registry.services.institutions import today_of
from examday.rows import row_id
from examday.web import Ctx, page_action, requires_role

GUARD = [requires_role("admin")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
SCOPE_ROWS = 3
DONE = {
    "created": ("机构已登记", "Institution registered."),
    "kind": ("机构类型已更正", "Kind corrected."),
    "filing": ("备案状态已更新", "Filing updated."),
    "profile": ("保存期限配置已更新", "Retention profile updated."),
    "address": ("考点地址已更新，准考证将印此地址", "Address updated: tickets print it."),
    "notice": ("放假通知已录入，工作日从现在起按此计算", "Notice entered: working days count by it from now on."),
}


_NUMERAL = {v: k for k, v in NATIONAL_TOKENS.items() if k.endswith("级") and len(k) == 2}  # 5 → 五级


def level_choice(level: int) -> str:
    """五级 / 初级工; an enterprise's tier by its name alone (R-LEVEL)."""
    name = level_name(level)[0]
    return name if is_enterprise_tier(level) else f"{_NUMERAL[level]} / {name}"


def _installation_admin(ctx: Ctx) -> None:
    if not ctx.user.is_installation_admin:
        raise forbidden("Only the installation administrator manages institutions and the calendar.")


def _done(done: str | None) -> tuple[str, str] | None:
    return DONE.get(done or "")


# -- institutions ---------------------------------------------------------------------------


def _institutions_page(
    ctx: Ctx, notice: tuple[str, str] | None = None, error: Refusal | None = None, form: dict | None = None
) -> Template:
    _installation_admin(ctx)
    today = today_of(ctx.now)
    rows = []
    for inst in institutions.list_institutions(ctx.db, ctx.user):
        view = institutions.summary(inst, institutions.current_standing(ctx.db, row_id(inst), today), today)
        rows.append(
            {**view, "profile": inst.profile, "profiles": profile.allowed_profiles(inst), "address": inst.address}
        )
    return Template(
        "admin_institutions.html",
        context={
            "actor": ctx.user,
            "rows": rows,
            "notice": notice,
            "error": error,
            "form": form or {},
            "scope_rows": range(SCOPE_ROWS),
            "levels": [(lv, level_choice(lv)) for lv in (6, 5, 4, 3, 2, 1, 0, -1)],
            "kinds": ("training_org", "school", "enterprise"),
            "actions": ("suspend", "reinstate", "revoke", "renew"),
            "tier": is_enterprise_tier,
        },
    )


@get("/admin/institutions", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def institutions_page(ctx: Ctx, done: FromQuery[str | None] = None) -> Template:
    return _institutions_page(ctx, _done(done))


def _scope_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i in range(SCOPE_ROWS):
        code = str(data.get(f"scope{i}_code") or "").strip()
        if not code:
            continue
        levels = data.get(f"scope{i}_levels") or []
        levels = levels if isinstance(levels, list) else [levels]
        # R-LEVEL: the enterprise tiers are written by name in a filing, the national levels by number.
        written = [level_name(int(v))[0] if is_enterprise_tier(int(v)) else str(int(v)) for v in levels]
        out.append(
            {
                "occupation_code": code,
                "occupation_name": str(data.get(f"scope{i}_name") or "").strip(),
                "work_type": str(data.get(f"scope{i}_work_type") or "").strip() or None,
                "levels": "、".join(written),
            }
        )
    return out


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        return None


@post("/admin/institutions/new", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def create_institution_page(ctx: Ctx, data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        inst = institutions.create_institution(
            ctx.db,
            ctx.user,
            ctx.now,
            str(data.get("name") or "").strip(),
            str(data.get("uscc") or "").strip(),
            str(data.get("province") or "").strip(),
            {
                "number": str(data.get("filing_number") or "").strip(),
                "valid_from": _date(data.get("valid_from")),
                "valid_until": _date(data.get("valid_until")),
                "status": "active",
            },
            _scope_of(data),
            str(data.get("uscc_override_reason") or "").strip() or None,
            str(data.get("kind") or "training_org"),
        )
        return address.set_address(ctx.db, ctx.user, ctx.now, row_id(inst), str(data.get("address") or ""))

    return page_action(
        ctx, run, "/admin/institutions?done=created", lambda r: _institutions_page(ctx, error=r, form=data)
    )


@post("/admin/institutions/{iid:int}/kind", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def kind_page(ctx: Ctx, iid: FromPath[int], data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        reason = str(data.get("reason") or "").strip() or None
        return institutions.change_kind(ctx.db, ctx.user, ctx.now, iid, str(data.get("kind") or ""), reason)

    return page_action(ctx, run, "/admin/institutions?done=kind", lambda r: _institutions_page(ctx, error=r))


@post("/admin/institutions/{iid:int}/filing", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def filing_page(ctx: Ctx, iid: FromPath[int], data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        return filings.change_filing(
            ctx.db,
            ctx.user,
            ctx.now,
            iid,
            str(data.get("action") or ""),
            str(data.get("reason") or "").strip() or None,
            str(data.get("number") or "").strip() or None,
            _date(data.get("valid_from")),
            _date(data.get("valid_until")),
        )

    return page_action(ctx, run, "/admin/institutions?done=filing", lambda r: _institutions_page(ctx, error=r))


@post("/admin/institutions/{iid:int}/address", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def address_page(ctx: Ctx, iid: FromPath[int], data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        return address.set_address(ctx.db, ctx.user, ctx.now, iid, str(data.get("address") or ""))

    return page_action(ctx, run, "/admin/institutions?done=address", lambda r: _institutions_page(ctx, error=r))


@post("/admin/institutions/{iid:int}/profile", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def profile_page(ctx: Ctx, iid: FromPath[int], data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        return profile.set_profile(ctx.db, ctx.user, ctx.now, iid, str(data.get("profile") or ""))

    return page_action(ctx, run, "/admin/institutions?done=profile", lambda r: _institutions_page(ctx, error=r))


# -- the calendar ---------------------------------------------------------------------------


def _calendar_page(
    ctx: Ctx, notice: tuple[str, str] | None = None, error: Refusal | None = None, form: dict | None = None
) -> Template:
    _installation_admin(ctx)
    this_year = today_of(ctx.now).year
    years = [calendar_notices.year_view(ctx.db, y) for y in (this_year, this_year + 1)]
    return Template(
        "admin_calendar.html",
        context={
            "actor": ctx.user,
            "years": years,
            "notice": notice,
            "error": error,
            "form": form or {"year": str(this_year + 1)},
        },
    )


@get("/admin/calendar", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def calendar_page(ctx: Ctx, done: FromQuery[str | None] = None) -> Template:
    return _calendar_page(ctx, _done(done))


def _day_list(text: Any) -> list[str]:
    """Dates one per line or separated by commas; ``2027-02-15~2027-02-21`` for a run of days."""
    out: list[str] = []
    for chunk in re.split(r"[\s,，、;；]+", str(text or "").strip()):
        if not chunk:
            continue
        start, sep, end = chunk.replace("至", "~").partition("~")
        a, b = _date(start), _date(end) if sep else None
        if sep and a and b and a <= b:
            out += [date.fromordinal(o).isoformat() for o in range(a.toordinal(), b.toordinal() + 1)]
        else:
            out.append(chunk)  # the service names a bad one (invalid_date)
    return out


@post("/admin/calendar/notices", guards=GUARD, sync_to_thread=True, include_in_schema=False)
def notice_page(ctx: Ctx, data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> Any:
        _installation_admin(ctx)
        try:
            year = int(str(data.get("year") or "").strip())
        except ValueError:
            year = 0  # refused by the service as invalid_year
        return calendar_notices.enter_notice(
            ctx.db, ctx.user, year, _day_list(data.get("holidays")), _day_list(data.get("workdays")), ctx.now
        )

    return page_action(ctx, run, "/admin/calendar?done=notice", lambda r: _calendar_page(ctx, error=r, form=data))


ROUTES = [
    institutions_page,
    create_institution_page,
    kind_page,
    filing_page,
    address_page,
    profile_page,
    calendar_page,
    notice_page,
]
