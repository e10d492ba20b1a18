"""The offline kiosk's upload (离线签到同步): ``POST /api/v1/checkins/sync``.

Each record is one check-in judged by ``kiosk/services/checkin.py`` with
``offline=True``: at its scan time corrected by the kiosk's clock offset, and
only where an offline kiosk could have been (R-DAY-1, R-TIME-1; issue #14).
Records go oldest scan first, so two kiosks' records of one candidate keep the
earlier acceptance; the answers come back in the order sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from examday.actor import Actor
from examday.errors import Refusal
from kiosk.services.checkin import check_in
from kiosk.services.door import Attempt, check_nonce
from storage.blobs import BlobStore

MAX_SYNC_RECORDS = 5000


def sync(
    db: Session,
    actor: Actor,
    now: datetime,
    secret_key: str,
    blobs: BlobStore,
    records: list[Attempt],
    offline_grace: timedelta | None = None,
) -> tuple[list[dict[str, Any]], list[tuple]]:
    """Records an offline kiosk queued, oldest scan first; one result per record, in the order sent."""
    if len(records) > MAX_SYNC_RECORDS:
        raise Refusal(
            "too_many_records",
            f"一次最多同步{MAX_SYNC_RECORDS}条记录",
            f"At most {MAX_SYNC_RECORDS} records per sync.",
            None,
            422,
        )
    for r in records:
        check_nonce(r.kiosk_nonce)
    order = sorted(range(len(records)), key=lambda i: records[i].scan_time or now)
    results: list[dict[str, Any] | None] = [None] * len(records)
    events: list[tuple] = []
    for i in order:
        out = check_in(db, actor, now, secret_key, blobs, records[i], offline=True, offline_grace=offline_grace)
        status = "accepted" if out.http_status == 200 else "refused"
        results[i] = {
            "kiosk_nonce": records[i].kiosk_nonce,
            "http_status": out.http_status,
            "replay": out.replay,
            **out.body,
            "status": status,
        }
        events.extend(out.events)
    return results, events  # type: ignore[return-value]
