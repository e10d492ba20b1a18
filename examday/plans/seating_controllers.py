"""HTTP routes for seats and admission tickets (CONTRACT.md "Seats and tickets"), and the
exam office's seating page. Writes are the institution's exam office's (admin);
room papers are for the admin, proctors and the quality supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from examday.plans import seating_pages
from examday.plans.access import batch_for_read
from examday.plans.pages import read_upload
from examday.plans.seating_pages import announce as _announce
from examday.plans.services import seating, seating_moves, seating_stations, tickets
from examday.plans.services import ticket_keys as ticket_keys_service
from examday.plans.ticket_render import render_ticket_png, render_tickets_pdf
from examday.web import Ctx, blob_response, requires_role

admin_only = [requires_role("admin")]
paper_readers = [requires_role("admin", "proctor", "supervisor")]
seat_readers = [requires_role("admin", "proctor", "supervisor", "centre", "kiosk")]
key_readers = [requires_role("admin", "kiosk", "centre")]
page_readers = [requires_role("admin", "supervisor", "centre")]
PNG = {"Cache-Control": "private, no-store"}


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers=PNG)


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
    result = seating_moves.drop_room(ctx.db, ctx.user, ctx.now, bid, room_code, data.reason, data.seed)
    return _announce(ctx, bid, result)


@dataclass
class MoveIn:
    ticket_number: str
    room_code: str
    seat: int
    reason: str


@post("/api/v1/batches/{bid:int}/seating/moves", guards=admin_only, sync_to_thread=True, status_code=200)
def move_seat(ctx: Ctx, bid: FromPath[int], data: JSONBody[MoveIn]) -> dict[str, Any]:
    """One candidate to a free seat (a broken desk), recorded; after tickets are out, the way seats change."""
    result = seating_moves.move_seat(
        ctx.db, ctx.user, ctx.now, bid, data.ticket_number, data.room_code, data.seat, data.reason
    )
    return _announce(ctx, bid, result)


@dataclass
class StationsIn:
    seed: int | None = None


@post("/api/v1/batches/{bid:int}/stations", guards=admin_only, sync_to_thread=True, status_code=200)
def draw_stations(ctx: Ctx, bid: FromPath[int], data: JSONBody[StationsIn | None] = None) -> dict[str, Any]:
    result = seating_stations.draw_batch_stations(ctx.db, ctx.user, ctx.now, bid, (data or StationsIn()).seed)
    return _announce(ctx, bid, result)


# -- room papers ----------------------------------------------------------------------------


def _paper(ctx: Ctx, bid: int, room_code: str, paper: str, sitting: int | None = None) -> Response:
    draw = tickets.room_paper(ctx.db, ctx.user, bid, room_code, paper, sitting)
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
def room_door_list(
    ctx: Ctx, bid: FromPath[int], room_code: FromPath[str], sitting: FromQuery[int | None] = None
) -> Response:
    """``sitting``: a skill room's sitting (session id); its first sitting when left out."""
    return _paper(ctx, bid, room_code, "door-list", sitting)


@get(
    "/api/v1/batches/{bid:int}/rooms/{room_code:str}/signin-sheet.png",
    guards=paper_readers,
    sync_to_thread=True,
    media_type="image/png",
)
def room_signin_sheet(
    ctx: Ctx, bid: FromPath[int], room_code: FromPath[str], sitting: FromQuery[int | None] = None
) -> Response:
    return _paper(ctx, bid, room_code, "signin-sheet", sitting)


# -- tickets --------------------------------------------------------------------------------


@get("/api/v1/candidates/{cid:int}/ticket.png", guards=admin_only, sync_to_thread=True, media_type="image/png")
def ticket_png(ctx: Ctx, cid: FromPath[int]) -> Response:
    view = tickets.ticket_view(ctx.db, ctx.user, ctx.now, cid, ctx.state.settings.secret_key, ctx.state.blobs)
    # Committed before drawing, on purpose: the ticket is issued on first request, and the drawing
    # must not hold the transaction (on SQLite a write lock) open.
    ctx.db.commit()
    return _png(render_ticket_png(view))


@get("/api/v1/batches/{bid:int}/tickets.pdf", guards=admin_only, sync_to_thread=True, media_type="application/pdf")
def tickets_pdf(ctx: Ctx, bid: FromPath[int], reprint: FromQuery[bool] = False) -> Response:
    """``reprint``: only the tickets whose seat moved since they were last printed (R-SEAT-1)."""
    views = tickets.batch_views(
        ctx.db, ctx.user, ctx.now, bid, ctx.state.settings.secret_key, ctx.state.blobs, reprint_only=reprint
    )
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
    return ticket_keys_service.ticket_keys(ctx.db, ctx.user, iid)


@post("/api/v1/institutions/{iid:int}/ticket-keys/rotate", guards=admin_only, sync_to_thread=True, status_code=200)
def rotate_key(ctx: Ctx, iid: FromPath[int]) -> dict[str, Any]:
    return ticket_keys_service.rotate_key(ctx.db, ctx.user, ctx.now, iid)


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
    return ticket_keys_service.revoke_key(
        ctx.db, ctx.user, ctx.now, iid, kid, bool(data and data.reissue), ctx.state.settings.secret_key
    )


ROUTES: list = [
    *seating_pages.ROUTES,
    allocate_seats,
    get_seating,
    check_seating,
    drop_room,
    move_seat,
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
]
