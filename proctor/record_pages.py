"""The exam-room record's page (考场记录表, R-DAY-3, issue #16): after a session the proctor
produces the record of their room, reads it, confirms it under their own account (each proctor of
the room, R-STAFF-4), and once confirmed changes it only by an amendment with its reason
(R-AUDIT-1). The forms call the same services as the API (proctor/services/room_record.py); a
refusal shows the page again with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import select

from examday.access import batch_view
from examday.clock import iso
from examday.errors import Refusal
from examday.plans.models import ProctorAssignment
from examday.web import Ctx, page_action, signed_in
from proctor import rooms as roomstate
from proctor.models import RoomRecord
from proctor.pages import again as _again
from proctor.services import room_record

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
DONE = {
    "produced": ("考场记录表已生成，请核对后确认", "The record is produced: read it, then confirm it."),
    "confirmed": ("已确认", "Confirmed."),
    "amended": ("更正已记录", "The amendment is recorded."),
}


def _api(bid: int, sid: int, room: str) -> str:
    return f"/api/v1/batches/{bid}/sessions/{sid}/rooms/{room}/record"


def _pairs(ctx: Ctx, bid: int) -> tuple[Any, list[dict[str, Any]]]:
    """The (session, room) pairs the actor may read a record of: a proctor's own rooms, else every
    room they see; with the record's status."""
    view = batch_view(ctx.db, ctx.user, bid)
    mine: set[tuple[int, int]] | None = None
    if ctx.user.role == "proctor":
        mine = {
            (a.session_id, a.room_id)
            for a in ctx.db.exec(
                select(ProctorAssignment).where(ProctorAssignment.staff_id == (ctx.user.staff_id or -1))
            ).all()
        }
    records = {
        (r.session_id, r.room_id): r for r in ctx.db.exec(select(RoomRecord).where(RoomRecord.batch_id == bid)).all()
    }
    out = []
    skill_no = 0
    for s in roomstate.sessions_of(ctx.db, bid):
        if s.part == "skill":
            skill_no += 1
        for room in roomstate.session_rooms(ctx.db, s):
            if not view.sees(room.code) or (mine is not None and (s.id, room.id) not in mine):
                continue
            rec = records.get((s.id or 0, room.id or 0))
            status = "not_produced" if rec is None else ("confirmed" if rec.confirmed_at else "produced")
            out.append(
                {
                    "session": s,
                    "sitting": skill_no if s.part == "skill" else None,
                    "room": room,
                    "status": status,
                    "ended": ctx.now >= s.ends_at,
                }
            )
    return view, out


def _page(
    ctx: Ctx,
    bid: int,
    session_id: int | None,
    room: str | None,
    error: Refusal | None = None,
    done: str | None = None,
    form: dict[str, Any] | None = None,
) -> Template:
    view, pairs = _pairs(ctx, bid)
    chosen = next(
        (p for p in pairs if p["session"].id == session_id and p["room"].code == room),
        pairs[0] if len(pairs) == 1 and session_id is None else None,
    )
    record = None
    if chosen is not None:
        record = room_record.get_record(ctx.db, ctx.user, ctx.now, bid, chosen["session"].id, chosen["room"].code)
    staff_id = ctx.user.staff_id
    content = (record or {}).get("content") or (record or {}).get("draft") or {}
    names = {p["staff_id"]: p["name"] for p in content.get("proctors", [])}
    confirmed_ids = {k["staff_id"] for k in (record or {}).get("confirmations", [])}
    is_room_proctor = ctx.user.role == "proctor" and staff_id in names
    return Template(
        "room_records.html",
        context={
            "actor": ctx.user,
            "batch": view.batch,
            "institution": view.institution.name,
            "pairs": pairs,
            "chosen": chosen,
            "record": record,
            "content": content,
            "pending_names": [names.get(i, "") for i in (record or {}).get("pending", [])],
            "can_produce": is_room_proctor and chosen is not None and chosen["ended"] and not confirmed_ids,
            "can_confirm": is_room_proctor
            and record is not None
            and record["status"] != "not_produced"
            and staff_id not in confirmed_ids,
            "can_amend": (is_room_proctor or ctx.user.role == "admin") and bool(confirmed_ids),
            "png": _api(bid, chosen["session"].id, chosen["room"].code) + ".png" if chosen and record else None,
            "error": error.body() if error else None,
            "notice": DONE.get(done or ""),
            "form": form or {},
            "now": iso(ctx.now),
        },
    )


@get("/proctor/batches/{bid:int}/records", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def records_page(
    ctx: Ctx,
    bid: FromPath[int],
    session_id: FromQuery[int | None] = None,
    room: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return _again(ctx, None, lambda: _page(ctx, bid, session_id, room, done=done))


@dataclass
class RecordForm:
    """Every field any of the record's forms reads; absent ones are refused by the service."""

    session_id: int | None = None
    room_code: str = ""
    remarks: str = ""
    content_hash: str = ""
    text: str = ""
    reason: str = ""


def _act(ctx: Ctx, bid: int, form: RecordForm, done: str, action: Any) -> Response:
    def run() -> Any:
        if not form.session_id:
            raise Refusal("session_required", "请选择场次", "Choose the session.", "R-DAY-3", 422)
        outcome = action(form.session_id)
        if outcome.event and outcome.batch_id is not None:
            ctx.queue_event(outcome.batch_id, outcome.event, outcome.room_code, **outcome.data)
        return outcome

    target = f"/proctor/batches/{bid}/records?session_id={form.session_id}&room={form.room_code}&done={done}"
    return page_action(
        ctx,
        run,
        target,
        lambda r: _again(ctx, r, lambda: _page(ctx, bid, form.session_id, form.room_code, error=r, form=form.__dict__)),
    )


@post("/proctor/batches/{bid:int}/records/produce", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def produce_page(ctx: Ctx, bid: FromPath[int], data: Annotated[RecordForm, FORM]) -> Response:
    """Produce (or, before anyone confirms, produce again) the record of a room (R-DAY-3)."""
    return _act(
        ctx,
        bid,
        data,
        "produced",
        lambda sid: room_record.produce_record(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sid, data.room_code, data.remarks
        ),
    )


@post("/proctor/batches/{bid:int}/records/confirm", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def confirm_page(ctx: Ctx, bid: FromPath[int], data: Annotated[RecordForm, FORM]) -> Response:
    """Confirm the record as read: bound to the content's hash the proctor saw (R-STAFF-4, R-AUDIT-1)."""
    return _act(
        ctx,
        bid,
        data,
        "confirmed",
        lambda sid: room_record.confirm_record(
            ctx.db, ctx.user, ctx.now, bid, sid, data.room_code, data.content_hash or "-"
        ),
    )


@post("/proctor/batches/{bid:int}/records/amend", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def amend_page(ctx: Ctx, bid: FromPath[int], data: Annotated[RecordForm, FORM]) -> Response:
    """Amend a confirmed record with the reason, on the audit chain (R-AUDIT-1)."""
    return _act(
        ctx,
        bid,
        data,
        "amended",
        lambda sid: room_record.amend_record(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sid, data.room_code, data.text, data.reason
        ),
    )


ROUTES = [records_page, produce_page, confirm_page, amend_page]
