"""HTTP routes of legal holds and the retention preview (CONTRACT.md "Video"; R-VIDEO-1, R-ARCH-1),
for the exam office (admin) only; a batch's archive (R-ARCH-1, R-DAY-3), read by the office,
the supervisor and the centre, added to by the office; an institution's retention profile
(R-VIDEO-1), chosen by the installation administrator or the centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Response

from examday.clock import CST
from examday.errors import Refusal
from examday.records import archive, documents, holds, paper_trail, profile
from examday.web import Ctx, requires_role
from storage import purge

office = [requires_role("admin")]
paper_readers = [requires_role("admin", "proctor", "supervisor")]  # as the room papers' (R-DAY-3)
archive_readers = [requires_role("admin", "centre", "supervisor")]
profile_setters = [requires_role("admin", "centre")]


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


@get("/api/v1/batches/{bid:int}/archive", guards=archive_readers, sync_to_thread=True)
def list_archive(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    """The batch's archived documents, each with its retention class (R-ARCH-1); the sign-in
    sheets of the sessions that have ended are archived first (R-DAY-3)."""
    return documents.list_documents(ctx.db, ctx.state.blobs, ctx.user, ctx.now, bid)


@dataclass
class ScanForm:
    kind: str = ""
    file: UploadFile | None = None


def read_scan(upload: UploadFile | None) -> tuple[bytes, str]:
    if upload is None or not hasattr(upload, "file"):
        raise Refusal("file_required", "请选择扫描件", "Send the scan in the field 'file'.", "R-ARCH-1", 422)
    upload.file.seek(0)
    return upload.file.read(archive.MAX_BYTES + 1), upload.filename or ""


@post(
    "/api/v1/batches/{bid:int}/archive",
    guards=office,
    sync_to_thread=True,
    status_code=201,
    request_max_body_size=archive.MAX_BYTES + 1024 * 1024,
)
def upload_scan(
    ctx: Ctx, bid: FromPath[int], data: Annotated[ScanForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    """A paper scan against the batch: registration_form | pledge | signed_sheet | other (R-ARCH-1)."""
    content, name = read_scan(data.file)
    return documents.upload(ctx.db, ctx.state.blobs, ctx.user, ctx.now, bid, data.kind, name, content)


@get("/api/v1/batches/{bid:int}/archive/{did:int}", guards=archive_readers, sync_to_thread=True)
def download_document(ctx: Ctx, bid: FromPath[int], did: FromPath[int]) -> Response:
    doc, blob = documents.document_file(ctx.db, ctx.user, bid, did)
    ascii_name = f"document-{doc.id}{'.' + doc.filename.rsplit('.', 1)[-1] if '.' in doc.filename else ''}"
    return Response(
        ctx.state.blobs.read(blob.key),
        media_type=doc.content_type,
        headers={
            "Cache-Control": "private, no-store",  # personal data (R-PRIV-1)
            "Content-Disposition": f'attachment; filename="{ascii_name}"',
            "X-Content-SHA256": doc.sha256,
        },
    )


@get(
    "/api/v1/batches/{bid:int}/sessions/{sid:int}/rooms/{room_code:str}/signin-sheet.pdf",
    guards=paper_readers,
    sync_to_thread=True,
    media_type="application/pdf",
)
def room_signin_record(ctx: Ctx, bid: FromPath[int], sid: FromPath[int], room_code: FromPath[str]) -> Response:
    """The room's sign-in sheet as it happened, after the session (R-DAY-3); before, 409."""
    pdf = paper_trail.room_sheet(ctx.db, ctx.state.blobs, ctx.user, ctx.now, bid, room_code, sid)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="signin-{bid}-{sid}-{room_code}.pdf"',
        },
    )


@dataclass
class ProfileIn:
    profile: str


@put("/api/v1/institutions/{iid:int}/retention-profile", guards=profile_setters, sync_to_thread=True)
def set_retention_profile(ctx: Ctx, iid: FromPath[int], data: JSONBody[ProfileIn]) -> dict[str, Any]:
    """Choose the institution's retention profile (R-VIDEO-1): the installation administrator
    or the province's centre, never the institution's own office."""
    return profile.set_profile(ctx.db, ctx.user, ctx.now, iid, data.profile)


ROUTES = [
    place_hold,
    release_hold,
    list_holds,
    retention,
    list_archive,
    upload_scan,
    download_document,
    room_signin_record,
    set_retention_profile,
]
