"""The landing page: what the signed-in role can do today."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from examday.web import Ctx, signed_in

LINKS = {
    "admin": [
        ("/office", "考务办公室", "Exam office"),
        ("/office/batches", "认定计划", "Exam plans"),
        ("/proctor", "考场监控", "Live rooms"),
        ("/desk", "签到台", "Check-in desk"),
    ],
    "kiosk": [("/desk", "签到台", "Check-in desk")],
    "proctor": [("/proctor", "考场监控", "Live rooms")],
    "supervisor": [("/proctor", "考场监控", "Live rooms")],
    "evaluator": [("/evaluate", "评分", "Scoring")],
    "chief": [("/evaluate", "评分", "Scoring")],
    "centre": [
        ("/centre/reviews", "批次复核", "Batch review"),
        ("/office", "机构一览", "Institutions"),
        ("/proctor", "考场监控", "Live rooms"),
    ],
}


@get("/", guards=[signed_in], sync_to_thread=False, include_in_schema=False)
def home(ctx: Ctx) -> Template:
    return Template("home.html", context={"actor": ctx.actor, "links": LINKS.get(ctx.user.role, [])})


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


ROUTES = [home, health]
