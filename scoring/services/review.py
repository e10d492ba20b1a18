"""The centre's review (复核) of a locked batch and the reporting of its data (数据上报): R-CERT-1, R-PUB-2.

Certificates go out only after the centre's review (R-CERT-1). Once a batch is
locked, the centre of its institution's province (or the installation
administrator) reviews it: ``approve``, or ``return`` with reasons. The
institution's own office never reviews its own batch. Each decision is a new
``BatchReview`` row on the audit chain; nothing of the locked batch changes.

A return cannot reopen the scores: they are sealed (R-SCORE-3). It holds the
certificates back and tells the office what is wrong — a document to re-issue
or re-scan, a supervision report or a registration record to complete — and
the office puts that right outside the seal and tells the centre, which
reviews again (approve later, or return again). When the centre finds the
scores themselves unsound, the answer is not in this batch: the filing
authority suspends the institution (R-INST-2).

Certificate numbers only after an approval, with an ``issue_date`` not before
the approval's date (China time). The reporting deadline — 30 working days
from the issue date (R-PUB-2) — is computed on read from the current working
calendar (R-CAL), so a holiday notice entered later moves it; the centre marks
the data received (``ReportReceipt``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.access import can_review_batch
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import Refusal, conflict, forbidden, not_found
from examday.plans.models import Batch
from examday.registry.models import Institution
from examday.registry.services.institutions import list_institutions
from examday.rows import row_id
from scoring import access
from scoring.models import BatchReview, CertificateIssue, ReportReceipt
from scoring.publicity import reporting_deadline

DECISIONS = ("approve", "return")
READ_ROLES = ("admin", "centre", "supervisor")
MAX_REASONS = 20
MAX_REASON_CHARS = 500


def reviews_of(db: Session, batch_id: int) -> list[BatchReview]:
    return list(db.exec(select(BatchReview).where(BatchReview.batch_id == batch_id).order_by(col(BatchReview.id))))


def state_of(reviews: list[BatchReview]) -> str:
    """``awaiting`` (no decision yet), ``returned`` (the last decision) or ``approved`` (final)."""
    if any(r.decision == "approve" for r in reviews):
        return "approved"
    return "returned" if reviews else "awaiting"


def approval_of(reviews: list[BatchReview]) -> BatchReview | None:
    return next((r for r in reviews if r.decision == "approve"), None)


def refuse_unless_approved(db: Session, batch_id: int, issue_date: date) -> None:
    """R-CERT-1: no certificate number before the centre's approval, nor dated before it."""
    reviews = reviews_of(db, batch_id)
    approval = approval_of(reviews)
    if approval is None:
        last = reviews[-1] if reviews else None
        raise conflict(
            "review_pending",
            "评价中心尚未复核通过，不能生成证书" if last is None else "评价中心已退回该批次，复核通过后方可生成证书",
            "The centre has not approved this batch yet; certificates follow its review.",
            "R-CERT-1",
            state=state_of(reviews),
            reasons=json.loads(last.reasons) if last is not None else [],
        )
    approved_on = approval.at.astimezone(CST).date()
    if issue_date < approved_on:
        raise Refusal(
            "issue_date_before_review",
            f"发证日期不能早于评价中心复核通过之日（{approved_on.isoformat()}）",
            f"The issue date may not precede the centre's approval ({approved_on.isoformat()}).",
            "R-CERT-1",
            422,
            {"issue_date": issue_date.isoformat(), "approved_on": approved_on.isoformat()},
        )


def _reasons(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value] if value not in (None, "") else []
    out = [str(v).strip() for v in items if isinstance(v, str) and v.strip()]
    if len(out) != len(items) or len(out) > MAX_REASONS or any(len(r) > MAX_REASON_CHARS for r in out):
        raise Refusal(
            "review_reasons_invalid",
            f"复核意见应为文字，至多{MAX_REASONS}条，每条至多{MAX_REASON_CHARS}字",
            f"Reasons are text: at most {MAX_REASONS}, each at most {MAX_REASON_CHARS} characters.",
            "R-CERT-1",
        )
    return out


def _batch_for_review(db: Session, actor: Actor, batch_id: int) -> tuple[Batch, Institution]:
    batch = db.exec(
        select(Batch).where(Batch.id == batch_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if batch is None:
        raise not_found("batch")
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_review_batch(actor, inst):
        raise forbidden("Only the centre of the institution's province reviews its batches (R-CERT-1).")
    if batch.status != "locked":
        raise conflict(
            "batch_not_locked", "批次成绩锁定后方可复核", "The centre reviews a batch once it is locked.", "R-CERT-1"
        )
    return batch, inst


def review_batch(
    db: Session, actor: Actor, now: datetime, batch_id: int, decision: object, reasons: object
) -> dict[str, Any]:
    """R-CERT-1: the centre approves a locked batch, or returns it with reasons."""
    batch, inst = _batch_for_review(db, actor, batch_id)
    if decision not in DECISIONS:
        raise Refusal(
            "review_decision_invalid",
            "复核结论应为 approve（通过）或 return（退回）",
            "The decision is approve or return.",
            "R-CERT-1",
        )
    listed = _reasons(reasons)
    if decision == "return" and not listed:
        raise Refusal("review_reasons_required", "退回须写明理由", "A return needs its reasons.", "R-CERT-1")
    if state_of(reviews_of(db, row_id(batch))) == "approved":
        raise conflict("review_settled", "该批次已复核通过", "The centre has already approved this batch.", "R-CERT-1")
    row = BatchReview(
        batch_id=row_id(batch),
        decision=str(decision),
        reasons=json.dumps(listed, ensure_ascii=False),
        account_id=actor.account_id,
        at=now,
    )
    db.add(row)
    db.flush()
    audit.record(db, actor, "batch.review", "batch", batch.id, {"decision": decision, "reasons": listed}, now, inst.id)
    return review_body(db, actor, row_id(batch), now)


def reporting_of(db: Session, batch_id: int, today: date) -> dict[str, Any] | None:
    """R-PUB-2: the certificates' issue date, the reporting deadline on today's calendar, the receipt."""
    issue = db.exec(select(CertificateIssue).where(CertificateIssue.batch_id == batch_id)).first()
    if issue is None:
        return None
    calendar = access.working_calendar(db)
    deadline = reporting_deadline(issue.issue_date, calendar)
    provisional = (
        bool(calendar.provisional_years_in(issue.issue_date, deadline))
        if hasattr(calendar, "provisional_years_in")
        else False
    )
    receipt = db.exec(select(ReportReceipt).where(ReportReceipt.batch_id == batch_id)).first()
    return {
        "issue_date": issue.issue_date.isoformat(),
        "reporting_deadline": deadline.isoformat(),
        "provisional": provisional,
        "received_at": iso(receipt.at) if receipt else None,
        "received_by": receipt.account_id if receipt else None,
        "overdue": receipt is None and today > deadline,
    }


def _review_row(r: BatchReview) -> dict[str, Any]:
    return {"decision": r.decision, "reasons": json.loads(r.reasons), "reviewer": r.account_id, "at": iso(r.at)}


def review_body(db: Session, actor: Actor, batch_id: int, now: datetime) -> dict[str, Any]:
    """The review of a batch and its reporting, for the office, its supervisor and the centre."""
    batch = access.batch_for_read(db, actor, batch_id)
    if actor.role not in READ_ROLES:
        raise forbidden("Only the exam office, the supervisor and the centre read the review.")
    reviews = reviews_of(db, row_id(batch))
    approval = approval_of(reviews)
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "state": state_of(reviews) if batch.status == "locked" else "not_locked",
        "approved_at": iso(approval.at) if approval else None,
        "reviews": [_review_row(r) for r in reviews],
        "report": reporting_of(db, row_id(batch), now.astimezone(CST).date()),
    }


def mark_report_received(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    """R-PUB-2: the centre has received the batch's score and certificate data."""
    batch, inst = _batch_for_review(db, actor, batch_id)
    if reporting_of(db, row_id(batch), now.astimezone(CST).date()) is None:
        raise conflict(
            "certificates_not_issued",
            "该批次尚未生成证书",
            "No certificates have been issued for this batch.",
            "R-PUB-2",
        )
    if db.exec(select(ReportReceipt).where(ReportReceipt.batch_id == batch.id)).first() is not None:
        raise conflict(
            "report_received", "该批次数据已签收", "This batch's data is already marked received.", "R-PUB-2"
        )
    db.add(ReportReceipt(batch_id=row_id(batch), account_id=actor.account_id, at=now))
    db.flush()
    audit.record(db, actor, "batch.report_received", "batch", batch.id, {"received": True}, now, inst.id)
    return review_body(db, actor, row_id(batch), now)


def centre_list(db: Session, actor: Actor, now: datetime, received: bool = False) -> list[dict[str, Any]]:
    """The centre's to-do list: locked batches awaiting review or returned, and approved ones whose
    data is not received yet (R-CERT-1, R-PUB-2); awaiting first. ``received``: the batches whose data
    is received too, for the centre's home to count received against due (issue #16)."""
    names = {row_id(i): i.name for i in list_institutions(db, actor) if can_review_batch(actor, i)}
    if not names:
        return []
    batches = db.exec(
        select(Batch)
        .where(col(Batch.institution_id).in_(list(names)), Batch.status == "locked")
        .order_by(col(Batch.exam_date), col(Batch.id))
    ).all()
    today = now.astimezone(CST).date()
    out = []
    for b in batches:
        reviews = reviews_of(db, row_id(b))
        state = state_of(reviews)
        report = reporting_of(db, row_id(b), today)
        if state == "approved" and report is not None and report["received_at"] is not None and not received:
            continue
        out.append(
            {
                "batch_id": b.id,
                "institution_id": b.institution_id,
                "institution_name": names[b.institution_id],
                "occupation_code": b.occupation_code,
                "occupation_name": b.occupation_name,
                "level": b.level,
                "exam_date": b.exam_date.isoformat(),
                "state": state,
                "last_review": _review_row(reviews[-1]) if reviews else None,
                "report": report,
                "rule": "R-CERT-1" if state != "approved" else "R-PUB-2",
            }
        )
    order = {"awaiting": 0, "returned": 1, "approved": 2}
    return sorted(out, key=lambda r: order[r["state"]])
