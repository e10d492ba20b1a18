"""The institution sends its report itself (主动上报): R-PUB-2, R-AUDIT-1, issue #17.

An installation configured with its centre's URL and the report token the centre issued
(``EXAMDAY_CENTRE_URL``, ``EXAMDAY_CENTRE_REPORT_TOKEN``) pushes each batch's signed package
(``scoring.report_package``) once the centre has approved the batch (R-CERT-1), and retries with
backoff (30 s, doubling, at most an hour) until the centre answers: acknowledged (2xx) — the
institution records the receipt (``ReportReceipt``, R-PUB-2) — or refused with its reason code
(4xx with a refusal body), which stays until the office acts. The state — not sent, sent,
acknowledged, refused — is shown beside the R-PUB-2 deadline (:func:`state_for`).

The same loop signs the hourly checkpoint of the audit chain (``examday.checkpoints.hourly``).
``examday serve`` starts it (:func:`start`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session, col, select

from examday import audit, checkpoints
from examday.actor import SYSTEM
from examday.clock import CST, Clock, iso
from examday.plans.models import Batch
from examday.registry.models import Institution
from examday.rows import row_id
from scoring import access, report_package
from scoring.models import BatchReview, ReportReceipt
from scoring.report_models import ReportPush
from scoring.services import review
from storage.blobs import BlobStore

log = logging.getLogger("examday.report_push")
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
REFUSED_STATUSES = (409, 413, 422)
STATES = {"pending": "not_sent", "sent": "sent", "acknowledged": "acknowledged", "refused": "refused"}


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


def push_of(db: Session, batch_id: int) -> ReportPush | None:
    return db.exec(select(ReportPush).where(ReportPush.batch_id == batch_id)).first()


def state_for(db: Session, actor: Any, batch_id: int, now: datetime) -> dict[str, Any]:
    """The push's state next to the reporting deadline, for whoever reads the batch's scores."""
    batch = access.batch_for_read(db, actor, batch_id)
    return state_of(db, batch, now)


def state_of(db: Session, batch: Batch, now: datetime) -> dict[str, Any]:
    push = push_of(db, row_id(batch))
    return {
        "batch_id": batch.id,
        "state": STATES[push.state] if push else "not_sent",
        "code": push.code if push else None,
        "attempts": push.attempts if push else 0,
        "last_at": iso(push.last_at) if push else None,
        "next_at": iso(push.next_at) if push and push.state == "sent" else None,
        "last_error": push.last_error if push else "",
        "acknowledged_at": iso(push.acknowledged_at) if push else None,
        "reporting": review.reporting_of(db, row_id(batch), now.astimezone(CST).date()),
        "rule": "R-PUB-2",
    }


def due(db: Session, now: datetime) -> list[int]:
    """Locked, approved batches not yet acknowledged or refused, whose next try is due."""
    approved = select(BatchReview.batch_id).where(BatchReview.decision == "approve")
    ids = db.exec(
        select(Batch.id).where(Batch.status == "locked", col(Batch.id).in_(approved)).order_by(col(Batch.id))
    ).all()
    out = []
    for bid in ids:
        assert bid is not None
        push = push_of(db, bid)
        if push is None or (
            push.state in ("pending", "sent") and (push.next_at is None or push.next_at.astimezone(UTC) <= now)
        ):
            out.append(bid)
    return out


Post = Callable[[str, bytes, dict[str, str]], httpx.Response]


def _post(url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=data, headers=headers, timeout=60.0)


def push_batch(
    engine: Any, blobs: BlobStore | None, centre_url: str, token: str, batch_id: int, now: datetime, post: Post = _post
) -> str:
    """Build, send and record one batch's package; the state it ends in."""
    with Session(engine, expire_on_commit=False) as db:
        batch = db.get(Batch, batch_id)
        inst = db.get(Institution, batch.institution_id) if batch else None
        if batch is None or inst is None:
            return "missing"
        data = report_package.build(db, batch, inst, now, blobs)
        db.commit()  # the checkpoints it signed stand, whatever the centre answers
    digest = report_package.sha256(data)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/zip"}
    code, error, state = None, "", "sent"
    try:
        r = post(f"{centre_url}/api/v1/centre/reports", data, headers)
        if 200 <= r.status_code < 300:
            state = "acknowledged"
        else:
            try:
                code = str(r.json().get("code") or "")
            except ValueError:
                code = ""
            error = f"HTTP {r.status_code} {code}".strip()
            if r.status_code in REFUSED_STATUSES and code:
                state = "refused"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    with Session(engine) as db:
        push = push_of(db, batch_id) or ReportPush(batch_id=batch_id)
        push.attempts += 1
        push.last_at, push.sha256, push.state = now, digest, state
        push.last_error = error[:500]
        push.code = code if state == "refused" else None
        push.next_at = now + backoff(push.attempts) if state == "sent" else None
        if state == "acknowledged":
            push.acknowledged_at = now
            if db.exec(select(ReportReceipt).where(ReportReceipt.batch_id == batch_id)).first() is None:
                db.add(ReportReceipt(batch_id=batch_id, account_id=None, at=now))  # R-PUB-2: received
        db.add(push)
        db.flush()
        audit.record(
            db,
            SYSTEM,
            f"batch.report_{state}",
            "batch",
            batch_id,
            {"sha256": digest, "code": push.code, "error": error or None, "attempt": push.attempts},
            now,
            batch.institution_id,
        )
        db.commit()
    return state


def run_once(engine: Any, blobs: BlobStore | None, centre_url: str, token: str, now: datetime) -> dict[int, str]:
    """One turn of the loop: the hourly checkpoints, then every due push."""
    with Session(engine) as db:
        checkpoints.hourly(db, now)
        db.commit()
        ids = due(db, now) if centre_url and token else []
    return {bid: push_batch(engine, blobs, centre_url, token, bid, now) for bid in ids}


def start(settings: Any, clock: Clock, stop: threading.Event | None = None) -> threading.Thread:
    """The push loop of ``examday serve``, in a daemon thread."""
    from storage.blobs import open_blob_store
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    blobs = open_blob_store(settings)
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_once(engine, blobs, settings.centre_url, settings.centre_report_token, clock.now())
            except Exception:  # the loop outlives one failure; the next turn tries again
                log.exception("report push failed")
            stop.wait(settings.report_push_seconds)

    thread = threading.Thread(target=loop, name="examday-report-push", daemon=True)
    thread.start()
    return thread
