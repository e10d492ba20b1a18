"""HTTP routes of `kiosk/`: check-in, offline sync, roster, attempts, desk search (CONTRACT.md "Check-in")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from examday import hot_path
from examday.clock import parse_iso
from examday.errors import Refusal
from examday.web import AUTH_IN_HANDLER, Ctx, RequestContext, blob_response, requires_role
from kiosk.services import checkin as service
from kiosk.services import door as at_door
from kiosk.services import roster as R
from kiosk.services import sync as sync_service

DOOR = ("kiosk", "admin")
door = [requires_role(*DOOR)]  # the door's other routes; the check-in names DOOR to hot_path.run
watchers = [requires_role("admin", "proctor", "supervisor")]


@dataclass
class CheckInIn:
    id_number: str
    kiosk_nonce: str
    ticket: str | None = None  # the QR text
    photo: str | None = None  # base64 JPEG taken at the kiosk, kept for the sign-in sheet
    ticket_number: str | None = None  # desk: typed by staff
    candidate_id: int | None = None  # desk: found by name
    batch_id: int | None = None  # desk: narrows a typed ticket number


@dataclass
class SyncIn:
    ticket: str
    id_number: str
    kiosk_nonce: str
    scanned_at: str | None = None
    photo: str | None = None
    offline_status: str | None = None  # accepted | refused: what the kiosk told the candidate
    clock_offset_ms: int | None = None  # the server's clock minus the kiosk's, as the kiosk last learnt it


# The door's hot path: token, role, body, check-in, commit and event in one worker thread.
@post("/api/v1/checkins", opt={AUTH_IN_HANDLER: True}, dependencies=hot_path.documented_body(CheckInIn))
async def check_in(request: Request) -> Response:
    return await hot_path.run(request, DOOR, _check_in)


def _check_in(ctx: RequestContext, body: bytes) -> Response:
    data = hot_path.decode(body, CheckInIn)
    attempt = at_door.Attempt(
        id_number=data.id_number,
        kiosk_nonce=data.kiosk_nonce,
        ticket=data.ticket,
        ticket_number=data.ticket_number,
        candidate_id=data.candidate_id,
        batch_id=data.batch_id,
        photo=at_door.decode_photo(data.photo),
    )
    at_door.keep_photos(ctx.state.blobs, [attempt])
    with at_door.gate(ctx.state.engine):
        out = service.check_in(
            ctx.db, ctx.user, ctx.now, ctx.state.settings.secret_key, ctx.state.blobs, attempt, alone=True
        )
        ctx.queue_events(out.events)  # published once committed, before the answer (hot_path.run)
        # Committed inside the gate, not at the end of the request: the gate queues this process's
        # SQLite writers, and the next check-in must not begin before this transaction has ended.
        ctx.db.commit()
    return Response(out.body, status_code=out.http_status)


def _scanned_at(text: str | None, index: int):
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise Refusal(
            "invalid_input",
            "scanned_at 时间格式无效",
            "scanned_at is not an ISO 8601 time.",
            None,
            422,
            {"index": index},
        ) from None


# A kiosk whose clock battery died may be years off and still know its offset; the bound only
# keeps the arithmetic on dates (the checks on the corrected time are what hold a kiosk to account).
MAX_CLOCK_OFFSET_MS = 100 * 366 * 24 * 3600 * 1000


def _offset(ms: int | None, index: int) -> int | None:
    if ms is None or abs(ms) <= MAX_CLOCK_OFFSET_MS:
        return ms
    raise Refusal(
        "invalid_input",
        "clock_offset_ms 超出范围（不超过一百年）",
        "clock_offset_ms is out of range (at most a hundred years).",
        None,
        422,
        {"index": index},
    )


@post("/api/v1/checkins/sync", guards=door, sync_to_thread=True, status_code=200)
def sync(ctx: Ctx, data: JSONBody[list[SyncIn]]) -> Response:
    records = [
        at_door.Attempt(
            id_number=r.id_number,
            kiosk_nonce=r.kiosk_nonce,
            ticket=r.ticket,
            scanned_at=_scanned_at(r.scanned_at, i),
            photo=at_door.decode_photo(r.photo, strict=False),
            offline_status=r.offline_status,
            clock_offset_ms=_offset(r.clock_offset_ms, i),
        )
        for i, r in enumerate(data)
    ]
    at_door.keep_photos(ctx.state.blobs, records)
    settings = ctx.state.settings
    grace = settings.offline_sync_grace_minutes
    with at_door.gate(ctx.state.engine):
        results, events = sync_service.sync(
            ctx.db,
            ctx.user,
            ctx.now,
            settings.secret_key,
            ctx.state.blobs,
            records,
            None if grace is None else timedelta(minutes=grace),
        )
        ctx.queue_events(events)
        ctx.db.commit()  # inside the gate, as for one check-in
    return Response(results, status_code=200)


@get("/api/v1/batches/{bid:int}/roster", guards=door, sync_to_thread=True)
def roster(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return R.roster(ctx.db, ctx.user, bid, ctx.now, ctx.state.settings.secret_key)


@get("/api/v1/batches/{bid:int}/checkins", guards=watchers, sync_to_thread=True)
def attempts(
    ctx: Ctx,
    bid: FromPath[int],
    status: FromQuery[str | None] = None,
    after_id: Annotated[int, Parameter(ge=0)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    return R.attempts(ctx.db, ctx.user, bid, status, after_id, limit)


@get("/api/v1/batches/{bid:int}/offline-conflicts", guards=watchers, sync_to_thread=True)
def offline_conflicts(ctx: Ctx, bid: FromPath[int]) -> list[dict[str, Any]]:
    return R.conflicts(ctx.db, ctx.user, bid)


@get("/api/v1/batches/{bid:int}/candidates/search", guards=door, sync_to_thread=True)
def search(ctx: Ctx, bid: FromPath[int], q: FromQuery[str] = "") -> list[dict[str, Any]]:
    return R.search(ctx.db, ctx.user, bid, q, ctx.now)


@get("/api/v1/checkin-batches", guards=door, sync_to_thread=True)
def todays_batches(ctx: Ctx) -> list[dict[str, Any]]:
    """Today's batches of the caller's institution: what a kiosk downloads rosters for."""
    return R.todays_batches(ctx.db, ctx.user, ctx.now)


@get("/api/v1/checkins/{ciid:int}/photo", guards=watchers, sync_to_thread=True, media_type="image/jpeg")
def checkin_photo(ctx: Ctx, ciid: FromPath[int]) -> Response:
    return blob_response(ctx, R.checkin_photo(ctx.db, ctx.user, ciid))


ROUTES: list = [check_in, sync, roster, attempts, offline_conflicts, search, todays_batches, checkin_photo]
