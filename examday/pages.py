"""The landing page (首页): what the signed-in role does today, today's work first (issue #16).

The exam office sees today's batches with their live rooms, video coverage, the desk and the
batch page, then the next two weeks; the centre sees the batches awaiting its review and the
reports due, received and overdue (R-CERT-1, R-PUB-2, through the port examday.plans.centre_work);
the installation administrator sees the institutions with their filing state and the holiday
notices entered; every role's home links every page of its day. Only what the role may read is
listed: the office's own institution, the centre's province, all for the installation
administrator (examday.access)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import get
from litestar.response import Template
from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.calendar_notices import CalendarNotice, load_calendar
from examday.clock import CST
from examday.glossary import words
from examday.plans import centre_work
from examday.plans.models import Batch
from examday.registry.models import Institution
from examday.registry.services.institutions import current_standing
from examday.web import Ctx, signed_in

Link = tuple[str, str, str]

LINKS: dict[str, list[Link]] = {
    "admin": [
        ("/office", "考务办公室", "Exam office"),
        ("/office/batches", "认定计划", "Exam plans"),
        ("/office/rooms", "考场", "Rooms"),
        ("/office/staff", "考务人员", "Staff"),
        ("/proctor", "考场监控", "Live rooms"),
        ("/desk", "签到台", "Check-in desk"),
    ],
    "kiosk": [("/desk", "签到台", "Check-in desk")],
    "proctor": [("/proctor", "考场监控", "Live rooms")],
    "supervisor": [("/proctor", "考场监控与督导", "Live rooms and supervision")],
    "evaluator": [("/evaluate", "评分", "Scoring")],
    "chief": [("/evaluate", "评分与仲裁", "Scoring and arbitration")],
    "centre": [
        ("/centre/reviews", "批次复核", "Batch review"),
        ("/centre/reports", "上报情况", "Reports received"),
        ("/office", "机构一览", "Institutions"),
        ("/proctor", "考场监控", "Live rooms"),
    ],
}
# The installation administrator (an admin of no institution): institutions and the calendar first.
INSTALLATION_LINKS: list[Link] = [
    ("/admin/institutions", "评价机构", "Institutions"),
    ("/admin/calendar", "节假日通知", "Holiday notices"),
    ("/office", "机构一览", "Institutions at a glance"),
    ("/office/batches", "认定计划", "Exam plans"),
    ("/proctor", "考场监控", "Live rooms"),
]


def links_for(actor: Actor) -> list[Link]:
    return INSTALLATION_LINKS if actor.is_installation_admin else LINKS.get(actor.role, [])


def batch_links(bid: int) -> list[Link]:
    """Where the office goes for a batch on its day."""
    return [
        (f"/proctor/batches/{bid}", "考场监控", "Live rooms"),
        (f"/office/batches/{bid}/coverage", *words("page", "coverage")),
        ("/desk", "签到台", "Check-in desk"),
        (f"/office/batches/{bid}", "批次详情", "Batch page"),
        (f"/office/batches/{bid}/seating", "座位表", "Seating"),
        (f"/office/batches/{bid}/scores", "成绩", "Scores"),
        (f"/office/batches/{bid}/archive", "存档", "Archive"),
    ]


def office_day(db: Session, actor: Actor, now: Any) -> dict[str, Any]:
    """The office's batches: today's (not drafts: a draft has no exam day) and the next 14 days'."""
    today = now.astimezone(CST).date()
    rows = db.exec(
        select(Batch)
        .where(
            Batch.institution_id == actor.institution_id,
            Batch.exam_date >= today,
            Batch.exam_date <= today + timedelta(days=14),
        )
        .order_by(col(Batch.exam_date), col(Batch.id))
    ).all()
    return {
        "today": [{"batch": b, "links": batch_links(b.id or 0)} for b in rows if b.exam_date == today],
        "soon": [b for b in rows if b.exam_date > today or b.status == "draft"],
        "date": today,
    }


def installation_day(db: Session, now: Any) -> dict[str, Any]:
    today = now.astimezone(CST).date()
    institutions = [
        {"inst": inst, "filing_state": current_standing(db, inst.id or 0, today).state}
        for inst in db.exec(select(Institution).order_by(col(Institution.province), col(Institution.id))).all()
    ]
    notices = db.exec(select(CalendarNotice).order_by(col(CalendarNotice.year).desc())).all()
    # Warn only of a year the calendar does not know: a year the package carries needs no notice (R-CAL).
    calendar = load_calendar(db)
    missing = [y for y in (today.year, today.year + 1) if calendar.is_provisional(y)]
    return {"institutions": institutions, "notices": notices, "missing_years": missing, "date": today}


@get("/", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def home(ctx: Ctx) -> Template:
    actor = ctx.user
    context: dict[str, Any] = {
        "actor": actor,
        "links": links_for(actor),
        "office": None,
        "installation": None,
        "centre": None,
    }
    if actor.is_installation_admin:
        context["installation"] = installation_day(ctx.db, ctx.now)
    elif actor.role == "admin" and actor.institution_id is not None:
        context["office"] = office_day(ctx.db, actor, ctx.now)
    elif actor.role == "centre":
        context["centre"] = centre_work.centre_work(ctx.db, actor, ctx.now)
    return Template("home.html", context=context)


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


ROUTES = [home, health]
