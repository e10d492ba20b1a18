"""The batches an institution's standing blocks (R-INST-2), for the centre that suspended or revoked it.

``GET /api/v1/centre/blocked-batches``: every filed batch (not a draft) of an institution
the caller may see whose filing is suspended, revoked or expired — its exam day refuses
check-in, incidents, scoring, publicity, the lock and certificates with
``institution_not_in_standing`` (``examday.registry.standing``).
"""

from __future__ import annotations

from typing import Any

from litestar import get
from sqlmodel import col, select

from examday.clock import iso
from examday.plans.models import Batch
from examday.registry import standing
from examday.registry.services.institutions import list_institutions
from examday.rows import row_id
from examday.web import Ctx, signed_in


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


ROUTES = [blocked_batches]
