"""HTTP routes of `proctor/`: live rooms, proctor actions, the exam-room record and the
quality supervision (R-DAY-3, R-DISC-1, R-TIME-1, R-SUP-1). Thin: each handler calls
one service and queues the service's event; the request's unit of work commits, then publishes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from examday.access import batch_view
from examday.errors import not_found
from examday.web import Ctx, signed_in
from proctor import rooms as roomstate
from proctor.access import session_of
from proctor.services import admission, hand_in, incident, room_record, seat_move, supervision
from proctor.services.common import Outcome


def _done(ctx: Ctx, outcome: Outcome) -> dict[str, Any]:
    # Published after the commit: a client that reads the database finds what the event says.
    if outcome.event and outcome.batch_id is not None:
        ctx.queue_event(outcome.batch_id, outcome.event, outcome.room_code, **outcome.data)
    return outcome.body


@get("/api/v1/batches/{bid:int}/rooms", guards=[signed_in], sync_to_thread=True)
def batch_rooms(ctx: Ctx, bid: FromPath[int], session_id: FromQuery[int | None] = None) -> list[dict[str, Any]]:
    """Per room: expected, present, absent, late, incidents, cameras (R-DAY-3); a proctor sees their rooms."""
    view = batch_view(ctx.db, ctx.user, bid)
    session = (
        session_of(ctx.db, view.batch, session_id)
        if session_id
        else roomstate.current_session(ctx.db, view.batch, ctx.now)
    )
    if session is None:
        return []
    return [r for r in roomstate.rooms_state(ctx.db, view.batch, session, ctx.now) if view.sees(r["room_code"])]


@dataclass
class IncidentIn:
    room_code: str
    candidate_id: int
    kind: str
    description: str
    session_id: int | None = None
    photo: str | None = None  # base64 or a data: URL


@post("/api/v1/batches/{bid:int}/incidents", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_incident(ctx: Ctx, bid: FromPath[int], data: JSONBody[IncidentIn]) -> dict[str, Any]:
    return _done(
        ctx,
        incident.record_incident(
            ctx.db,
            ctx.user,
            ctx.now,
            ctx.state.blobs,
            bid,
            data.room_code,
            data.candidate_id,
            data.kind,
            data.description,
            data.session_id,
            data.photo,
        ),
    )


@dataclass
class AdmissionIn:
    room_code: str
    candidate_id: int
    reason: str
    session_id: int | None = None


@post("/api/v1/batches/{bid:int}/admissions", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_admission(ctx: Ctx, bid: FromPath[int], data: JSONBody[AdmissionIn]) -> dict[str, Any]:
    """A proctor of the room admits a candidate by hand, with the reason (R-ID-1, R-AUDIT-1)."""
    return _done(
        ctx,
        admission.admit_by_hand(
            ctx.db, ctx.user, ctx.now, bid, data.room_code, data.candidate_id, data.reason, data.session_id
        ),
    )


@dataclass
class SeatMoveIn:
    room_code: str
    candidate_id: int
    to_seat: int
    reason: str
    session_id: int | None = None


@post("/api/v1/batches/{bid:int}/seat-moves", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_seat_move(ctx: Ctx, bid: FromPath[int], data: JSONBody[SeatMoveIn]) -> dict[str, Any]:
    return _done(
        ctx,
        seat_move.move_seat(
            ctx.db,
            ctx.user,
            ctx.now,
            bid,
            data.room_code,
            data.candidate_id,
            data.to_seat,
            data.reason,
            data.session_id,
        ),
    )


@dataclass
class HandInIn:
    room_code: str
    candidate_id: int
    session_id: int | None = None


@post("/api/v1/batches/{bid:int}/hand-ins", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_hand_in(ctx: Ctx, bid: FromPath[int], data: JSONBody[HandInIn]) -> dict[str, Any]:
    return _done(
        ctx, hand_in.note_hand_in(ctx.db, ctx.user, ctx.now, bid, data.room_code, data.candidate_id, data.session_id)
    )


RECORD = "/api/v1/batches/{bid:int}/sessions/{sid:int}/rooms/{room_code:str}/record"


@get(RECORD, guards=[signed_in], sync_to_thread=True)
def get_record(ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str]) -> dict[str, Any]:
    return room_record.get_record(ctx.db, ctx.user, ctx.now, bid, sid, room_code)


@dataclass
class RecordIn:
    remarks: str = ""


@post(RECORD, guards=[signed_in], sync_to_thread=True, status_code=201)
def produce_record(
    ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str], data: JSONBody[RecordIn | None] = None
) -> dict[str, Any]:
    return _done(
        ctx,
        room_record.produce_record(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sid, room_code, (data or RecordIn()).remarks
        ),
    )


@dataclass
class ConfirmIn:
    content_hash: str | None = None


@post(RECORD + "/confirm", guards=[signed_in], sync_to_thread=True, status_code=200)
def confirm_record(
    ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str], data: JSONBody[ConfirmIn | None] = None
) -> dict[str, Any]:
    return _done(
        ctx,
        room_record.confirm_record(ctx.db, ctx.user, ctx.now, bid, sid, room_code, (data or ConfirmIn()).content_hash),
    )


@dataclass
class AmendIn:
    text: str
    reason: str


@post(RECORD + "/amend", guards=[signed_in], sync_to_thread=True, status_code=201)
def amend_record(
    ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str], data: JSONBody[AmendIn]
) -> dict[str, Any]:
    return _done(
        ctx,
        room_record.amend_record(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sid, room_code, data.text, data.reason
        ),
    )


@get(RECORD + ".png", guards=[signed_in], sync_to_thread=True, media_type="image/png")
def record_png(ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str]) -> Response:
    """The record as archived (the latest amended version when there are amendments)."""
    from storage.blobs import Blob

    body = room_record.get_record(ctx.db, ctx.user, ctx.now, bid, sid, room_code)
    blob = ctx.db.get(Blob, body.get("document_blob_id") or 0)
    if blob is None:
        raise not_found("exam-room record document")
    return Response(ctx.state.blobs.read(blob.key), media_type="image/png")


@dataclass
class FindingIn:
    area: str
    text: str


@post("/api/v1/batches/{bid:int}/supervision/findings", guards=[signed_in], sync_to_thread=True, status_code=201)
def add_finding(ctx: Ctx, bid: FromPath[int], data: JSONBody[FindingIn]) -> dict[str, Any]:
    return _done(ctx, supervision.add_finding(ctx.db, ctx.user, ctx.now, bid, data.area, data.text))


@dataclass
class ReportIn:
    organisation: str
    eligibility: str
    questions_examiners: str
    rooms_equipment: str
    fees: str
    opinion: str  # valid | partly_valid | invalid
    opinion_text: str = ""


@post("/api/v1/batches/{bid:int}/supervision/report", guards=[signed_in], sync_to_thread=True, status_code=201)
def file_report(ctx: Ctx, bid: FromPath[int], data: JSONBody[ReportIn]) -> dict[str, Any]:
    sections = {
        a: getattr(data, a) for a in ("organisation", "eligibility", "questions_examiners", "rooms_equipment", "fees")
    }
    return _done(
        ctx,
        supervision.file_report(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sections, data.opinion, data.opinion_text
        ),
    )


@get("/api/v1/batches/{bid:int}/supervision", guards=[signed_in], sync_to_thread=True)
def supervision_status(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return supervision.supervision_status(ctx.db, ctx.user, ctx.now, bid)


ROUTES: list = [
    batch_rooms,
    add_incident,
    add_admission,
    add_seat_move,
    add_hand_in,
    get_record,
    produce_record,
    confirm_record,
    amend_record,
    record_png,
    add_finding,
    file_report,
    supervision_status,
]
