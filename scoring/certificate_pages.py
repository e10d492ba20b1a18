"""The exam office's certificates page (证书): issue the certificate numbers of a locked batch
once the evaluation centre has approved it, and read what was issued (R-CERT-1, R-FMT-CERT,
R-PUB-2, R-CAL).

A thin form over ``scoring.services.certificates.issue_certificates``, the service behind
``POST /api/v1/batches/{bid}/certificates``: it refuses here exactly as there (batch_not_locked,
review_pending, issue_date_before_review, certificate_number_invalid, certificates_issued), shown
on the page in the refusal's shape with what was typed kept. The form asks what the unified
coding (统一编码) needs and the office knows: the kind Y/S — preselected from the institution's
kind (an enterprise 用人单位 issues Y, a social organisation or school S) — the 4-digit institution
code and the 6-digit site serial; the province code comes from the institution's province, the
year and level from the batch. Linked from the scores page once the centre has approved.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template

from examday.clock import CST
from examday.errors import Refusal
from examday.registry.models import Institution
from examday.rows import row_id
from examday.web import Ctx, page_action, requires_role
from scoring import access
from scoring.provinces import province_code
from scoring.publicity import REPORTING_WORKING_DAYS
from scoring.services import certificates as certificates_service
from scoring.services import review as review_service

OFFICE = [requires_role("admin")]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
DONE = {"issued": ("证书编号已生成", "Certificate numbers issued.")}


def kind_for(institution_kind: str | None) -> str:
    """R-FMT-CERT: Y for an enterprise (用人单位), S for a social organisation or a school."""
    return "Y" if institution_kind == "enterprise" else "S"


def _issue_date(raw: str) -> date | None:
    if not raw.strip():
        return None  # today, as the API's default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise Refusal(
            "issue_date_invalid",
            "发证日期格式应为 年-月-日",
            "Write the issue date as YYYY-MM-DD.",
            "R-CERT-1",
            422,
            {"issue_date": raw},
        ) from None


def _page(
    ctx: Ctx,
    bid: int,
    notice: tuple[str, str] | None = None,
    error: Refusal | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    batch = access.batch_for_admin(ctx.db, ctx.user, bid)
    inst = ctx.db.get(Institution, batch.institution_id)
    review = review_service.review_body(ctx.db, ctx.user, bid, ctx.now) if batch.status == "locked" else None
    issued = (
        certificates_service.certificate_data(ctx.db, ctx.user, bid, ctx.now)
        if review is not None and review["report"] is not None
        else None
    )
    form = {
        "kind": kind_for(inst.kind if inst else None),
        "institution_code": "",
        "site_serial": "",
        "issue_date": ctx.now.astimezone(CST).date().isoformat(),
        **(typed or {}),
    }
    return Template(
        "office_certificates.html",
        context={
            "actor": ctx.user,
            "batch": batch,
            "institution": inst,
            "province_code": province_code(inst.province if inst else None),
            "review": review,
            "issued": issued,
            "form": form,
            "reporting_days": REPORTING_WORKING_DAYS,
            "notice": notice,
            "error": error,
        },
    )


@get("/office/batches/{bid:int}/certificates", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def certificates_page(ctx: Ctx, bid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, bid, DONE.get(done or ""))


@post("/office/batches/{bid:int}/certificates/issue", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def certificates_submit(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    typed = {k: str(data.get(k, "")).strip() for k in ("kind", "institution_code", "site_serial", "issue_date")}

    def run() -> dict[str, Any]:
        batch = access.batch_for_admin(ctx.db, ctx.user, bid)  # who first, then what was typed
        return certificates_service.issue_certificates(
            ctx.db,
            ctx.user,
            ctx.now,
            row_id(batch),
            kind=typed["kind"],
            institution_code=typed["institution_code"],
            site_serial=typed["site_serial"],
            issue_date=_issue_date(typed["issue_date"]),
        )

    return page_action(
        ctx, run, f"/office/batches/{bid}/certificates?done=issued", lambda r: _page(ctx, bid, error=r, typed=typed)
    )


ROUTES = [certificates_page, certificates_submit]
