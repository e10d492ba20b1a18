"""Exam-office pages for plans (认定计划): batches, their sessions and candidates,
the import, the eligibility review, and the check results before filing.

The pages call the same services as the API, so a page shows the same
refusals (rule ID, Chinese with English beside it). R-PRIV-1: ID numbers are
shown in full to the admin only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import col, select

from examday.access import institution_for_write
from examday.errors import Refusal
from examday.identity import mask_id_number
from examday.plans import batch_form, day_view, import_pages
from examday.plans.access import batch_for_write, ensure_draft, today_of
from examday.plans.models import Batch
from examday.plans.services import batches as service
from examday.plans.services import candidates as candidate_service
from examday.plans.services import filing as filing_service
from examday.registry.models import Institution
from examday.web import Ctx, page_action, requires_role

readers = [requires_role("admin", "centre")]
office_only = [requires_role("admin")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _institutions(ctx: Ctx) -> list[Institution]:
    actor = ctx.user
    if actor.role != "admin":
        return []
    q = select(Institution).order_by(col(Institution.id))
    if not actor.is_installation_admin:
        q = q.where(Institution.id == actor.institution_id)
    return list(ctx.db.exec(q).all())


def _list_page(ctx: Ctx, error: Refusal | None = None, form: dict | None = None, iid: int | None = None) -> Template:
    institutions = _institutions(ctx)
    batches = service.list_batches(ctx.db, ctx.user)
    if iid is not None:  # the registry's office page links here with ?iid=
        batches = [b for b in batches if b["institution_id"] == iid]
    for b in batches:
        b["level_words"] = batch_form.level_choice(b["level"])  # 四级 / 中级工 (R-LEVEL)
        # Drafts show what still stands between them and filing; filed plans were checked then.
        b["check"] = filing_service.check_plan(ctx.db, ctx.user, ctx.now, b["id"]) if b["status"] == "draft" else None
    chosen = iid or ctx.user.institution_id or (institutions[0].id if institutions else None)
    inst = next((i for i in institutions if i.id == chosen), None)
    form = form or {}
    return Template(
        "plans_batches.html",
        context={
            "actor": ctx.user,
            "batches": batches,
            "institutions": institutions,
            "inst": inst,
            "error": error,
            "form": form,
            "sessions": batch_form.sessions_of_form(form) if form else batch_form.default_sessions(),
            **batch_form.form_context(ctx.db, inst, ctx.now),
            "can_create": ctx.user.role == "admin" and inst is not None,
        },
    )


@get("/office/batches", guards=readers, sync_to_thread=True, include_in_schema=False)
def batches_page(ctx: Ctx, iid: FromQuery[int | None] = None) -> Template:
    return _list_page(ctx, iid=iid)


# Not POST /office/batches: Litestar 2.25 wraps a sync GET handler twice when another
# method shares its path, and a page (Template) answer then comes back as a coroutine.
@post("/office/batches/new", guards=office_only, sync_to_thread=True, include_in_schema=False)
def create_batch_page(ctx: Ctx, data: Annotated[dict[str, Any], FORM]) -> Response:
    def run() -> dict[str, Any]:
        spec = batch_form.spec_of_form(data)
        institution_for_write(ctx.db, ctx.user, spec.institution_id)  # who may, before what the date allows
        batch_form.refuse_too_soon(ctx.db, ctx.now, spec.exam_date)  # R-PLAN-1, before anything is saved
        return service.create_batch(ctx.db, ctx.user, ctx.now, spec)

    def chosen() -> int | None:
        try:
            return int(data.get("institution_id") or "")
        except (TypeError, ValueError):
            return None

    return page_action(
        ctx,
        run,
        lambda result: f"/office/batches/{result['id']}",
        lambda r: _list_page(ctx, r, data, chosen()),
    )


def _filing_note(batch: dict[str, Any], check: dict[str, Any]) -> dict[str, Any] | None:
    """R-PLAN-1 on a filed plan: the filing stands. The check run today would say the last filing
    day has passed (it has: the plan was filed before it), so the page explains rather than alarms."""
    if batch["status"] == "draft" or not batch.get("filed_at"):
        return None
    filed_on = batch["filed_at"][:10]
    return {
        "filed_at": batch["filed_at"],
        "latest": check["latest_filing_date"],
        "in_time": filed_on <= check["latest_filing_date"],
        # What today's check finds besides the deadline the filing already met.
        "others": [v for v in check["violations"] if v["code"] != "filed_too_late"],
    }


def _batch_page(ctx: Ctx, bid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    batch = service.get_batch(ctx.db, ctx.user, ctx.now, bid)
    check = filing_service.check_plan(ctx.db, ctx.user, ctx.now, bid)
    candidates = candidate_service.list_candidates(ctx.db, ctx.user, bid)
    row = ctx.db.get(Batch, bid)
    assert row is not None  # get_batch read it
    days = day_view.candidate_day(ctx.db, row, [c["id"] for c in candidates], ctx.now) if candidates else {}
    for c in candidates:
        c["day"] = days.get(c["id"], [])
        c["masked"] = mask_id_number(c["id_number"]) if ctx.user.role == "admin" else c["id_number"]
    return Template(
        "plans_batch.html",
        context={
            "actor": ctx.user,
            "batch": batch,
            "check": check,
            "filing": _filing_note(batch, check),
            "level_words": batch_form.level_choice(batch["level"]),  # 四级 / 中级工 (R-LEVEL)
            "candidates": candidates,
            "tally": day_view.tally(days),
            "is_exam_day": batch["exam_date"] == today_of(ctx.now).isoformat(),
            "notice": notice,
            "error": error,
            "can_edit": ctx.user.role == "admin" and batch["status"] == "draft",
            "can_withdraw": ctx.user.role == "admin" and batch["status"] == "filed",
        },
    )


def batch_page_with(ctx: Ctx, bid: int, error: Refusal) -> Template:
    """The batch page showing a refusal: a background import's (:mod:`examday.plans.import_pages`)."""
    return _batch_page(ctx, bid, error=error)


@get("/office/batches/{bid:int}", guards=readers, sync_to_thread=True, include_in_schema=False)
def batch_page(
    ctx: Ctx, bid: FromPath[int], imported: FromQuery[int | None] = None, done: FromQuery[str | None] = None
) -> Template:
    notice = None
    if imported is not None:
        notice = (f"已导入 {imported} 名考生", f"{imported} candidates imported.")
    elif done in DONE:
        notice = DONE[done]
    return _batch_page(ctx, bid, notice)


DONE = {
    "reviewed": ("已完成申报条件审核", "Eligibility recorded."),
    "filed": ("认定计划已报送", "The plan is filed."),
    "withdrawn": ("认定计划已撤回，可修改后重新报送", "The plan is withdrawn; change it and file it again."),
}


def _act(ctx: Ctx, bid: int, action, done: str, event: str | None = None) -> Response:
    def run() -> None:
        action()
        if event:
            ctx.queue_event(bid, event)

    return page_action(ctx, run, f"/office/batches/{bid}?done={done}", lambda r: _batch_page(ctx, bid, error=r))


def read_upload(upload: UploadFile | None) -> tuple[bytes, str | None]:
    if upload is None or not hasattr(upload, "file"):
        raise Refusal(
            "file_required", "请选择要导入的 CSV 或 XLSX 文件", "Send the CSV or XLSX file in the field 'file'."
        )
    upload.file.seek(0)
    return upload.file.read(), upload.filename


@dataclass
class UploadForm:
    file: UploadFile | None = None


@post(
    "/office/batches/{bid:int}/candidates",
    guards=office_only,
    sync_to_thread=True,
    include_in_schema=False,
    request_max_body_size=20 * 1024 * 1024,
)
def import_page(
    ctx: Ctx, bid: FromPath[int], data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response:
    """A CSV, or a small XLSX, imports in the request; a large XLSX in the background (issue #16,
    :mod:`examday.plans.import_pages`)."""

    def run() -> dict[str, Any] | Response:
        content, filename = read_upload(data.file)
        if import_pages.wants_background(content, filename):
            ensure_draft(batch_for_write(ctx.db, ctx.user, bid))  # refused now, not on the job's page
            return import_pages.start(ctx, bid, content, filename)
        return candidate_service.import_candidates(ctx.db, ctx.user, ctx.now, bid, content, filename)

    def done(result: dict[str, Any] | Response) -> str | Response:
        return result if isinstance(result, Response) else f"/office/batches/{bid}?imported={result['imported']}"

    return page_action(ctx, run, done, lambda r: _batch_page(ctx, bid, error=r))


@post("/office/batches/{bid:int}/eligibility", guards=office_only, sync_to_thread=True, include_in_schema=False)
def eligibility_page(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _act(
        ctx,
        bid,
        lambda: candidate_service.review_eligibility(ctx.db, ctx.user, ctx.now, bid, "all", "eligible"),
        "reviewed",
    )


@post("/office/batches/{bid:int}/file", guards=office_only, sync_to_thread=True, include_in_schema=False)
def file_page(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _act(ctx, bid, lambda: filing_service.file_plan(ctx.db, ctx.user, ctx.now, bid), "filed", "plan_filed")


@post("/office/batches/{bid:int}/withdraw", guards=office_only, sync_to_thread=True, include_in_schema=False)
def withdraw_page(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _act(
        ctx, bid, lambda: filing_service.withdraw_plan(ctx.db, ctx.user, ctx.now, bid), "withdrawn", "plan_withdrawn"
    )


ROUTES = [
    batches_page,
    create_batch_page,
    batch_page,
    import_page,
    eligibility_page,
    file_page,
    withdraw_page,
    *import_pages.ROUTES,
]
