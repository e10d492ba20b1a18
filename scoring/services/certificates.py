"""Certificate numbers for a locked batch and the reporting deadline (证书数据上报):
R-CERT-1, R-FMT-CERT, R-PUB-2, R-CAL.

Numbers go only to candidates who passed (R-CERT-1), in ticket order, and only
once the batch is locked — a certificate never rests on a score that can still
change — and the centre has approved it (``scoring.services.review``), with an
issue date not before that approval. The 6-digit serial continues from the highest one already issued
under the same prefix (kind, institution, province, site, year, level), so
numbers stay unique across batches. The reporting deadline is 30 working
days after the issue date (R-PUB-2), computed on read from the current
calendar, provisional when a year's holiday notice is not known yet (R-CAL).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from examday import audit
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import Refusal, conflict, forbidden
from examday.identity import mask_id_number
from examday.levels import is_enterprise_tier, level_label, level_name, level_text
from examday.plans.models import Candidate
from examday.registry import standing
from examday.registry.models import Institution
from examday.spreadsheets import csv_row
from scoring import access
from scoring.certificates import certificate_number, eligible_for_certificate
from scoring.models import Certificate, CertificateIssue
from scoring.provinces import province_code
from scoring.publicity import reporting_deadline
from scoring.results import batch_results
from scoring.services import review

READ_ROLES = ("admin", "centre", "supervisor")


def _issue_of(db: Session, batch_id: int) -> CertificateIssue | None:
    return db.exec(select(CertificateIssue).where(CertificateIssue.batch_id == batch_id)).first()


def issue_certificates(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    *,
    kind: str,
    institution_code: str,
    site_serial: str,
    issue_date: date | None = None,
    province: str | None = None,
) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "certificates")  # R-INST-2
    if batch.status != "locked":
        raise conflict(
            "batch_not_locked", "批次成绩锁定后方可生成证书", "Certificates follow the lock of the batch.", "R-CERT-1"
        )
    if _issue_of(db, batch.id) is not None:
        raise conflict(
            "certificates_issued", "该批次证书已生成", "This batch's certificates are already issued.", "R-CERT-1"
        )
    if is_enterprise_tier(batch.level):
        # R-FMT-CERT codes the five national levels in one digit (1–5); an enterprise's own tier
        # (R-LEVEL: 学徒工, 特级技师, 首席技师) has no place in the unified number, so examday
        # issues none rather than print the digit of the level it was assessed as.
        name_zh, name_en = level_name(batch.level)
        raise conflict(
            "tier_has_no_unified_certificate",
            f"{name_zh}为企业自主设立的层次，统一证书编码只含五个等级（1–5），不生成统一编码证书",
            f"{name_en} is an enterprise's own tier: the unified certificate number codes levels 1–5 only.",
            "R-FMT-CERT",
            level=batch.level,
        )
    issued_on = issue_date or now.astimezone(CST).date()
    review.refuse_unless_approved(db, batch.id, issued_on)  # R-CERT-1: after the centre's review
    inst = db.get(Institution, batch.institution_id)
    prov = province or province_code(inst.province if inst else None)
    year = issued_on.year
    prefix_probe = certificate_number(kind, institution_code, prov or "", site_serial, year, batch.level, 1)
    assert prov is not None  # the probe refuses an unknown province
    prefix = prefix_probe[:16]
    passed = [r for r in batch_results(db, batch) if eligible_for_certificate(r.result)]  # R-CERT-1
    last = db.exec(select(func.max(Certificate.serial)).where(Certificate.prefix == prefix)).one() or 0
    if last + len(passed) > 999_999:
        raise Refusal("certificate_serials_exhausted", "证书流水号已用尽", "No certificate serials left.", "R-FMT-CERT")
    calendar = access.working_calendar(db)
    deadline = reporting_deadline(issued_on, calendar)  # R-PUB-2: 30 working days
    provisional = (
        bool(calendar.provisional_years_in(issued_on, deadline)) if hasattr(calendar, "provisional_years_in") else False
    )
    issue = CertificateIssue(
        batch_id=batch.id,
        issue_date=issued_on,
        reporting_deadline=deadline,
        provisional=provisional,
        kind=kind,
        institution_code=institution_code,
        province_code=prov,
        site_serial=site_serial,
        account_id=actor.account_id,
        at=now,
    )
    db.add(issue)
    db.flush()
    assert issue.id is not None  # flushed: the database gave it an id
    for n, r in enumerate(passed, start=last + 1):
        assert r.candidate.id is not None
        number = certificate_number(kind, institution_code, prov, site_serial, year, batch.level, n)  # R-FMT-CERT
        db.add(
            Certificate(
                issue_id=issue.id,
                batch_id=batch.id,
                candidate_id=r.candidate.id,
                number=number,
                prefix=prefix,
                serial=n,
            )
        )
    db.flush()
    audit.record(
        db,
        actor,
        "certificates.issue",
        "batch",
        batch.id,
        {
            "issue_date": issued_on.isoformat(),
            "reporting_deadline": deadline.isoformat(),
            "count": len(passed),
            "prefix": prefix,
            "first_serial": last + 1,
        },
        now,
        batch.institution_id,
    )
    return certificate_data(db, actor, batch.id, now)


def certificate_data(db: Session, actor: Actor, batch_id: int, now: datetime) -> dict[str, Any]:
    batch = access.batch_for_read(db, actor, batch_id)
    assert batch.id is not None
    if actor.role not in READ_ROLES:
        raise forbidden("Only the exam office, the supervisor and the centre read certificate data.")
    issue = _issue_of(db, batch.id)
    if issue is None:
        raise conflict(
            "certificates_not_issued",
            "该批次尚未生成证书",
            "No certificates have been issued for this batch.",
            "R-CERT-1",
        )
    # R-PUB-2, R-CAL: the deadline on today's calendar, not the one stored at issue.
    reporting = review.reporting_of(db, batch.id, now.astimezone(CST).date())
    assert reporting is not None
    rows = db.exec(
        select(Certificate, Candidate)
        .join(Candidate, col(Candidate.id) == Certificate.candidate_id)
        .where(Certificate.batch_id == batch.id)
        .order_by(col(Certificate.serial))
    ).all()
    return {
        "batch_id": batch.id,
        "issue_date": issue.issue_date.isoformat(),
        "reporting_deadline": reporting["reporting_deadline"],
        "provisional": reporting["provisional"],
        "report_received_at": reporting["received_at"],
        "issued_at": iso(issue.at),
        "occupation_code": batch.occupation_code,
        "occupation_name": batch.occupation_name,
        "level": batch.level,
        "level_label": level_label(batch.level),  # R-LEVEL: "3级", or an enterprise tier's name
        "certificates": [
            {
                "candidate_id": c.id,
                "ticket_number": c.ticket_number,
                "name": c.name,
                "id_number": c.id_number if actor.role == "admin" else mask_id_number(c.id_number),
                "number": cert.number,
            }
            for cert, c in rows
        ],
    }


def certificates_csv(db: Session, actor: Actor, batch_id: int, now: datetime) -> bytes:
    data = certificate_data(db, actor, batch_id, now)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [
            "证书编号 number",
            "准考证号",
            "姓名",
            "身份证号",
            "职业编码",
            "职业名称",
            "等级",
            "发证日期 issue_date",
            "上报截止 reporting_deadline",
        ]
    )
    for c in data["certificates"]:
        # Names and occupation names are typed by people: csv_row keeps them from running as formulas.
        w.writerow(
            csv_row(
                [
                    c["number"],
                    c["ticket_number"],
                    c["name"],
                    c["id_number"],
                    data["occupation_code"],
                    data["occupation_name"],
                    level_text(data["level"]),  # R-LEVEL: "3", or an enterprise tier's name
                    data["issue_date"],
                    data["reporting_deadline"],
                ]
            )
        )
    if data["provisional"]:
        w.writerow([])
        w.writerow(["上报截止日期按暂定日历计算 the deadline rests on a provisional calendar (R-CAL)"])
    return "\ufeff".encode("utf-8") + out.getvalue().encode("utf-8")
