"""The exam office's seating page (座位编排): allocate, drop a room, move one
candidate, draw workstations, and see what changed (R-SEAT-1, R-DAY-2).

Issue #15: re-allocating replaces every seat, so the form asks for a ticked
confirmation when seats exist, and is not offered once tickets are out; the
page lists every recorded move and what to print again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from examday.errors import Refusal
from examday.plans.access import batch_for_read
from examday.plans.services import seating, seating_moves, seating_overview, seating_stations
from examday.web import Ctx, page_action, requires_role

admin_only = [requires_role("admin")]
page_readers = [requires_role("admin", "supervisor", "centre")]


def _room_events(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """One live-feed event per room whose seats changed, so each room's proctors hear of it (R-DAY-3)."""
    if "moves" in result and "drop_id" not in result:  # one seat moved: both rooms hear of it
        return [("seats_changed", code, {"moved": result["moved"]}) for code in result["reprint"]["rooms"]]
    if "moves" in result:
        into = sorted({m["to"]["room_code"] for m in result["moves"]})
        return [("room_dropped", result["room_code"], {"moved": result["moved"]})] + [
            ("seats_changed", code, {"drop_id": result["drop_id"]}) for code in into
        ]
    rows = result.get("seats", result.get("stations", []))
    event = "stations_drawn" if "stations" in result else "seating_allocated"
    return [(event, code, {"run_id": result["run_id"]}) for code in sorted({r["room_code"] for r in rows})]


def announce(ctx: Ctx, bid: int, result: dict[str, Any]) -> dict[str, Any]:
    """Queue the rooms' events (out once the request commits); returns ``result``."""
    for event, room_code, data in _room_events(result):
        ctx.queue_event(bid, event, room_code, **data)
    return result


# -- the exam office's seating page -------------------------------------------------------------

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
DONE = {
    "allocated": ("座位已编排，准考证已出具", "Seats allocated; tickets issued."),
    "dropped": ("考场已停用，考生已调至空座", "Room dropped; its candidates moved to free seats."),
    "moved": (
        "座位已调整，请重新打印该考生的准考证和相关考场用表",
        "Seat moved; reprint the ticket and the rooms' papers.",
    ),
    "stations": ("技能工位已抽签", "Skill workstations drawn by lot."),
}


def _page(ctx: Ctx, bid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    view = seating_overview.seating_overview(ctx.db, ctx.user, bid)
    role = ctx.user.role
    can_edit = role == "admin" and view["status"] in seating.OPEN_STATUSES
    return Template(
        "seating.html",
        context={
            "actor": ctx.user,
            "s": view,
            "notice": notice,
            "error": error,
            "can_edit": can_edit,
            # R-SEAT-1: once tickets are out, re-seating everyone is not offered, only recorded moves.
            "can_reallocate": can_edit and not view["frozen"],
            "can_papers": role in ("admin", "proctor", "supervisor"),
            "can_pdf": role == "admin",
            "check": seating.rederive(ctx.db, batch_for_read(ctx.db, ctx.user, bid)),
        },
    )


@get("/office/batches/{bid:int}/seating", guards=page_readers, sync_to_thread=True, include_in_schema=False)
def seating_page(ctx: Ctx, bid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, bid, DONE.get(done or ""))


def _act(ctx: Ctx, bid: int, action, done: str) -> Response:
    return page_action(
        ctx,
        lambda: announce(ctx, bid, action()),
        f"/office/batches/{bid}/seating?done={done}",
        lambda r: _page(ctx, bid, error=r),
    )


def _seed(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise Refusal("invalid_seed", "随机种子应为整数", "The seed is a whole number.", "R-SEAT-1", 422)
    return int(text)


def parse_blocked(text: str) -> dict[str, list[int]]:
    """``T01:3,4; T02:7`` → {"T01": [3, 4], "T02": [7]}."""
    out: dict[str, list[int]] = {}
    for chunk in re.split(r"[;；\n]+", text.replace("：", ":")):
        if not chunk.strip():
            continue
        code, sep, seats = chunk.partition(":")
        numbers = [x for x in re.split(r"[\s,，、]+", seats.strip()) if x]
        if not sep or not code.strip() or not all(x.isdigit() for x in numbers):
            raise Refusal(
                "invalid_blocked",
                "停用座位格式应为 考场:座位,座位；例如 T01:3,4; T02:7",
                "Write seats to keep free as ROOM:seat,seat; e.g. T01:3,4; T02:7",
                "R-SEAT-1",
                422,
            )
        out.setdefault(code.strip(), []).extend(int(x) for x in numbers)
    return out


@dataclass
class RunForm:
    seed: str = ""
    blocked: str = ""
    confirm: str = ""


def _run_confirmed(ctx: Ctx, bid: int, data: RunForm) -> dict[str, Any]:
    """Seats already allocated are replaced only when the office ticks that it means it (R-SEAT-1)."""
    seed, blocked = _seed(data.seed), parse_blocked(data.blocked)
    batch = batch_for_read(ctx.db, ctx.user, bid)
    if seating.latest_run(ctx.db, bid) is not None and data.confirm != "yes":
        raise Refusal(
            "confirmation_required",
            "重新编排将改变全部考生的座位，请勾选确认后再提交",
            "Re-allocating moves every candidate; tick the confirmation to go ahead.",
            "R-SEAT-1",
            422,
            {"batch_id": batch.id},
        )
    return seating.run_seating(ctx.db, ctx.user, ctx.now, bid, seed, blocked, ctx.state.settings.secret_key)


@post("/office/batches/{bid:int}/seating/run", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def run_page(ctx: Ctx, bid: FromPath[int], data: Annotated[RunForm, FORM]) -> Response:
    return _act(ctx, bid, lambda: _run_confirmed(ctx, bid, data), "allocated")


@dataclass
class DropForm:
    room_code: str
    reason: str = ""


@post("/office/batches/{bid:int}/seating/drop", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def drop_page(ctx: Ctx, bid: FromPath[int], data: Annotated[DropForm, FORM]) -> Response:
    return _act(
        ctx,
        bid,
        lambda: seating_moves.drop_room(ctx.db, ctx.user, ctx.now, bid, data.room_code.strip(), data.reason),
        "dropped",
    )


@dataclass
class MoveForm:
    ticket_number: str = ""
    room_code: str = ""
    seat: str = ""
    reason: str = ""


def _move(ctx: Ctx, bid: int, data: MoveForm) -> dict[str, Any]:
    if not data.seat.strip().isdigit():
        raise Refusal("invalid_seat_move", "座位号应为整数", "The seat is a whole number.", "R-SEAT-1", 422)
    return seating_moves.move_seat(
        ctx.db, ctx.user, ctx.now, bid, data.ticket_number, data.room_code.strip(), int(data.seat), data.reason
    )


@post("/office/batches/{bid:int}/seating/move", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def move_page(ctx: Ctx, bid: FromPath[int], data: Annotated[MoveForm, FORM]) -> Response:
    return _act(ctx, bid, lambda: _move(ctx, bid, data), "moved")


@dataclass
class StationsForm:
    seed: str = ""


@post("/office/batches/{bid:int}/seating/stations", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def stations_page(ctx: Ctx, bid: FromPath[int], data: Annotated[StationsForm, FORM]) -> Response:
    return _act(
        ctx,
        bid,
        lambda: seating_stations.draw_batch_stations(ctx.db, ctx.user, ctx.now, bid, _seed(data.seed)),
        "stations",
    )


ROUTES: list = [seating_page, run_page, drop_page, move_page, stations_page]
