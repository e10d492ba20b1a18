"""The signed report package of a batch (上报数据包): R-PUB-2, R-CERT-1, R-AUDIT-1, issue #17.

Score and certificate data are reported to the evaluation centre within 30 working days of the
certificates' issue date (R-PUB-2). The package is a ZIP of ``manifest.json`` (what the batch
is, its counts, its seal, the audit checkpoint at its lock, and the SHA-256 of every other file),
``manifest.sig`` (the institution's Ed25519 signature over the exact bytes of
``manifest.json``, with the institution's key — the one that signs tickets and seals,
``examday.keys``), ``results.csv``, ``results.xlsx``, ``certificates.csv`` and the archived
records (``records/``: sign-in sheets, exam-room records, the supervision report). The format
is docs/report-format.md; ``scoring.report_receive`` verifies it.

Only for a batch that is locked and approved by the centre (R-CERT-1: certificates follow the
review; the report follows the certificates). The package carries the office's view of the
results — full ID numbers, which the centre needs for the certificate data — so only the
office, the province's centre and the installation administrator fetch it
(``examday.access.can_fetch_report_package``, R-PRIV-1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit, checkpoints
from examday.access import can_fetch_report_package
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import conflict, forbidden, not_found
from examday.plans.models import Batch
from examday.records import archive
from examday.registry.models import Filing, Institution
from examday.rows import row_id
from scoring import exports
from scoring.models import Certificate, CertificateIssue
from scoring.services import review
from scoring.services.certificates import certificates_csv
from scoring.services.lock import seal_body, seal_of
from storage.blobs import Blob, BlobStore

FORMAT = "examday-report/v1"
RECORD_KINDS = ("sign_in_sheet", "room_record", "supervision_form")
PASSED = exports.RESULT_NAMES["pass"]
CERTIFICATE_HEADER = "证书编号 number"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _office(batch: Batch) -> Actor:
    # The results as the institution's own office reads them: the centre registers certificates
    # against full ID numbers (R-PUB-2).
    return Actor(None, "system", "admin", batch.institution_id)


def batch_for_package(db: Session, actor: Actor, batch_id: int) -> tuple[Batch, Institution]:
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch")
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_fetch_report_package(actor, inst):
        raise forbidden("Only the exam office, its province's centre and the installation administrator fetch it.")
    refuse_unless_reportable(db, batch)
    return batch, inst


def refuse_unless_reportable(db: Session, batch: Batch) -> None:
    """R-PUB-2 / R-CERT-1: a package for a locked batch the centre approved."""
    if batch.status != "locked" or seal_of(db, row_id(batch)) is None:
        raise conflict(
            "batch_not_locked", "批次成绩锁定后方可上报", "A batch is reported once it is locked.", "R-PUB-2"
        )
    if review.state_of(review.reviews_of(db, row_id(batch))) != "approved":
        raise conflict(
            "review_pending",
            "评价中心复核通过后方可上报",
            "A batch is reported once the centre has approved it.",
            "R-CERT-1",
        )


def _lock_entry(db: Session, batch_id: int) -> audit.AuditEntry | None:
    return db.exec(
        select(audit.AuditEntry)
        .where(audit.AuditEntry.action == "batch.lock", audit.AuditEntry.object_id == str(batch_id))
        .order_by(col(audit.AuditEntry.seq).desc())
    ).first()


def _records(db: Session, blobs: BlobStore | None, batch_id: int) -> list[tuple[str, bytes]]:
    """The archived sign-in sheets, exam-room records and supervision report (R-DAY-3, R-SUP-1)."""
    if blobs is None:
        return []
    out: list[tuple[str, bytes]] = []
    names: set[str] = set()
    for doc in archive.documents_of(db, batch_id):
        if doc.kind not in RECORD_KINDS:
            continue
        blob = db.get(Blob, doc.blob_id)
        if blob is None or blob.purged_at is not None:
            continue
        stem = doc.filename.rsplit(".", 1)[0] if "." in doc.filename else doc.filename
        name = f"records/{doc.kind}-{doc.id}-{stem}.pdf".replace("\\", "_")
        if name in names:
            continue
        names.add(name)
        out.append((name, _as_pdf(blobs.read(blob.key), doc.archived_at)))
    return out


def _as_pdf(data: bytes, at: datetime) -> bytes:
    """A record as PDF (issue #17, docs/report-format.md): the sign-in sheets are archived as PDF,
    the exam-room records and the supervision report as PNG forms, each put on an A4 page here."""
    if data.startswith(b"%PDF-"):
        return data
    from fpdf import FPDF
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
    scale = min(210.0 / width, 297.0 / height)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(at)  # the archived record's time: the same record, the same bytes
    pdf.set_margin(0)
    pdf.add_page()
    pdf.image(io.BytesIO(data), x=(210.0 - width * scale) / 2, y=0, w=width * scale, h=height * scale)
    return bytes(pdf.output())


def _counts(db: Session, batch_id: int, results: bytes, certificates: bytes) -> dict[str, int]:
    rows, passed = result_rows(results)
    return {
        "candidates": rows,
        "passed": passed,
        "certificates": certificate_rows(certificates),
        "certificates_stored": len(db.exec(select(Certificate.id).where(Certificate.batch_id == batch_id)).all()),
    }


def result_rows(data: bytes) -> tuple[int, int]:
    """(candidates, passed) as ``results.csv`` lists them: the rows between the header and the
    first empty line (docs/report-format.md)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader, None)
    if header is None:
        return 0, 0
    result_col = next((i for i, h in enumerate(header) if h.startswith("结果")), -1)
    rows = passed = 0
    for row in reader:
        if not row or not any(row):
            break
        rows += 1
        if 0 <= result_col < len(row) and row[result_col] == PASSED:
            passed += 1
    return rows, passed


def certificate_rows(data: bytes) -> int:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader, None)
    return 0 if header is None else sum(1 for row in reader if row and any(row))


def results_seal_digest(data: bytes) -> str | None:
    """The seal digest printed under ``results.csv`` (exports.summary's footer)."""
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        if len(row) >= 2 and row[0].startswith("摘要 digest"):
            return row[1]
    return None


SUPERVISION_WORKING_DAYS = 3  # R-SUP-1: the supervisor's report within 3 working days of the exam


def exam_day_facts(db: Session, batch: Batch) -> dict[str, Any]:
    """What the centre's dashboard reads of the exam day: the incidents of tier (b) and (c) it is
    told of (R-DISC-1), and when the supervision report was filed against its deadline (R-SUP-1)."""
    from examday.plans import incidents
    from scoring import access

    bid = row_id(batch)
    tiers = [i.tier for i in incidents.incidents(db, [bid])]
    filed = [d.archived_at for d in archive.documents_of(db, bid) if d.kind == "supervision_form"]
    due = access.working_calendar(db).add_working_days(batch.exam_date, SUPERVISION_WORKING_DAYS)
    return {
        "incidents": {"b": tiers.count("b"), "c": tiers.count("c")},
        "supervision_filed_at": iso(min(filed)) if filed else None,
        "supervision_due": due.isoformat(),
    }


def build(db: Session, batch: Batch, inst: Institution, now: datetime, blobs: BlobStore | None) -> bytes:
    """The package's bytes. Signs the checkpoint at the lock and one at this report."""
    bid = row_id(batch)
    seal = seal_of(db, bid)
    assert seal is not None
    office = _office(batch)
    results = exports.results_csv(db, office, bid)
    issue = db.exec(select(CertificateIssue).where(CertificateIssue.batch_id == bid)).first()
    certs = certificates_csv(db, office, bid, now) if issue is not None else f"\ufeff{CERTIFICATE_HEADER}\r\n".encode()
    files: list[tuple[str, bytes]] = [
        ("results.csv", results),
        ("results.xlsx", exports.results_xlsx(db, office, bid)),
        ("certificates.csv", certs),
        *_records(db, blobs, bid),
    ]
    lock = _lock_entry(db, bid)
    at_lock = (
        checkpoints.sign_at(db, inst, lock.chain_seq, lock.hash, seal.locked_at, "lock", lock.chain)
        if lock is not None
        else checkpoints.sign_head(db, inst, now, "lock")
    )
    at_report = checkpoints.sign_head(db, inst, now, "report")
    filing = db.exec(
        select(Filing).where(Filing.institution_id == inst.id).order_by(col(Filing.valid_from).desc())
    ).first()
    reporting = review.reporting_of(db, bid, now.astimezone(CST).date())
    approval = review.approval_of(review.reviews_of(db, bid))
    manifest = {
        "format": FORMAT,
        "created_at": iso(now.astimezone(UTC)),
        "institution": {
            "uscc": inst.uscc,
            "name": inst.name,
            "province": inst.province,
            "filing_number": filing.number if filing else None,
        },
        "batch": {
            "id": bid,
            "occupation_code": batch.occupation_code,
            "occupation_name": batch.occupation_name,
            "level": batch.level,
            "exam_date": batch.exam_date.isoformat(),
            "parts": batch.part_list(),
        },
        "review": {"approved_at": iso(approval.at) if approval else None},
        "exam_day": exam_day_facts(db, batch),
        "reporting": {
            "issue_date": reporting["issue_date"] if reporting else None,
            "reporting_deadline": reporting["reporting_deadline"] if reporting else None,
        },
        "counts": {**_counts(db, bid, results, certs), "score_entries": seal.entries, "sealed_results": seal.results},
        "seal": {"batch_id": bid, **{k: v for k, v in seal_body(seal).items() if k not in ("results", "entries")}},
        "checkpoint": checkpoints.body(at_lock, inst.uscc),
        "checkpoints": [checkpoints.body(c, inst.uscc) for c in checkpoints.of_institution(db, row_id(inst))],
        "report_checkpoint": checkpoints.body(at_report, inst.uscc),
        "files": [{"path": name, "sha256": sha256(data), "size": len(data)} for name, data in files],
    }
    manifest_bytes = canonical(manifest)
    from examday import keys

    kid, signature = keys.sign(db, row_id(inst), manifest_bytes, now)
    sig = canonical({"algorithm": "Ed25519", "kid": kid, "signature": signature})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", manifest_bytes)
        z.writestr("manifest.sig", sig)
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def package_for(db: Session, actor: Actor, batch_id: int, now: datetime) -> tuple[str, bytes]:
    """(file name, bytes) of the batch's package, for the office, the centre, the admin."""
    batch, inst = batch_for_package(db, actor, batch_id)
    data = build(db, batch, inst, now, archive.store_of(db))
    audit.record(
        db,
        actor,
        "batch.report_package",
        "batch",
        batch.id,
        {"sha256": sha256(data), "size": len(data)},
        now,
        inst.id,
    )
    return filename(batch, inst), data


def filename(batch: Batch, inst: Institution) -> str:
    return f"report-{inst.uscc}-batch-{batch.id}.zip"
