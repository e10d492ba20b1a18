"""HTTP routes of the theory score versions (理论成绩版本): the chief's countersignature and the
list of versions (R-SCORE-3, R-PANEL-1). The import itself is ``POST .../theory-scores``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get, post
from litestar.params import FromPath, JSONBody

from examday.web import Ctx, requires_role, signed_in
from scoring.services import theory_versions


@dataclass
class CountersignIn:
    pin: str


@post(
    "/api/v1/batches/{bid:int}/theory-imports/{import_id:int}/countersign",
    guards=[requires_role("chief")],
    sync_to_thread=True,
    status_code=200,
)
def post_countersign(
    ctx: Ctx, bid: FromPath[int], import_id: FromPath[int], data: JSONBody[CountersignIn]
) -> dict[str, Any]:
    return theory_versions.countersign(
        ctx.db, ctx.state.passwords, ctx.state.settings.secret_key, ctx.user, ctx.now, bid, import_id, data.pin
    )


@get("/api/v1/batches/{bid:int}/theory-imports", guards=[signed_in], sync_to_thread=True)
def get_imports(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return theory_versions.list_imports(ctx.db, ctx.user, bid)


ROUTES: list = [post_countersign, get_imports]
