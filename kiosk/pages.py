"""The check-in desk page (签到台) for staff with a tablet or a handheld scanner (R-DAY-1).

Plain HTML and a little JavaScript that posts to ``/api/v1/checkins`` with the
page's session cookie; the server decides exactly as it does for a kiosk.

A typed ticket number goes without a batch: ticket numbers are unique across batches
(``{year}{batch id}{seq}``), and the server finds the ticket among the institution's batches,
today's first (``kiosk.services.checkin._typed_ticket``), as it does for a scanned QR code.
From 13:00 one batch's skill part and another's theory are open together at the same door:
the clerk checks in whoever comes, whatever batch is selected, and the answer names the
candidate's batch and part (issue #16). The batch picker is only where a lost-ticket search
starts; the search covers every batch of today. After a refusal the desk keeps what needs no
retyping: the ticket number stays, and only the ID number is cleared when it must be typed
again (or the ticket number selected, when it is the ticket that was wrong).
"""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from examday.glossary import TERMS
from examday.levels import level_label
from examday.web import Ctx, requires_role
from kiosk.services import roster as R


@get("/desk", guards=[requires_role("kiosk", "admin")], sync_to_thread=True, include_in_schema=False)
def desk(ctx: Ctx) -> Template:
    batches = R.todays_batches(ctx.db, ctx.user, ctx.now)
    labels = {str(b["id"]): f"{b['occupation_name']} {level_label(b['level'])} · {b['exam_date']}" for b in batches}
    words = {"part": TERMS["part"]}
    return Template("desk.html", context={"actor": ctx.actor, "batches": batches, "labels": labels, "words": words})


ROUTES = [desk]
