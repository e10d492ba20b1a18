"""The proctors' and supervisors' pages (考场监控): the batches to watch, and a batch's
live dashboard (R-DAY-3). The dashboard draws itself from the WebSocket feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import col, select

from examday.access import WATCH_ROLES, batch_view, sees_institution
from examday.clock import CST
from examday.errors import Refusal
from examday.glossary import TERMS
from examday.plans.models import Batch, ExamSession, ProctorAssignment
from examday.registry.models import Institution
from examday.web import Ctx, signed_in
from proctor.rules import INCIDENT_LABELS, INCIDENT_TIERS, SUPERVISION_AREA_LABELS, SUPERVISION_AREAS


def refused(ctx: Ctx, r: Refusal) -> Template:
    return Template("proctor_refused.html", context={"actor": ctx.actor, "refusal": r}, status_code=r.status)


def again(ctx: Ctx, first: Refusal | None, build: Callable[[], Template]) -> Template:
    """A proctor page, or — when the caller may not read it at all — the refusal page: a page
    shown again after a refused form (``first``) keeps the first refusal's status."""
    try:
        page = build()
    except Refusal as r:
        return refused(ctx, r)
    if first is not None:
        page.status_code = first.status
    return page


# The glossary's groups the live page's script turns codes into words with (issue #16).
DASHBOARD_TERMS = ("part", "camera_state", "seat_status", "room_alert", "incident_kind", "incident_tier")


@get("/proctor", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def proctor_home(ctx: Ctx) -> Template:
    actor = ctx.user
    today = ctx.now.astimezone(CST).date()
    query = (
        select(Batch)
        .where(
            Batch.exam_date >= today - timedelta(days=3),
            Batch.exam_date <= today + timedelta(days=7),
            Batch.status != "draft",
        )
        .order_by(col(Batch.exam_date), col(Batch.id))
    )
    if actor.role == "proctor":
        query = query.where(
            col(Batch.id).in_(
                select(ExamSession.batch_id)
                .join(ProctorAssignment, col(ProctorAssignment.session_id) == ExamSession.id)
                .where(ProctorAssignment.staff_id == (actor.staff_id or -1))
            )
        )
    batches = []
    if actor.role in WATCH_ROLES:
        for b in ctx.db.exec(query).all():
            inst = ctx.db.get(Institution, b.institution_id)
            if inst is not None and sees_institution(actor, inst):
                batches.append({"batch": b, "institution": inst.name, "today": b.exam_date == today})
    return Template("proctor_home.html", context={"actor": actor, "batches": batches})


@get("/proctor/batches/{bid:int}", guards=[signed_in], sync_to_thread=True, include_in_schema=False)
def dashboard(ctx: Ctx, bid: FromPath[int]) -> Template:
    try:
        view = batch_view(ctx.db, ctx.user, bid)
    except Refusal as r:
        return refused(ctx, r)
    # R-DISC-1: the kinds grouped by tier, each tier saying what it does to the candidate's result.
    tiers = [
        {"tier": t, "kinds": [{"kind": k, "label": INCIDENT_LABELS[k]} for k, kt in INCIDENT_TIERS.items() if kt == t]}
        for t in ("a", "b", "c")
    ]
    return Template(
        "dashboard.html",
        context={
            "actor": ctx.user,
            "batch": view.batch,
            "institution": view.institution.name,
            "is_proctor": ctx.user.role == "proctor",
            "tiers": tiers,
            "words": {g: {k: list(v) for k, v in TERMS[g].items()} for g in DASHBOARD_TERMS},
            "is_supervisor": ctx.user.role == "supervisor",
            "areas": [(a, SUPERVISION_AREA_LABELS[a]) for a in (*SUPERVISION_AREAS, "other")],
        },
    )


ROUTES = [proctor_home, dashboard]
