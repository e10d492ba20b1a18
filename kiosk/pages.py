"""The check-in desk page (签到台) for staff with a tablet or a handheld scanner (R-DAY-1).

Plain HTML and a little JavaScript that posts to ``/api/v1/checkins`` with the
page's session cookie; the server decides exactly as it does for a kiosk.
"""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from examday.web import Ctx, requires_role
from kiosk.services import roster as R


@get("/desk", guards=[requires_role("kiosk", "admin")], sync_to_thread=True, include_in_schema=False)
def desk(ctx: Ctx) -> Template:
    batches = R.todays_batches(ctx.db, ctx.user, ctx.now)
    return Template("desk.html", context={"actor": ctx.actor, "batches": batches})


ROUTES = [desk]
