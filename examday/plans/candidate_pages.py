"""One candidate's page for the exam office (考生): the photo on the ticket and at the door, and a
lost ticket reissued (补发准考证) — steps that needed the API alone until issue #16.

The forms call the services the API calls (``tickets.put_photo``, ``tickets.reissue``), so the page
gives the same refusals. R-DAY-1: a reissued ticket's old token is refused at the door from then
on; the page asks for a tick before it does that. R-PRIV-1: the ID number is shown masked here
(the page may be open at the desk), the photo is served uncached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template

from examday.access import institution_for_write
from examday.errors import Refusal, conflict, not_found
from examday.identity import mask_id_number
from examday.plans.access import batch_for_read
from examday.plans.models import Candidate
from examday.plans.pages import UploadForm, read_upload
from examday.plans.services import tickets
from examday.plans.tickets import current_ticket
from examday.web import Ctx, page_action, requires_role

office_only = [requires_role("admin")]
DONE = {
    "photo": ("照片已保存，准考证和签到核验将使用新照片", "Photo saved: the ticket and the door use it from now on."),
    "reissued": (
        "准考证已补发：旧准考证即时作废，请打印新准考证交给考生",
        "Ticket reissued: the old one is refused from now on; print the new one for the candidate.",
    ),
}


def _page(ctx: Ctx, cid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    cand = ctx.db.get(Candidate, cid)
    if cand is None:
        raise not_found("candidate")
    batch = batch_for_read(ctx.db, ctx.user, cand.batch_id)
    institution_for_write(ctx.db, ctx.user, batch.institution_id)  # R-PRIV-1: this institution's office only
    ticket = current_ticket(ctx.db, cid)
    return Template(
        "plans_candidate.html",
        context={
            "actor": ctx.user,
            "c": cand,
            "masked": mask_id_number(cand.id_number),
            "batch": batch,
            "ticket": ticket,
            "notice": notice,
            "error": error,
            "open": batch.status in ("draft", "filed"),
        },
    )


@get("/office/candidates/{cid:int}", guards=office_only, sync_to_thread=True, include_in_schema=False)
def candidate_page(ctx: Ctx, cid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, cid, DONE.get(done or ""))


@post(
    "/office/candidates/{cid:int}/photo",
    guards=office_only,
    sync_to_thread=True,
    include_in_schema=False,
    request_max_body_size=6 * 1024 * 1024,
)
def photo_page(
    ctx: Ctx, cid: FromPath[int], data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response:
    def run() -> dict[str, Any]:
        content, _ = read_upload(data.file)
        return tickets.put_photo(ctx.db, ctx.user, ctx.now, cid, content, ctx.state.blobs)

    return page_action(ctx, run, f"/office/candidates/{cid}?done=photo", lambda r: _page(ctx, cid, error=r))


@dataclass
class ReissueForm:
    confirm: str = ""


@post("/office/candidates/{cid:int}/reissue", guards=office_only, sync_to_thread=True, include_in_schema=False)
def reissue_page(
    ctx: Ctx, cid: FromPath[int], data: Annotated[ReissueForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Response:
    def run() -> dict[str, Any]:
        if not data.confirm:
            # R-DAY-1: the old ticket stops working at once, so the office says it means it.
            raise conflict(
                "confirm_required",
                "请勾选确认：补发后旧准考证立即作废",
                "Tick the box: the old ticket stops working once a new one is issued.",
                "R-DAY-1",
            )
        return tickets.reissue(ctx.db, ctx.user, ctx.now, cid, ctx.state.settings.secret_key)

    return page_action(ctx, run, f"/office/candidates/{cid}?done=reissued", lambda r: _page(ctx, cid, error=r))


ROUTES = [candidate_page, photo_page, reissue_page]
