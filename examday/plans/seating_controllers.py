"""HTTP routes for seats and admission tickets (CONTRACT.md "Seats and tickets"), and the
exam office's seating page. Writes are the institution's exam office's (admin);
room papers are for the admin, proctors and the quality supervisor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Template

from examday.errors import Refusal
from examday.plans.access import batch_for_read
from examday.plans.pages import read_upload
from examday.plans.services import seating, tickets
from examday.plans.ticket_render import render_ticket_png, render_tickets_pdf
from examday.web import Ctx, blob_response, page_action, requires_role

admin_only = [requires_role("admin")]
paper_readers = [requires_role("admin", "proctor", "supervisor")]
seat_readers = [requires_role("admin", "proctor", "supervisor", "centre", "kiosk")]
key_readers = [requires_role("admin", "kiosk", "centre")]
page_readers = [requires_role("admin", "supervisor", "centre")]
PNG = {"Cache-Control": "private, no-store"}


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers=PNG)


def _room_events(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """One live-feed event per room whose seats changed, so each room's proctors hear of it (R-DAY-3)."""
    if "moves" in result:
        into = sorted({m["to"]["room_code"] for m in result["moves"]})
        return [("room_dropped", result["room_code"], {"moved": result["moved"]})] + [
            ("seats_changed", code, {"drop_id": result["drop_id"]}) for code in into
        ]
    rows = result.get("seats", result.get("stations", []))
    event = "stations_drawn" if "stations" in result else "seating_allocated"
    return [(event, code, {"run_id": result["run_id"]}) for code in sorted({r["room_code"] for r in rows})]


def _announce(ctx: Ctx, bid: int, result: dict[str, Any]) -> dict[str, Any]:
    """Queue the rooms' events (out once the request commits); returns ``result``."""
    for event, room_code, data in _room_events(result):
        ctx.queue_event(bid, event, room_code, **data)
    return result


# -- seats ----------------------------------------------------------------------------------


@dataclass
class SeatingIn:
    seed: int | None = None
    blocked: dict[str, list[int]] | None = None


@post("/api/v1/batches/{bid:int}/seating", guards=admin_only, sync_to_thread=True, status_code=200)
def allocate_seats(ctx: Ctx, bid: FromPath[int], data: JSONBody[SeatingIn | None] = None) -> dict[str, Any]:
    data = data or SeatingIn()
    result = seating.run_seating(ctx.db, ctx.user, ctx.now, bid, data.seed, data.blocked, ctx.state.settings.secret_key)
    return _announce(ctx, bid, result)


@get("/api/v1/batches/{bid:int}/seating", guards=seat_readers, sync_to_thread=True)
def get_seating(ctx: Ctx, bid: FromPath[int], part: FromQuery[str] = "theory") -> list[dict[str, Any]]:
    return seating.list_seating(ctx.db, ctx.user, bid, part)


@get(
    "/api/v1/batches/{bid:int}/seating/check",
    guards=[requires_role("admin", "supervisor", "centre")],
    sync_to_thread=True,
)
def check_seating(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    """Re-derive the latest allocation from its recorded seed (R-SEAT-1)."""
    batch = batch_for_read(ctx.db, ctx.user, bid)
    return seating.rederive(ctx.db, batch) or {"run_id": None, "seed": None, "matches": None}


@dataclass
class DropIn:
    reason: str
    seed: int | None = None


@post("/api/v1/batches/{bid:int}/rooms/{room_code:str}/drop", guards=admin_only, sync_to_thread=True, status_code=200)
def drop_room(ctx: Ctx, bid: FromPath[int], room_code: FromPath[str], data: JSONBody[DropIn]) -> dict[str, Any]:
    result = seating.drop_room(ctx.db, ctx.user, ctx.now, bid, room_code, data.reason, data.seed)
    return _announce(ctx, bid, result)


@dataclass
class StationsIn:
    seed: int | None = None


@post("/api/v1/batches/{bid:int}/stations", guards=admin_only, sync_to_thread=True, status_code=200)
def draw_stations(ctx: Ctx, bid: FromPath[int], data: JSONBody[StationsIn | None] = None) -> dict[str, Any]:
    result = seating.draw_batch_stations(ctx.db, ctx.user, ctx.now, bid, (data or StationsIn()).seed)
    return _announce(ctx, bid, result)


# -- room papers ----------------------------------------------------------------------------


def _paper(ctx: Ctx, bid: int, room_code: str, paper: str) -> Response:
    draw = tickets.room_paper(ctx.db, ctx.user, bid, room_code, paper)
    # Committed before the end of the request, on purpose: drawing takes a while, and on SQLite
    # the open transaction is a write lock (BEGIN IMMEDIATE) that would hold up every other writer.
    ctx.db.commit()
    return _png(draw())


@get(
    "/api/v1/batches/{bid:int}/rooms/{room_code:str}/chart.png",
    guards=paper_readers,
    sync_to_thread=True,
    media_type="image/png",
)
def room_chart(ctx: Ctx, bid: FromPath[int], room_code: FromPath[str]) -> Response:
    return _paper(ctx, bid, room_code, "chart")


@get(
    "/api/v1/batches/{bid:int}/rooms/{room_code:str}/door-list.png",
    guards=paper_readers,
    sync_to_thread=True,
    media_type="image/png",
)
def room_door_list(ctx: Ctx, bid: FromPath[int], room_code: FromPath[str]) -> Response:
    return _paper(ctx, bid, room_code, "door-list")


@get(
    "/api/v1/batches/{bid:int}/rooms/{room_code:str}/signin-sheet.png",
    guards=paper_readers,
    sync_to_thread=True,
    media_type="image/png",
)
def room_signin_sheet(ctx: Ctx, bid: FromPath[int], room_code: FromPath[str]) -> Response:
    return _paper(ctx, bid, room_code, "signin-sheet")


# -- tickets --------------------------------------------------------------------------------


@get("/api/v1/candidates/{cid:int}/ticket.png", guards=admin_only, sync_to_thread=True, media_type="image/png")
def ticket_png(ctx: Ctx, cid: FromPath[int]) -> Response:
    view = tickets.ticket_view(ctx.db, ctx.user, ctx.now, cid, ctx.state.settings.secret_key, ctx.state.blobs)
    # Committed before drawing, on purpose: the ticket is issued on first request, and the drawing
    # must not hold the transaction (on SQLite a write lock) open.
    ctx.db.commit()
    return _png(render_ticket_png(view))


@get("/api/v1/batches/{bid:int}/tickets.pdf", guards=admin_only, sync_to_thread=True, media_type="application/pdf")
def tickets_pdf(ctx: Ctx, bid: FromPath[int]) -> Response:
    views = tickets.batch_views(ctx.db, ctx.user, ctx.now, bid, ctx.state.settings.secret_key, ctx.state.blobs)
    # Committed before drawing, on purpose: a thousand tickets take seconds to draw, never inside
    # the transaction (on SQLite a write lock); tickets issued on first request are kept.
    ctx.db.commit()
    pdf = render_tickets_pdf(views, created_at=ctx.now)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**PNG, "Content-Disposition": f'inline; filename="tickets-{bid}.pdf"'},
    )


@post("/api/v1/candidates/{cid:int}/ticket/reissue", guards=admin_only, sync_to_thread=True, status_code=200)
def reissue_ticket(ctx: Ctx, cid: FromPath[int]) -> dict[str, Any]:
    return tickets.reissue(ctx.db, ctx.user, ctx.now, cid, ctx.state.settings.secret_key)


@dataclass
class PhotoForm:
    file: UploadFile | None = None


@post(
    "/api/v1/candidates/{cid:int}/photo",
    guards=admin_only,
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=6 * 1024 * 1024,
)
def upload_photo(
    ctx: Ctx, cid: FromPath[int], data: Annotated[PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    content, _ = read_upload(data.file)
    return tickets.put_photo(ctx.db, ctx.user, ctx.now, cid, content, ctx.state.blobs)


@get(
    "/api/v1/candidates/{cid:int}/photo",
    guards=[requires_role("kiosk", "admin", "proctor")],
    sync_to_thread=True,
    media_type="image/jpeg",
)
def candidate_photo(ctx: Ctx, cid: FromPath[int]) -> Response:
    return blob_response(ctx, tickets.candidate_photo(ctx.db, ctx.user, cid))


# -- ticket keys ----------------------------------------------------------------------------


@get("/api/v1/institutions/{iid:int}/ticket-keys", guards=key_readers, sync_to_thread=True)
def ticket_keys(ctx: Ctx, iid: FromPath[int]) -> dict[str, Any]:
    return tickets.ticket_keys(ctx.db, ctx.user, iid)


@post("/api/v1/institutions/{iid:int}/ticket-keys/rotate", guards=admin_only, sync_to_thread=True, status_code=200)
def rotate_key(ctx: Ctx, iid: FromPath[int]) -> dict[str, Any]:
    return tickets.rotate_key(ctx.db, ctx.user, ctx.now, iid)


@dataclass
class RevokeIn:
    reissue: bool = False  # reissue the key's open tickets under the active key


@post(
    "/api/v1/institutions/{iid:int}/ticket-keys/{kid:str}/revoke",
    guards=admin_only,
    sync_to_thread=True,
    status_code=200,
)
def revoke_key(
    ctx: Ctx, iid: FromPath[int], kid: FromPath[str], data: JSONBody[RevokeIn | None] = None
) -> dict[str, Any]:
    return tickets.revoke_key(
        ctx.db, ctx.user, ctx.now, iid, kid, bool(data and data.reissue), ctx.state.settings.secret_key
    )


# -- the exam office's seating page -------------------------------------------------------------

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
DONE = {
    "allocated": ("座位已编排，准考证已出具", "Seats allocated; tickets issued."),
    "dropped": ("考场已停用，考生已调至空座", "Room dropped; its candidates moved to free seats."),
    "stations": ("技能工位已抽签", "Skill workstations drawn by lot."),
}


def _page(ctx: Ctx, bid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    view = seating.seating_overview(ctx.db, ctx.user, bid)
    role = ctx.user.role
    return Template(
        "seating.html",
        context={
            "actor": ctx.user,
            "s": view,
            "notice": notice,
            "error": error,
            "can_edit": role == "admin" and view["status"] in seating.OPEN_STATUSES,
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
        lambda: _announce(ctx, bid, action()),
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


@post("/office/batches/{bid:int}/seating/run", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def run_page(ctx: Ctx, bid: FromPath[int], data: Annotated[RunForm, FORM]) -> Response:
    return _act(
        ctx,
        bid,
        lambda: seating.run_seating(
            ctx.db, ctx.user, ctx.now, bid, _seed(data.seed), parse_blocked(data.blocked), ctx.state.settings.secret_key
        ),
        "allocated",
    )


@dataclass
class DropForm:
    room_code: str
    reason: str = ""


@post("/office/batches/{bid:int}/seating/drop", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def drop_page(ctx: Ctx, bid: FromPath[int], data: Annotated[DropForm, FORM]) -> Response:
    return _act(
        ctx,
        bid,
        lambda: seating.drop_room(ctx.db, ctx.user, ctx.now, bid, data.room_code.strip(), data.reason),
        "dropped",
    )


@dataclass
class StationsForm:
    seed: str = ""


@post("/office/batches/{bid:int}/seating/stations", guards=admin_only, sync_to_thread=True, include_in_schema=False)
def stations_page(ctx: Ctx, bid: FromPath[int], data: Annotated[StationsForm, FORM]) -> Response:
    return _act(
        ctx, bid, lambda: seating.draw_batch_stations(ctx.db, ctx.user, ctx.now, bid, _seed(data.seed)), "stations"
    )


ROUTES: list = [
    allocate_seats,
    get_seating,
    check_seating,
    drop_room,
    draw_stations,
    room_chart,
    room_door_list,
    room_signin_sheet,
    ticket_png,
    tickets_pdf,
    reissue_ticket,
    upload_photo,
    candidate_photo,
    ticket_keys,
    rotate_key,
    revoke_key,
    seating_page,
    run_page,
    drop_page,
    stations_page,
]
