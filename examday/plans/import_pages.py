"""A long candidate import in the background (考生名单导入, issue #16; R-ID-1 all or nothing).

Measured (``bench/import_candidates.py`` and the same rows saved as XLSX): a CSV of 5,000 rows
imports in about 0.2 s, so a CSV stays in the request. An XLSX is read by openpyxl at about
1,500 rows a second — 2,000 rows take about 2 s, 5,000 about 5–7 s on a busy machine — so an
XLSX larger than ``BACKGROUND_BYTES`` (about 600 rows) runs as a job (:mod:`examday.jobs`): the
page shows the rows read and refreshes itself; when done it goes to the batch page with the count
imported, or shows the batch page with the refusal and its row-by-row report, as a CSV's import
does. The import commits in the job's own session and is on the audit chain as any import is.
"""

from __future__ import annotations

import json

from litestar import get
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from sqlmodel import Session

from examday import jobs
from examday.access import institution_for_write
from examday.errors import Refusal, not_found
from examday.plans.access import batch_for_read
from examday.plans.services import candidates as candidate_service
from examday.web import Ctx, requires_role

BACKGROUND_BYTES = 24 * 1024  # an XLSX of about 600 rows: under a second in the request
KIND = "candidates"


def wants_background(content: bytes, filename: str | None) -> bool:
    xlsx = content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx")
    return xlsx and len(content) > BACKGROUND_BYTES


def start(ctx: Ctx, bid: int, content: bytes, filename: str | None) -> Response:
    """Hand the import to a job; the answer is the job's page."""
    engine, actor, now = ctx.state.engine, ctx.user, ctx.now
    ctx.db.commit()  # the request's transaction (on SQLite a write lock) ends before the job writes

    def work(progress) -> bytes:
        with Session(engine) as db:
            try:
                out = candidate_service.import_candidates(db, actor, now, bid, content, filename, progress)
                db.commit()
            except Refusal as r:
                db.rollback()
                return json.dumps({"refusal": {**r.body(), "status": r.status}}).encode()
        return json.dumps({"imported": out["imported"]}).encode()

    job = jobs.start(
        ctx.state.settings.data_dir,
        ctx.state.clock,
        KIND,
        bid,
        actor.account_id,
        0,  # rows: not known until the sheet is read
        work,
        filename="import.json",
        media_type="application/json",
    )
    return Redirect(f"/office/batches/{bid}/candidates/import/{job.id}", status_code=303)


@get(
    "/office/batches/{bid:int}/candidates/import/{job_id:str}",
    guards=[requires_role("admin")],
    sync_to_thread=True,
    include_in_schema=False,
)
def import_job_page(ctx: Ctx, bid: FromPath[int], job_id: FromPath[str]) -> Response:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    institution_for_write(ctx.db, ctx.user, batch.institution_id)  # the batch's exam office only
    data_dir = ctx.state.settings.data_dir
    job = jobs.find(data_dir, ctx.now, job_id, bid, ctx.user.account_id)
    if job is None or job.kind != KIND:
        raise not_found("import job")
    raw = jobs.output(data_dir, job)
    if raw is None:
        return Template("plans_importing.html", context={"actor": ctx.user, "bid": bid, "job": job})
    result = json.loads(raw)
    if "imported" in result:
        return Redirect(f"/office/batches/{bid}?imported={result['imported']}", status_code=303)
    from examday.plans.pages import batch_page_with  # the batch page, as a refused CSV shows it

    r = result["refusal"]
    refusal = Refusal(r["code"], r["message"], r["message_en"], r.get("rule"), r["status"], r.get("detail"))
    page = batch_page_with(ctx, bid, refusal)
    page.status_code = refusal.status
    return page


ROUTES = [import_job_page]
