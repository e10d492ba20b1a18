"""The quality supervisor's page (质量督导, R-SUP-1, issue #16): the findings noted during the day,
a form to note one, and the supervision report (质量督导报告) with its deadline — 3 working days
after the exam on the installation's calendar, computed on read (R-CAL). The exam office and the
centre read it; only the batch's supervisor writes. The forms call the same services as the API
(proctor/services/supervision.py); a refusal shows the page again with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import func, select

from examday.access import batch_view
from examday.errors import Refusal
from examday.plans.models import ExamSession
from examday.web import Ctx, page_action, signed_in
from proctor.pages import again as _again
from proctor.rules import SUPERVISION_AREAS, VALIDITY_OPINIONS
from proctor.services import supervision

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
DONE = {
    "noted": ("督导记录已保存", "The finding is noted."),
    "filed": ("督导报告已提交并存档", "The supervision report is filed and archived."),
}


def _page(
    ctx: Ctx, bid: int, error: Refusal | None = None, done: str | None = None, form: dict[str, Any] | None = None
) -> Template:
    view = batch_view(ctx.db, ctx.user, bid)
    status = supervision.supervision_status(ctx.db, ctx.user, ctx.now, bid)
    last_end = ctx.db.exec(select(func.max(ExamSession.ends_at)).where(ExamSession.batch_id == bid)).one()
    is_supervisor = ctx.user.role == "supervisor"
    return Template(
        "supervision.html",
        context={
            "actor": ctx.user,
            "batch": view.batch,
            "institution": view.institution.name,
            "status": status,
            "areas": [*SUPERVISION_AREAS, "other"],
            "report_areas": SUPERVISION_AREAS,
            "opinions": list(VALIDITY_OPINIONS),
            "is_supervisor": is_supervisor,
            "exam_over": last_end is not None and ctx.now >= last_end,
            "last_end": last_end,
            "error": error.body() if error else None,
            "notice": DONE.get(done or ""),
            "form": form or {},
        },
    )


@get("/proctor/batches/{bid:int}/supervision", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def supervision_page(ctx: Ctx, bid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _again(ctx, None, lambda: _page(ctx, bid, done=done))


@dataclass
class FindingForm:
    area: str = ""
    text: str = ""


@post(
    "/proctor/batches/{bid:int}/supervision/findings", guards=[signed_in], sync_to_thread=True, include_in_schema=False
)
def finding_page(ctx: Ctx, bid: FromPath[int], data: Annotated[FindingForm, FORM]) -> Response:
    """Note a finding during the day (R-SUP-1)."""
    return page_action(
        ctx,
        lambda: supervision.add_finding(ctx.db, ctx.user, ctx.now, bid, data.area, data.text),
        f"/proctor/batches/{bid}/supervision?done=noted#findings",
        lambda r: _again(ctx, r, lambda: _page(ctx, bid, error=r, form=data.__dict__)),
    )


@dataclass
class ReportForm:
    organisation: str = ""
    eligibility: str = ""
    questions_examiners: str = ""
    rooms_equipment: str = ""
    fees: str = ""
    opinion: str = ""
    opinion_text: str = ""


@post("/proctor/batches/{bid:int}/supervision/report", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def report_page(ctx: Ctx, bid: FromPath[int], data: Annotated[ReportForm, FORM]) -> Response:
    """File the supervision report: every area and an opinion on the batch's validity (R-SUP-1)."""
    sections = {a: getattr(data, a) for a in SUPERVISION_AREAS}
    return page_action(
        ctx,
        lambda: supervision.file_report(
            ctx.db, ctx.user, ctx.now, ctx.state.blobs, bid, sections, data.opinion, data.opinion_text
        ),
        f"/proctor/batches/{bid}/supervision?done=filed",
        lambda r: _again(ctx, r, lambda: _page(ctx, bid, error=r, form=data.__dict__)),
    )


ROUTES = [supervision_page, finding_page, report_page]
