"""What the provincial centre is told (省评价中心): blocked batches (R-INST-2) and grave incidents (R-DISC-1).

``GET /api/v1/centre/blocked-batches``: every filed batch (not a draft) of an institution
the caller may see whose filing is suspended, revoked or expired — its exam day refuses
check-in, incidents, scoring, publicity, the lock and certificates with
``institution_not_in_standing`` (``examday.registry.standing``).

``GET /api/v1/centre/notices``: every incident of tier (b) — a part treated as cheating — or
(c) — every part of the sitting void — in a batch of an institution the caller may see, read
through :mod:`examday.plans.incidents`; the centre learns of them without asking the
institution.
"""

from __future__ import annotations

from typing import Any

from litestar import get
from sqlmodel import col, select

from examday.clock import iso
from examday.plans import incidents
from examday.plans.models import Batch
from examday.registry import standing
from examday.registry.services.institutions import list_institutions
from examday.rows import row_id
from examday.web import Ctx, requires_role, signed_in

NOTIFIED_TIERS = ("b", "c")


@get("/api/v1/centre/blocked-batches", guards=[signed_in], sync_to_thread=True)
def blocked_batches(ctx: Ctx) -> list[dict[str, Any]]:
    names = {row_id(i): i.name for i in list_institutions(ctx.db, ctx.user)}
    blocked = standing.blocked_states(ctx.db, names, ctx.now)
    if not blocked:
        return []
    rows = ctx.db.exec(
        select(Batch)
        .where(col(Batch.institution_id).in_(list(blocked)), Batch.status != "draft")
        .order_by(col(Batch.exam_date).desc(), col(Batch.id).desc())
    ).all()
    return [
        {
            "id": b.id,
            "institution_id": b.institution_id,
            "institution_name": names[b.institution_id],
            "occupation_code": b.occupation_code,
            "level": b.level,
            "exam_date": b.exam_date.isoformat(),
            "status": b.status,
            "filing_state": blocked[b.institution_id],
            "code": "institution_not_in_standing",
            "rule": "R-INST-2",
            "filed_at": iso(b.filed_at),
        }
        for b in rows
    ]


@get("/api/v1/centre/notices", guards=[requires_role("centre", "admin")], sync_to_thread=True)
def centre_notices(ctx: Ctx) -> list[dict[str, Any]]:
    """R-DISC-1: incidents of tier (b) and (c), newest first."""
    names = {row_id(i): i.name for i in list_institutions(ctx.db, ctx.user)}
    if not names:
        return []
    batches = {row_id(b): b for b in ctx.db.exec(select(Batch).where(col(Batch.institution_id).in_(list(names)))).all()}
    found = [i for i in incidents.incidents(ctx.db, list(batches)) if i.tier in NOTIFIED_TIERS]
    out = []
    for i in reversed(found):
        b = batches[i.batch_id]
        out.append(
            {
                "kind": "incident",
                "incident_id": i.id,
                "tier": i.tier,
                "incident_kind": i.kind,
                "cheating": i.cheating,
                "voided_parts": list(i.voided_parts),
                "rule": "R-DISC-1",
                "batch_id": b.id,
                "institution_id": b.institution_id,
                "institution_name": names[b.institution_id],
                "occupation_code": b.occupation_code,
                "level": b.level,
                "exam_date": b.exam_date.isoformat(),
                "session_id": i.session_id,
                "part": i.part,
                "candidate_id": i.candidate_id,
                "at": iso(i.at),
            }
        )
    return out


ROUTES = [blocked_batches, centre_notices]
