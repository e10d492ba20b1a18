"""The external quality supervisor (质量督导员): findings during the day and the
supervision report (质量督导报告) within 3 working days after the exam (R-SUP-1).
The admin and the centre see the deadline and whether it was met.

The deadline is derived on read from the installation's calendar (packages and
entered holiday notices, R-CAL), so a notice entered later moves it and rejudges
a report already filed; the report's stored ``deadline``/``met`` are what the
filing said (and what its archived form shows), kept as the record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from examday import audit
from examday.access import batch_view, supervisor_of
from examday.accounts.models import Account
from examday.actor import Actor
from examday.calendar_notices import load_calendar
from examday.clock import CST, iso
from examday.errors import Refusal, conflict, forbidden
from examday.plans.models import Batch, ExamSession
from examday.records import archive as records_archive
from proctor import record_doc, rules
from proctor.models import SupervisionFinding, SupervisionReport
from proctor.services.common import Outcome, archive, text_field
from storage.blobs import BlobStore

READERS = ("admin", "centre", "supervisor")


def deadline_of(db: Session, batch: Batch) -> tuple[date, bool]:
    """(deadline, provisional) on the installation's calendar as it is now (R-SUP-1, R-CAL)."""
    calendar = load_calendar(db)
    deadline = rules.supervision_deadline(batch.exam_date, calendar)  # R-SUP-1
    provisional = bool(calendar.provisional_years_in(batch.exam_date, deadline))
    return deadline, provisional


def add_finding(db: Session, actor: Actor, now: datetime, batch_id: int, area: str, text: str) -> Outcome:
    assert actor.account_id is not None
    view = supervisor_of(db, actor, batch_id)
    assert view.batch.id is not None
    if area not in (*rules.SUPERVISION_AREAS, "other"):
        raise Refusal(
            "invalid_area",
            "督导方面无效",
            f"Unknown area {area!r}.",
            "R-SUP-1",
            422,
            {"areas": [*rules.SUPERVISION_AREAS, "other"]},
        )
    text = text_field(
        text, "finding_required", "请填写督导记录（2000字以内）", "Write the finding (up to 2000 characters).", 2000
    )
    f = SupervisionFinding(batch_id=view.batch.id, account_id=actor.account_id, area=area, text=text, at=now)
    db.add(f)
    db.flush()
    audit.record(
        db,
        actor,
        "supervision.finding",
        "supervision_finding",
        f.id,
        {"area": area, "text": text},
        now,
        view.batch.institution_id,
    )
    return Outcome({"id": f.id, "batch_id": view.batch.id, "area": area, "text": text, "at": iso(now)})


def _findings(db: Session, batch_id: int) -> list[dict[str, Any]]:
    rows = db.exec(
        select(SupervisionFinding, Account)
        .join(Account, col(Account.id) == SupervisionFinding.account_id)
        .where(SupervisionFinding.batch_id == batch_id)
        .order_by(col(SupervisionFinding.at), col(SupervisionFinding.id))
    ).all()
    return [{"id": f.id, "area": f.area, "text": f.text, "at": iso(f.at), "by": a.username} for f, a in rows]


def file_report(
    db: Session,
    actor: Actor,
    now: datetime,
    blobs: BlobStore,
    batch_id: int,
    sections: dict[str, str],
    opinion: str,
    opinion_text: str = "",
) -> Outcome:
    assert actor.account_id is not None
    view = supervisor_of(db, actor, batch_id)
    batch = view.batch
    assert batch.id is not None
    last_end = db.exec(select(func.max(ExamSession.ends_at)).where(ExamSession.batch_id == batch.id)).one()
    if now.astimezone(CST).date() < batch.exam_date or (last_end is not None and now < last_end):
        raise conflict("exam_not_over", "考试尚未结束，不能提交督导报告", "The exam is not over yet.", "R-SUP-1")
    missing = [a for a in rules.SUPERVISION_AREAS if not (sections.get(a) or "").strip()]
    if missing or opinion not in rules.VALIDITY_OPINIONS:
        raise Refusal(
            "report_incomplete",
            "督导报告须涵盖全部方面并给出有效性意见",
            "The report covers every area and gives an opinion on the batch's validity.",
            "R-SUP-1",
            422,
            {"missing": missing, "opinions": list(rules.VALIDITY_OPINIONS)},
        )
    if any(len(sections[a]) > 4000 for a in rules.SUPERVISION_AREAS) or len(opinion_text or "") > 4000:
        raise Refusal("report_too_long", "每项内容不超过4000字", "Each section is at most 4000 characters.", None, 422)
    if db.exec(select(SupervisionReport.id).where(SupervisionReport.batch_id == batch.id)).first():
        raise conflict("report_already_filed", "督导报告已提交", "The supervision report is already filed.", "R-SUP-1")
    deadline, provisional = deadline_of(db, batch)
    met = bool(rules.supervision_met(deadline, now.astimezone(CST).date(), now.astimezone(CST).date()))
    areas: dict[str, Any] = {a: sections[a].strip() for a in rules.SUPERVISION_AREAS}  # one column per area
    report = SupervisionReport(
        batch_id=batch.id,
        account_id=actor.account_id,
        **areas,
        opinion=opinion,
        opinion_text=(opinion_text or "").strip(),
        deadline=deadline,
        deadline_provisional=provisional,
        met=met,
        filed_at=now,
    )
    db.add(report)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise conflict(
            "report_already_filed", "督导报告已提交", "The supervision report is already filed.", "R-SUP-1"
        ) from None
    doc = {
        **_report_body(report, actor.username, deadline),
        "batch": _batch_body(batch),
        "institution": view.institution.name,
        "findings": _findings(db, batch.id),
    }
    blob = archive(
        db,
        blobs,
        record_doc.render(record_doc.supervision_form(doc)),
        "image/png",
        ".png",
        f"质量督导报告 batch {batch.id}",
        "key_documents",
        batch.institution_id,
        now,
    )  # R-ARCH-1
    report.document_blob_id = blob.id
    records_archive.archive(  # the batch's archive lists it (R-ARCH-1)
        db,
        None,
        actor,
        "supervision_form",
        batch.institution_id,
        batch.id,
        "质量督导报告.png",
        None,
        "image/png",
        now,
        ref="report",
        blob=blob,
    )
    db.add(report)
    db.flush()
    audit.record(
        db,
        actor,
        "supervision.report",
        "supervision_report",
        report.id,
        {"opinion": opinion, "deadline": deadline.isoformat(), "met": met, "document_blob_id": blob.id},
        now,
        batch.institution_id,
    )
    return Outcome(_report_body(report, actor.username, deadline))


def _batch_body(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "occupation_code": batch.occupation_code,
        "occupation_name": batch.occupation_name,
        "level": batch.level,
        "exam_date": batch.exam_date.isoformat(),
    }


def _report_body(r: SupervisionReport, supervisor: str, deadline: date) -> dict[str, Any]:
    """The report, judged against ``deadline`` (today's calendar), with what its filing recorded."""
    return {
        "id": r.id,
        "batch_id": r.batch_id,
        "supervisor": supervisor,
        **{a: getattr(r, a) for a in rules.SUPERVISION_AREAS},
        "opinion": r.opinion,
        "opinion_text": r.opinion_text,
        "deadline": deadline.isoformat(),
        "met": bool(rules.supervision_met(deadline, r.filed_at.astimezone(CST).date(), deadline)),
        "recorded": {"deadline": r.deadline.isoformat(), "met": r.met},
        "filed_at": iso(r.filed_at),
        "document_blob_id": r.document_blob_id,
    }


def supervision_status(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    view = batch_view(db, actor, batch_id)
    if actor.role not in READERS:
        raise forbidden("Only the exam office, the centre and the supervisor see the supervision.")
    batch = view.batch
    assert batch.id is not None
    deadline, provisional = deadline_of(db, batch)
    report = db.exec(select(SupervisionReport).where(SupervisionReport.batch_id == batch.id)).first()
    filed_on = report.filed_at.astimezone(CST).date() if report else None
    body = None
    if report:
        author = db.get(Account, report.account_id)
        assert author is not None  # a foreign key
        body = _report_body(report, author.username, deadline)
    return {
        "batch_id": batch.id,
        "exam_date": batch.exam_date.isoformat(),
        "deadline": deadline.isoformat(),
        "deadline_provisional": provisional,
        "rule": "R-SUP-1",
        "filed": report is not None,
        "filed_at": iso(report.filed_at) if report else None,
        "met": rules.supervision_met(deadline, filed_on, now.astimezone(CST).date()),
        "report": body,
        "findings": _findings(db, batch.id),
    }
