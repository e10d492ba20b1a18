"""The audit chain as storage's audit sink, handed over at start-up (R-AUDIT-1).

The purge writes one entry per chunk in the very transaction that stamps the
rows purged and drops their intents (:mod:`storage.purge`, step 3), so the
sink appends in the caller's session and never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from examday import audit
from examday.actor import SYSTEM
from storage import providers


def system_entry(
    db: Session,
    action: str,
    object_type: str,
    object_id: Any,
    diff: dict[str, Any],
    now: datetime,
    institution_id: int | None,
) -> None:
    audit.record(db, SYSTEM, action, object_type, object_id, diff, now, institution_id)


def register() -> None:
    providers.register_audit(system_entry)
