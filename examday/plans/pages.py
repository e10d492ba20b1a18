"""Exam-office pages for plans (认定计划): batches, their sessions and candidates,
the import, the eligibility review, and the check results before filing.

The pages call the same services as the API, so a page shows the same
refusals (rule ID, Chinese with English beside it). R-PRIV-1: ID numbers are
shown in full to the admin only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import col, select

from examday.errors import Refusal
from examday.plans.rules import PART_ZH
from examday.plans.services import batches as service
from examday.plans.services import candidates as candidate_service
from examday.plans.services import filing as filing_service
from examday.plans.services.batches import BatchSpec, SessionSpec
from examday.registry.models import Institution, Room, Staff
from examday.web import Ctx, page_action, requires_role

readers = [requires_role("admin", "centre")]
office_only = [requires_role("admin")]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
STATUS_ZH = {"draft": "草稿", "filed": "已报送", "publicity": "公示中", "locked": "已锁定"}
CANDIDATE_ZH = {
    "registered": "已报名",
    "withdrawn": "已退考",
    "pending": "待审核",
    "eligible": "符合条件",
    "ineligible": "不符合条件",
}


def hm(text: str | None) -> str:
    return "" if not text else text[:16].replace("T", " ")


def _institutions(ctx: Ctx) -> list[Institution]:
    actor = ctx.user
    if actor.role != "admin":
        return []
    q = select(Institution).order_by(col(Institution.id))
    if not actor.is_installation_admin:
        q = q.where(Institution.id == actor.institution_id)
    return list(ctx.db.exec(q).all())


def _resources(ctx: Ctx, iid: int | None) -> dict[str, Any]:
    """The rooms and staff a form may name, so the office can type codes and ids."""
    if iid is None:
        return {"rooms": [], "staff": []}
    rooms = ctx.db.exec(
        select(Room)
        .where(Room.institution_id == iid, Room.active == True)  # noqa: E712
        .order_by(Room.code)
    ).all()
    staff = ctx.db.exec(
        select(Staff)
        .where(Staff.institution_id == iid, Staff.active == True)  # noqa: E712
        .order_by(col(Staff.id))
    ).all()
    return {
        "rooms": rooms,
        "staff": [{"id": s.id, "name": s.name, "roles": s.roles, "is_trainer": s.is_trainer} for s in staff],
    }


def _list_page(ctx: Ctx, error: Refusal | None = None, form: dict | None = None, iid: int | None = None) -> Template:
    institutions = _institutions(ctx)
    batches = service.list_batches(ctx.db, ctx.user)
    if iid is not None:  # the registry's office page links here with ?iid=
        batches = [b for b in batches if b["institution_id"] == iid]
    for b in batches:
        # Drafts show what still stands between them and filing; filed plans were checked then.
        b["check"] = filing_service.check_plan(ctx.db, ctx.user, ctx.now, b["id"]) if b["status"] == "draft" else None
    chosen = (
        iid
        or (form or {}).get("institution_id")
        or ctx.user.institution_id
        or (institutions[0].id if institutions else None)
    )
    if chosen not in {i.id for i in institutions}:
        chosen = None
    return Template(
        "plans_batches.html",
        context={
            "actor": ctx.user,
            "batches": batches,
            "institutions": institutions,
            "chosen": chosen,
            "status_zh": STATUS_ZH,
            "error": error,
            "form": form or {},
            **_resources(ctx, chosen),
            "can_create": ctx.user.role == "admin" and bool(institutions),
        },
    )


@get("/office/batches", guards=readers, sync_to_thread=True, include_in_schema=False)
def batches_page(ctx: Ctx, iid: FromQuery[int | None] = None) -> Template:
    return _list_page(ctx, iid=iid)


@dataclass
class BatchForm:
    institution_id: int
    occupation_code: str
    level: int
    exam_date: date
    work_type: str = ""
    theory_start: str = ""
    theory_end: str = ""
    theory_rooms: str = ""
    theory_staff: str = ""
    skill_start: str = ""
    skill_end: str = ""
    skill_rooms: str = ""
    skill_staff: str = ""
    review_start: str = ""
    review_end: str = ""
    review_rooms: str = ""
    review_staff: str = ""


def _codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,，、;；]+", text.strip()) if c]


def _staff_map(text: str, where: str) -> dict[str, list[int]]:
    """``T01:3,4; T02:5,6`` → {"T01": [3, 4], "T02": [5, 6]}."""
    out: dict[str, list[int]] = {}
    for chunk in re.split(r"[;；\n]+", text.replace("：", ":")):
        if not chunk.strip():
            continue
        code, sep, ids = chunk.partition(":")
        try:
            numbers = [int(x) for x in _codes(ids)]
        except ValueError:
            numbers = None
        if not sep or not code.strip() or numbers is None:
            raise Refusal(
                "invalid_batch",
                f"{where}人员格式应为 考场:编号,编号；例如 T01:1,2; T02:3,4",
                f"Write the {where} staff as ROOM:id,id; e.g. T01:1,2; T02:3,4",
                None,
                422,
            )
        out[code.strip()] = numbers
    return out


def spec_of(form: BatchForm) -> BatchSpec:
    sessions, parts = [], []
    day = form.exam_date.isoformat()
    for part in ("theory", "skill", "review"):
        start, end = getattr(form, f"{part}_start").strip(), getattr(form, f"{part}_end").strip()
        rooms = _codes(getattr(form, f"{part}_rooms"))
        if not (start or end or rooms):
            continue
        parts.append(part)
        sessions.append(
            SessionSpec(
                part=part,
                rooms=rooms,
                starts_at=f"{day}T{start}",
                ends_at=f"{day}T{end}",
                proctors=_staff_map(getattr(form, f"{part}_staff"), PART_ZH[part]),
            )
        )
    return BatchSpec(
        institution_id=form.institution_id,
        occupation_code=form.occupation_code.strip(),
        level=form.level,
        exam_date=form.exam_date,
        parts=parts or None,
        sessions=sessions,
        work_type=form.work_type.strip() or None,
    )


# Not POST /office/batches: Litestar 2.25 wraps a sync GET handler twice when another
# method shares its path, and a page (Template) answer then comes back as a coroutine.
@post("/office/batches/new", guards=office_only, sync_to_thread=True, include_in_schema=False)
def create_batch_page(ctx: Ctx, data: Annotated[BatchForm, FORM]) -> Response:
    return page_action(
        ctx,
        lambda: service.create_batch(ctx.db, ctx.user, ctx.now, spec_of(data)),
        lambda result: f"/office/batches/{result['id']}",
        lambda r: _list_page(ctx, r, data.__dict__),
    )


def _batch_page(ctx: Ctx, bid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    batch = service.get_batch(ctx.db, ctx.user, ctx.now, bid)
    for s in batch["sessions"]:
        s["when"] = f"{hm(s['starts_at'])} – {hm(s['ends_at'])[11:]}"
        s["part_zh"] = PART_ZH.get(s["part"], s["part"])
    check = filing_service.check_plan(ctx.db, ctx.user, ctx.now, bid)
    candidates = candidate_service.list_candidates(ctx.db, ctx.user, bid)
    for c in candidates:
        c["reviewed_at_hm"] = hm(c["reviewed_at"])
    return Template(
        "plans_batch.html",
        context={
            "actor": ctx.user,
            "batch": batch,
            "check": check,
            "candidates": candidates,
            "notice": notice,
            "error": error,
            "status_zh": STATUS_ZH,
            "part_zh": PART_ZH,
            "cand_zh": CANDIDATE_ZH,
            "can_edit": ctx.user.role == "admin" and batch["status"] == "draft",
            "can_withdraw": ctx.user.role == "admin" and batch["status"] == "filed",
        },
    )


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
    def run() -> dict[str, Any]:
        content, filename = read_upload(data.file)
        return candidate_service.import_candidates(ctx.db, ctx.user, ctx.now, bid, content, filename)

    return page_action(
        ctx,
        run,
        lambda result: f"/office/batches/{bid}?imported={result['imported']}",
        lambda r: _batch_page(ctx, bid, error=r),
    )


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


ROUTES = [batches_page, create_batch_page, batch_page, import_page, eligibility_page, file_page, withdraw_page]
