"""HTTP routes of examday/plans: batches, candidates, eligibility, check and filing (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from examday.plans.pages import read_upload
from examday.plans.services import batches as service
from examday.plans.services import candidates as candidate_service
from examday.plans.services import filing as filing_service
from examday.plans.services.batches import BatchPatch, BatchSpec
from examday.web import Ctx, requires_role, signed_in

admin_only = [requires_role("admin")]


@post("/api/v1/batches", guards=admin_only, sync_to_thread=True, status_code=201)
def create_batch(ctx: Ctx, data: JSONBody[BatchSpec]) -> dict[str, Any]:
    result = service.create_batch(ctx.db, ctx.user, ctx.now, data)
    return result


@get("/api/v1/batches", guards=[signed_in], sync_to_thread=True)
def list_batches(ctx: Ctx, date_: Annotated[date | None, QueryParameter(name="date")] = None) -> list[dict[str, Any]]:
    return service.list_batches(ctx.db, ctx.user, date_)


@get("/api/v1/batches/{bid:int}", guards=[signed_in], sync_to_thread=True)
def get_batch(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return service.get_batch(ctx.db, ctx.user, ctx.now, bid)


@patch("/api/v1/batches/{bid:int}", guards=admin_only, sync_to_thread=True)
def update_batch(ctx: Ctx, bid: FromPath[int], data: JSONBody[BatchPatch]) -> dict[str, Any]:
    result = service.update_batch(ctx.db, ctx.user, ctx.now, bid, data)
    return result


@get("/api/v1/batches/{bid:int}/candidates", guards=[signed_in], sync_to_thread=True)
def list_candidates(ctx: Ctx, bid: FromPath[int]) -> list[dict[str, Any]]:
    return candidate_service.list_candidates(ctx.db, ctx.user, bid)


@dataclass
class ImportForm:
    file: UploadFile | None = None


@post(
    "/api/v1/batches/{bid:int}/candidates",
    guards=admin_only,
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=20 * 1024 * 1024,
)
def import_candidates(
    ctx: Ctx, bid: FromPath[int], data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> dict[str, Any]:
    content, filename = read_upload(data.file)
    result = candidate_service.import_candidates(ctx.db, ctx.user, ctx.now, bid, content, filename)
    return result


@dataclass
class EligibilityIn:
    candidate_ids: list[int] | str
    decision: str
    note: str | None = None


@post("/api/v1/batches/{bid:int}/eligibility", guards=admin_only, sync_to_thread=True, status_code=200)
def review_eligibility(ctx: Ctx, bid: FromPath[int], data: JSONBody[EligibilityIn]) -> dict[str, Any]:
    result = candidate_service.review_eligibility(
        ctx.db, ctx.user, ctx.now, bid, data.candidate_ids, data.decision, data.note
    )
    return result


@get("/api/v1/batches/{bid:int}/check", guards=[signed_in], sync_to_thread=True)
def check_plan(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return filing_service.check_plan(ctx.db, ctx.user, ctx.now, bid)


@post("/api/v1/batches/{bid:int}/file", guards=admin_only, sync_to_thread=True, status_code=200)
def file_plan(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    result = filing_service.file_plan(ctx.db, ctx.user, ctx.now, bid)
    ctx.queue_event(bid, "plan_filed")
    return result


@dataclass
class ReasonIn:
    reason: str | None = None


@post("/api/v1/batches/{bid:int}/withdraw", guards=admin_only, sync_to_thread=True, status_code=200)
def withdraw_plan(ctx: Ctx, bid: FromPath[int], data: JSONBody[ReasonIn | None] = None) -> dict[str, Any]:
    result = filing_service.withdraw_plan(ctx.db, ctx.user, ctx.now, bid, data.reason if data else None)
    ctx.queue_event(bid, "plan_withdrawn")
    return result


@post(
    "/api/v1/batches/{bid:int}/candidates/{cid:int}/withdraw", guards=admin_only, sync_to_thread=True, status_code=200
)
def withdraw_candidate(
    ctx: Ctx, bid: FromPath[int], cid: FromPath[int], data: JSONBody[ReasonIn | None] = None
) -> dict[str, Any]:
    result = candidate_service.withdraw_candidate(ctx.db, ctx.user, ctx.now, bid, cid, data.reason if data else None)
    ctx.queue_event(bid, "candidate_withdrawn", candidate_id=cid)
    return result


ROUTES: list = [
    create_batch,
    list_batches,
    get_batch,
    update_batch,
    list_candidates,
    import_candidates,
    review_eligibility,
    check_plan,
    file_plan,
    withdraw_plan,
    withdraw_candidate,
]
