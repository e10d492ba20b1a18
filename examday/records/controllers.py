"""HTTP routes of legal holds and the retention preview (CONTRACT.md "Video"; R-VIDEO-1, R-ARCH-1).

They are for the exam office (admin) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery, JSONBody

from examday.clock import CST
from examday.records import holds
from examday.web import Ctx, requires_role
from storage import purge

office = [requires_role("admin")]


@dataclass
class HoldIn:
    object_type: str
    object_id: int
    reason: str


@dataclass
class ReleaseIn:
    reason: str


@post("/api/v1/holds", guards=office, sync_to_thread=True, status_code=201)
def place_hold(ctx: Ctx, data: JSONBody[HoldIn]) -> dict[str, Any]:
    hold = holds.place_hold(ctx.db, ctx.user, data.object_type, data.object_id, data.reason, ctx.now)
    return holds.hold_body(hold)


@post("/api/v1/holds/{hid:int}/release", guards=office, sync_to_thread=True, status_code=200)
def release_hold(ctx: Ctx, hid: FromPath[int], data: JSONBody[ReleaseIn]) -> dict[str, Any]:
    hold = holds.release_hold(ctx.db, ctx.user, hid, data.reason, ctx.now)
    return holds.hold_body(hold)


@get("/api/v1/holds", guards=office, sync_to_thread=True)
def list_holds(ctx: Ctx, active: FromQuery[bool] = True) -> list[dict[str, Any]]:
    return [holds.hold_body(h) for h in holds.list_holds(ctx.db, ctx.user, active_only=active)]


@get("/api/v1/retention", guards=office, sync_to_thread=True)
def retention(ctx: Ctx, limit: FromQuery[int] = 50) -> dict[str, Any]:
    """What a purge would delete now, the holds in force and the alerts (R-ARCH-1, R-VIDEO-1)."""
    actor = ctx.user
    scope = None if actor.is_installation_admin else actor.institution_id
    today = ctx.now.astimezone(CST).date()
    # An institution's admin sees that institution's records; the installation's admin all of them.
    out = purge.preview(ctx.state.engine, today, scope, limit=max(0, min(limit, 1000)))
    out["holds"] = [holds.hold_body(h) for h in holds.list_holds(ctx.db, actor)]
    out["alerts"] = purge.disk_alerts(ctx.state.settings)
    return out


ROUTES = [place_hold, release_hold, list_holds, retention]
