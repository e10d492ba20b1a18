"""The exam office's scoring page (成绩): rubrics, panels, the theory import, the
score table, publicity, objections, the lock, the exports of one batch and, once
locked, the centre's review (复核) with the certificates' reporting deadline.

Thin forms over the same services as the API (R-SCORE-3, R-PANEL-1, R-PUB-1),
so a refusal reads the same here: Chinese first, English beside it, the rule.
Each form posts to its own path (``…/scores/rubric``): Litestar 2.25
double-wraps a sync GET that shares its path with a POST.

Showing the page changes nothing. The API's requests lock a batch whose
publicity is over on their own (``scoring.router.autolock_due``); this page is
where the office locks it by command, so it shows "publicity over, lock now"
instead of locking behind the office's back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import col, select

from examday.clock import CST
from examday.errors import Refusal, not_found
from examday.plans.pages import read_upload
from examday.registry.models import Staff
from examday.rows import row_id
from examday.web import Ctx, page_action, requires_role
from scoring import access, report_push, results, theory_import
from scoring.services import lock as lock_service
from scoring.services import objections as objections_service
from scoring.services import panels as panels_service
from scoring.services import publicity as publicity_service
from scoring.services import review as review_service
from scoring.services import rubrics as rubrics_service
from scoring.services import theory_versions

OFFICE = [requires_role("admin")]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
DONE = {
    "rubric": ("评分细则已保存", "Rubric saved."),
    "panel": ("考评组已组建", "Panel set."),
    "theory": (
        "理论成绩已导入，待主考签认后生效",
        "Theory scores imported: they count once the chief countersigns them.",
    ),
    "publicity": ("成绩已公示", "Scores published."),
    "objection": ("异议已登记", "Objection recorded."),
    "resolved": ("异议已处理", "Objection settled."),
    "locked": ("批次已锁定封存", "Batch locked and sealed."),
}


def _examiners(ctx: Ctx, institution_id: int) -> list[Staff]:
    rows = ctx.db.exec(
        select(Staff)
        .where(Staff.institution_id == institution_id, Staff.active == True)  # noqa: E712
        .order_by(col(Staff.id))
    ).all()
    return [s for s in rows if "examiner" in s.role_set()]


def _page(ctx: Ctx, bid: int, notice: tuple[str, str] | None = None, error: Refusal | None = None) -> Template:
    batch = access.batch_for_admin(ctx.db, ctx.user, bid)
    parts = batch.part_list()
    examiners = _examiners(ctx, batch.institution_id)
    names = {s.id: s.name for s in examiners}
    panels = {p: panels_service.panel_body(ctx.db, batch, p) for p in parts}
    publicity = publicity_service.publicity_of(ctx.db, row_id(batch))
    seal = lock_service.seal_of(ctx.db, row_id(batch))
    today = ctx.now.astimezone(CST).date()
    return Template(
        "office_scores.html",
        context={
            "actor": ctx.user,
            "batch": batch,
            "parts": parts,
            "scores": results.scores_view(ctx.db, ctx.user, bid),
            # R-SCORE-3: each theory version, drafts waiting for the chief and corrections with their reason.
            "theory_versions": theory_versions.list_imports(ctx.db, ctx.user, bid)["imports"],
            "examiners": examiners,
            "names": names,
            "rubrics": {
                p: rubrics_service.rubric_body(row_id(batch), p, rubrics_service.load_items(ctx.db, row_id(batch), p))
                for p in parts
            },
            "panels": panels,
            "objections": objections_service.list_objections(ctx.db, ctx.user, row_id(batch)),
            "publicity": publicity_service.publicity_body(ctx.db, publicity) if publicity else None,
            # R-CAL: the window on today's calendar, so a notice entered since the start moves it.
            "lock_due": publicity is not None and today >= publicity_service.window_of(ctx.db, publicity).lock_from,
            "seal": lock_service.seal_body(seal) if seal else None,
            # R-CERT-1, R-PUB-2: the centre's review of the locked batch and the reporting deadline.
            "review": review_service.review_body(ctx.db, ctx.user, bid, ctx.now) if seal else None,
            # Issue #17: the push of the signed report package to the centre, beside the deadline.
            "report_push": report_push.state_of(ctx.db, batch, ctx.now) if seal else None,
            "notice": notice,
            "error": error,
        },
    )


@get("/office/batches/{bid:int}/scores", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def scores_page(ctx: Ctx, bid: FromPath[int], done: FromQuery[str | None] = None) -> Template:
    return _page(ctx, bid, DONE.get(done or ""))


def _act(ctx: Ctx, bid: int, action, done: str) -> Response:
    return page_action(ctx, action, f"/office/batches/{bid}/scores?done={done}", lambda r: _page(ctx, bid, error=r))


def rubric_lines(text: str) -> list[dict[str, str]]:
    """``A1, 操作准备, 20`` per line → rubric items; the service checks the points (R-SCORE-3)."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in re.split(r"[,，\t]", line)]
        if len(cells) != 3:
            raise Refusal(
                "rubric_invalid",
                f"第{n}行应为 代码,名称,分值",
                f"Line {n}: write code, title, points.",
                "R-SCORE-3",
                detail={"problems": [{"code": None, "reason": "line_format", "line": n}]},
            )
        items.append({"code": cells[0], "title": cells[1], "max_points": cells[2]})
    return items


@post("/office/batches/{bid:int}/scores/rubric", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def rubric_submit(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    return _act(
        ctx,
        bid,
        lambda: rubrics_service.set_rubric(
            ctx.db, ctx.user, ctx.now, bid, str(data.get("part", "")), rubric_lines(str(data.get("items", "")))
        ),
        "rubric",
    )


def _ints(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
    return [int(v) for v in values if str(v).isdigit()]


@post("/office/batches/{bid:int}/scores/panel", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def panel_submit(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    chief = _ints(data.get("chief"))
    return _act(
        ctx,
        bid,
        lambda: panels_service.set_panel(
            ctx.db,
            ctx.user,
            ctx.now,
            bid,
            str(data.get("part", "")),
            _ints(data.get("examiner")),
            chief[0] if chief else None,
        ),
        "panel",
    )


@dataclass
class TheoryForm:
    file: UploadFile | None = None
    reason: str | None = None


@post("/office/batches/{bid:int}/scores/theory", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def theory_submit(
    ctx: Ctx, bid: FromPath[int], data: Annotated[TheoryForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response:
    def run() -> None:
        content, filename = read_upload(data.file)
        theory_import.import_theory(ctx.db, ctx.user, ctx.now, bid, filename or "", content, data.reason)

    return _act(ctx, bid, run, "theory")


@post("/office/batches/{bid:int}/scores/publicity", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def publicity_submit(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _act(ctx, bid, lambda: publicity_service.start_publicity(ctx.db, ctx.user, ctx.now, bid), "publicity")


@post("/office/batches/{bid:int}/scores/objections", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def objection_submit(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    candidate = _ints(data.get("candidate_id"))
    return _act(
        ctx,
        bid,
        lambda: objections_service.raise_objection(
            ctx.db,
            ctx.user,
            ctx.now,
            bid,
            candidate[0] if candidate else -1,
            str(data.get("part") or "") or None,
            data.get("reason"),
            str(data.get("raised_by", "")),
        ),
        "objection",
    )


@post(
    "/office/batches/{bid:int}/scores/objections/{oid:int}/resolve",
    guards=OFFICE,
    sync_to_thread=True,
    include_in_schema=False,
)
def resolve_submit(ctx: Ctx, bid: FromPath[int], oid: FromPath[int], data: Form) -> Response:
    def run() -> None:
        found = [o for o in objections_service.list_objections(ctx.db, ctx.user, bid) if o["id"] == oid]
        if not found:  # the objection is settled on its own batch's page only
            raise not_found("objection of this batch")
        objections_service.resolve_objection(
            ctx.db, ctx.user, ctx.now, oid, data.get("decision"), data.get("reason"), None
        )

    return _act(ctx, bid, run, "resolved")


@post("/office/batches/{bid:int}/scores/lock", guards=OFFICE, sync_to_thread=True, include_in_schema=False)
def lock_submit(ctx: Ctx, bid: FromPath[int]) -> Response:
    return _act(ctx, bid, lambda: lock_service.lock_batch(ctx.db, ctx.user, ctx.now, bid), "locked")


ROUTES = [
    scores_page,
    rubric_submit,
    panel_submit,
    theory_submit,
    publicity_submit,
    objection_submit,
    resolve_submit,
    lock_submit,
]
