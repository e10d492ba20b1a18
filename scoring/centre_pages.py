"""The centre's dashboard of the reports received (上报情况): R-PUB-2, R-SUP-1, R-DISC-1, issue #17.

``GET /centre/reports``: per institution of the centre's province registered here, the batches
reported on time or late, the packages refused and why, the blocked batches, the tier (b)/(c)
incidents, the late supervision reports and each batch's last verification
(``scoring.centre_reports``); ``GET /centre/reports.xlsx``: the same as a workbook.
"""

from __future__ import annotations

from litestar import Response, get
from litestar.response import Template

from examday.web import Ctx, requires_role
from scoring import centre_reports, exports

CENTRE = [requires_role("centre", "admin")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/centre/reports", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def reports_page(ctx: Ctx) -> Template:
    return Template(
        "centre_reports.html",
        context={"user": ctx.user, "institutions": centre_reports.dashboard(ctx.db, ctx.user), "now": ctx.now},
    )


@get("/centre/reports.xlsx", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def reports_xlsx(ctx: Ctx) -> Response:
    data = centre_reports.dashboard_xlsx(ctx.db, ctx.user, ctx.now)
    return Response(content=data, media_type=XLSX, headers=exports.disposition("centre-reports.xlsx"))


ROUTES: list = [reports_page, reports_xlsx]
