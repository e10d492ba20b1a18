"""HTTP routes of the centre's review (复核) and the reporting of a batch's data (R-CERT-1, R-PUB-2):
thin translations to ``scoring.services.review``.

``POST /api/v1/batches/{bid}/review``: the centre approves a locked batch or returns it with reasons.
``GET /api/v1/batches/{bid}/review``: its state, every decision, the reporting deadline and receipt.
``POST /api/v1/batches/{bid}/report-received``: the centre marks the batch's data received.
``GET /api/v1/centre/reviews``: the centre's list — batches awaiting review, returned, or not yet reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get, post
from litestar.params import FromPath, JSONBody

from examday.web import Ctx, requires_role, signed_in
from scoring.services import review as review_service

CENTRE = [requires_role("centre", "admin")]


@dataclass
class ReviewIn:
    decision: str
    reasons: Any = None


@post("/api/v1/batches/{bid:int}/review", guards=CENTRE, sync_to_thread=True, status_code=201)
def post_review(ctx: Ctx, bid: FromPath[int], data: JSONBody[ReviewIn]) -> dict[str, Any]:
    return review_service.review_batch(ctx.db, ctx.user, ctx.now, bid, data.decision, data.reasons)


@get("/api/v1/batches/{bid:int}/review", guards=[signed_in], sync_to_thread=True)
def get_review(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return review_service.review_body(ctx.db, ctx.user, bid, ctx.now)


@post("/api/v1/batches/{bid:int}/report-received", guards=CENTRE, sync_to_thread=True, status_code=200)
def post_report_received(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return review_service.mark_report_received(ctx.db, ctx.user, ctx.now, bid)


@get("/api/v1/centre/reviews", guards=CENTRE, sync_to_thread=True)
def centre_reviews(ctx: Ctx) -> list[dict[str, Any]]:
    return review_service.centre_list(ctx.db, ctx.user, ctx.now)


ROUTES: list = [post_review, get_review, post_report_received, centre_reviews]
