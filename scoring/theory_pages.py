"""The chief's page for theory score versions (理论成绩签认): read what the exam office imported —
for a correction, each candidate's score before and after and the reason — and countersign
it with the signing PIN (R-SCORE-3, R-PANEL-1). The office's import form is on its scores page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Response, Template

from examday.errors import Refusal
from examday.web import Ctx, page_action, requires_role
from scoring.access import batch_for_read
from scoring.services import theory_versions

CHIEF = [requires_role("chief")]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _page(ctx: Ctx, bid: int, done: dict[str, Any] | None = None, error: Refusal | None = None) -> Template:
    batch = batch_for_read(ctx.db, ctx.user, bid)
    versions = theory_versions.list_imports(ctx.db, ctx.user, bid)["imports"]
    return Template(
        "evaluate_theory.html",
        context={
            "actor": ctx.actor,
            "batch": batch,
            "versions": list(reversed(versions)),
            "done": done,
            "error": error,
        },
    )


@get("/evaluate/{bid:int}/theory-scores", guards=CHIEF, sync_to_thread=True, include_in_schema=False)
def theory_page(ctx: Ctx, bid: FromPath[int]) -> Template:
    return _page(ctx, bid)


@post(
    "/evaluate/{bid:int}/theory-scores/sign",
    guards=CHIEF,
    sync_to_thread=True,
    include_in_schema=False,
    status_code=200,
)
def theory_sign(ctx: Ctx, bid: FromPath[int], data: Form) -> Response:
    raw = str(data.get("import_id", ""))
    return page_action(
        ctx,
        lambda: theory_versions.countersign(
            ctx.db,
            ctx.state.passwords,
            ctx.state.settings.secret_key,
            ctx.user,
            ctx.now,
            bid,
            int(raw) if raw.isdigit() else 0,
            data.get("pin"),
        ),
        lambda done: _page(ctx, bid, done=done),
        lambda r: _page(ctx, bid, error=r),
    )


ROUTES = [theory_page, theory_sign]
