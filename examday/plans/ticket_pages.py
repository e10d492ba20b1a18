"""The office's page for printing every ticket of a batch (打印准考证, issue #16): started with a
button, drawn in the background (:mod:`examday.jobs`: on disk, so any server process answers the
page's refresh), the page shows the count drawn and refreshes itself until the PDF's link appears;
only the account that started it reads it (R-PRIV-1). ``GET /api/v1/batches/{bid}/tickets.pdf`` stays
as CONTRACT.md says, for programs.
"""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from examday import jobs
from examday.access import institution_for_write
from examday.errors import not_found
from examday.plans.access import batch_for_read
from examday.plans.services import tickets
from examday.plans.ticket_render import render_tickets_pdf
from examday.web import Ctx, requires_role

office_only = [requires_role("admin")]


@post("/office/batches/{bid:int}/tickets/print", guards=office_only, sync_to_thread=True, include_in_schema=False)
def start_printing(ctx: Ctx, bid: FromPath[int]) -> Response:
    views = tickets.batch_views(ctx.db, ctx.user, ctx.now, bid, ctx.state.settings.secret_key, ctx.state.blobs)
    # Committed before drawing, as the API does: tickets issued now are kept, and the drawing
    # never holds the transaction (on SQLite a write lock).
    ctx.db.commit()
    now = ctx.now
    job = jobs.start(
        ctx.state.settings.data_dir,
        ctx.state.clock,
        "tickets",
        bid,
        ctx.user.account_id,
        len(views),
        lambda progress: render_tickets_pdf(views, created_at=now, progress=progress),
        filename=f"tickets-{bid}.pdf",
        media_type="application/pdf",
    )
    return Redirect(f"/office/batches/{bid}/tickets/print/{job.id}", status_code=303)


def _job(ctx: Ctx, bid: int, job_id: str) -> jobs.Job:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    institution_for_write(ctx.db, ctx.user, batch.institution_id)  # the batch's exam office only
    job = jobs.find(ctx.state.settings.data_dir, ctx.now, job_id, bid, ctx.user.account_id)
    if job is None or job.kind != "tickets":  # an import job's id is no print job
        raise not_found("print job")
    return job


@get(
    "/office/batches/{bid:int}/tickets/print/{job_id:str}",
    guards=office_only,
    sync_to_thread=True,
    include_in_schema=False,
)
def printing_page(ctx: Ctx, bid: FromPath[int], job_id: FromPath[str]) -> Template:
    return Template("plans_printing.html", context={"actor": ctx.user, "bid": bid, "job": _job(ctx, bid, job_id)})


@get(
    "/office/batches/{bid:int}/tickets/print/{job_id:str}/tickets.pdf",
    guards=office_only,
    sync_to_thread=True,
    include_in_schema=False,
)
def printed_pdf(ctx: Ctx, bid: FromPath[int], job_id: FromPath[str]) -> Response:
    pdf = jobs.output(ctx.state.settings.data_dir, _job(ctx, bid, job_id))
    if pdf is None:
        raise not_found("tickets PDF")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": f'inline; filename="tickets-{bid}.pdf"'},
    )


ROUTES = [start_printing, printing_page, printed_pdf]
