"""The centre's review page (复核): the locked batches of its province, to approve or return
(R-CERT-1), and the reported data to mark received (R-PUB-2).

``GET /centre/reviews``: every locked batch of an institution the signed-in centre may review
(``examday.access.can_review_batch``: the centre of the institution's province, never the
institution's own office), awaiting review first, then returned, then approved; for each, its
institution, lock date, seal digest, candidates and results, the incidents of tier (b) and (c)
the centre is told of (R-DISC-1), whether its institution's filing blocks its exam day
(R-INST-2), and links to its results export, public page and archive where the centre may read
them. ``POST /centre/reviews/{bid}/review`` (approve, or return with reasons, one per line) and
``POST /centre/reviews/{bid}/report-received`` are thin forms over ``scoring.services.review``,
the same service as ``POST /api/v1/batches/{bid}/review`` and ``…/report-received``: a refusal
reads the same here, shown on the page in the refusal's status, and changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import col, select

from examday.access import can_read_archive, can_read_scores, can_review_batch
from examday.clock import CST
from examday.errors import Refusal
from examday.plans import incidents
from examday.plans.models import Batch
from examday.registry import standing
from examday.registry.services.institutions import list_institutions
from examday.rows import row_id
from examday.web import Ctx, page_action, requires_role
from scoring import results
from scoring.exports import RESULT_NAMES
from scoring.outcome import TIER_TEXT
from scoring.services import lock as lock_service
from scoring.services import review as review_service

CENTRE = [requires_role("centre", "admin")]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
NOTIFIED_TIERS = ("b", "c")  # what the centre is told of (R-DISC-1), as GET /api/v1/centre/notices
STATE_ORDER = {"awaiting": 0, "returned": 1, "approved": 2}
DONE = {
    "approve": ("已复核通过，机构可生成证书", "Approved: the office may issue the certificates."),
    "return": ("已退回，机构补正后再次报请复核", "Returned: the office puts it right and asks again."),
    "received": ("已签收该批次上报数据", "The batch's reported data is marked received."),
}


def _batch_row(ctx: Ctx, batch: Batch, inst_name: str, may_read: dict[str, bool], blocked: str | None) -> dict:
    bid = row_id(batch)
    reviews = review_service.reviews_of(ctx.db, bid)
    seal = lock_service.seal_of(ctx.db, bid)
    # R-PRIV-1: the results only for who may read the scores (the province's centre may).
    outcome = results.batch_results(ctx.db, batch) if may_read["may_read_scores"] else []
    counted = Counter(r.result for r in outcome)
    tickets = {r.candidate.id: r.candidate.ticket_number for r in outcome}
    notified = [i for i in incidents.incidents(ctx.db, [bid]) if i.tier in NOTIFIED_TIERS]
    return {
        "batch": batch,
        "institution_name": inst_name,
        "state": review_service.state_of(reviews),
        "reviews": [
            {"decision": r.decision, "reasons": json.loads(r.reasons), "at": r.at.astimezone(CST)} for r in reviews
        ],
        "report": review_service.reporting_of(ctx.db, bid, ctx.now.astimezone(CST).date()),
        "locked_on": seal.locked_at.astimezone(CST).date().isoformat() if seal else None,
        "digest": seal.digest if seal else None,
        "candidates": len(outcome) if may_read["may_read_scores"] else None,
        "results": [(k, counted[k]) for k in RESULT_NAMES if counted[k]],
        "incidents": [
            {
                "tier": i.tier,
                "text": TIER_TEXT[i.tier],
                "kind": i.kind,
                "part": i.part,
                "ticket": tickets.get(i.candidate_id, f"#{i.candidate_id}"),
            }
            for i in notified
        ],
        "blocked": blocked,
        **may_read,
    }


def _rows(ctx: Ctx) -> list[dict[str, Any]]:
    """The locked batches the caller reviews (R-CERT-1), awaiting first."""
    insts = {row_id(i): i for i in list_institutions(ctx.db, ctx.user) if can_review_batch(ctx.user, i)}
    if not insts:
        return []
    blocked = standing.blocked_states(ctx.db, list(insts), ctx.now)  # R-INST-2
    batches = ctx.db.exec(
        select(Batch)
        .where(col(Batch.institution_id).in_(list(insts)), Batch.status == "locked")
        .order_by(col(Batch.exam_date), col(Batch.id))
    ).all()
    rows = []
    for b in batches:
        inst = insts[b.institution_id]
        may = {"may_read_scores": can_read_scores(ctx.user, inst), "may_read_archive": can_read_archive(ctx.user, inst)}
        rows.append(_batch_row(ctx, b, inst.name, may, blocked.get(row_id(inst))))
    return sorted(rows, key=lambda r: STATE_ORDER[r["state"]])


def _page(ctx: Ctx, notice: tuple[str, str] | None = None, error: Refusal | None = None, bid: int | None = None):
    return Template(
        "centre_reviews.html",
        context={
            "actor": ctx.user,
            "rows": _rows(ctx),
            "notice": notice,
            "error": error,
            "error_bid": bid,
        },
    )


@get("/centre/reviews", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def reviews_page(ctx: Ctx, done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, DONE.get(done or ""))


def reason_lines(text: object) -> list[str]:
    """The return's reasons as typed, one per line; the service checks them (R-CERT-1)."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


@post("/centre/reviews/{bid:int}/review", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def review_submit(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    """R-CERT-1: approve, or return with reasons, through the API's own service."""
    decision = str(data.get("decision", ""))
    return page_action(
        ctx,
        lambda: review_service.review_batch(
            ctx.db, ctx.user, ctx.now, bid, decision, reason_lines(data.get("reasons"))
        ),
        f"/centre/reviews?done={decision}#batch-{bid}",
        lambda r: _page(ctx, error=r, bid=bid),
    )


@post("/centre/reviews/{bid:int}/report-received", guards=CENTRE, sync_to_thread=True, include_in_schema=False)
def received_submit(ctx: Ctx, bid: FromPath[int]) -> Response:
    """R-PUB-2: the centre has the batch's score and certificate data."""
    return page_action(
        ctx,
        lambda: review_service.mark_report_received(ctx.db, ctx.user, ctx.now, bid),
        f"/centre/reviews?done=received#batch-{bid}",
        lambda r: _page(ctx, error=r, bid=bid),
    )


ROUTES = [reviews_page, review_submit, received_submit]
