"""The office page of a batch's archive (存档, R-ARCH-1): what is kept, for how long, and the
upload of paper scans. The same services as the API; a refusal is shown on the page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template

from examday.errors import Refusal
from examday.records import archive, documents
from examday.records.controllers import ScanForm, read_scan
from examday.web import Ctx, page_action, requires_role

readers = [requires_role("admin", "centre", "supervisor")]
office = [requires_role("admin")]


def _page(ctx: Ctx, bid: int, error: Refusal | None = None, done: bool = False) -> Template:
    listing = documents.list_documents(ctx.db, ctx.state.blobs, ctx.user, ctx.now, bid)
    ctx.db.commit()  # the sign-in sheets archived on the way are kept even if drawing the page fails
    context: dict[str, Any] = {
        "actor": ctx.user,
        "bid": bid,
        "listing": listing,
        "error": error.body() if error else None,
        "done": done,
    }
    return Template("records_archive.html", context=context, media_type=MediaType.HTML)


@get("/office/batches/{bid:int}/archive", guards=readers, sync_to_thread=True, include_in_schema=False)
def archive_page(ctx: Ctx, bid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, bid, done=done == "uploaded")


@post(
    "/office/batches/{bid:int}/archive",
    guards=office,
    sync_to_thread=True,
    include_in_schema=False,
    request_max_body_size=archive.MAX_BYTES + 1024 * 1024,
)
def upload_page(
    ctx: Ctx, bid: FromPath[int], data: Annotated[ScanForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response:
    def run() -> dict[str, Any]:
        content, name = read_scan(data.file)
        return documents.upload(ctx.db, ctx.state.blobs, ctx.user, ctx.now, bid, data.kind, name, content)

    return page_action(ctx, run, f"/office/batches/{bid}/archive?done=uploaded", lambda r: _page(ctx, bid, error=r))


ROUTES = [archive_page, upload_page]
