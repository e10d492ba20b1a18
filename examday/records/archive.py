"""A batch's archive (存档): the paper trail of the exam day, each document kept for its
retention class (R-ARCH-1, R-DAY-3, R-SCORE-2).

What examday produces — the sign-in sheets (签到表) filled from the check-ins, the exam-room
records (考场记录), the score summary (成绩汇总表), the seal (封存), the results export and the
quality-supervision report (督导表) — and what the office scans — registration forms
(报名表), pledges (诚信承诺书), signed sheets — are stored as files with their SHA-256 and
one :class:`~storage.retention_models.ArchivedDocument` row each. The key documents are
kept permanently (``key_documents``, which the purge never touches); a results export is an
electronic record (5 years), any other scan a paper record (3 years); the signed scoring records
and the candidates' work photos are kept at least 1 year (R-SCORE-2).

:func:`archive` is the one way in. The file is written first, then its rows (in the caller's
transaction): a crash between the two leaves a file without a row, which the next purge finds
and settles (see :mod:`storage.purge`), never a row without its file. An automatic document
names what it is of (``ref``): archiving it again returns the first, even when two requests
race (one row per batch, kind and ref).
"""

from __future__ import annotations

import re
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal
from storage.blobs import Blob, BlobStore
from storage.retention import RetentionClass
from storage.retention_models import ArchivedDocument

KEY = RetentionClass.KEY_DOCUMENTS.value
# kind: (Chinese name, retention class)
KINDS: dict[str, tuple[str, str]] = {
    "sign_in_sheet": ("签到表", KEY),
    "room_record": ("考场记录", KEY),
    "score_summary": ("成绩汇总表", KEY),
    "seal": ("封存记录", KEY),
    "results_export": ("成绩导出", RetentionClass.ELECTRONIC_RECORDS.value),
    "supervision_form": ("质量督导报告", KEY),
    "registration_form": ("报名表", KEY),
    "pledge": ("诚信承诺书", KEY),
    "signed_sheet": ("签字材料", KEY),
    "other": ("其他纸质材料", RetentionClass.PAPER_SCANS.value),
    # R-SCORE-2: the examiners' signed scoring records and the candidates' work (or photos of it).
    "scoring_record": ("评分记录", RetentionClass.SCORING_RECORDS.value),
    "scoring_sheet": ("签字评分表", RetentionClass.SCORING_RECORDS.value),
    "work_photo": ("考件及图片", RetentionClass.CANDIDATE_ANSWERS.value),
}
UPLOAD_KINDS = ("registration_form", "pledge", "signed_sheet", "scoring_sheet", "work_photo", "other")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a file must begin with to be what it says it is.
_TYPES = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "application/json": (b"{", ".json"),
    XLSX: (b"PK\x03\x04", ".xlsx"),
}
UPLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg")
MAX_BYTES = 50 * 1024 * 1024

# The blob store of each database engine, registered by the application factory, so that a
# service deep down (the lock) archives without a store handed through every caller.
_STORES: WeakKeyDictionary = WeakKeyDictionary()


def use_store(engine, blobs: BlobStore) -> None:
    _STORES[engine] = blobs


def store_of(db: Session) -> BlobStore | None:
    return _STORES.get(db.get_bind())


def signature(content_type: str) -> bytes:
    """What a file of ``content_type`` begins with."""
    return _TYPES[content_type][0]


def _refuse(code: str, zh: str, en: str, **detail) -> Refusal:
    return Refusal(code, zh, en, "R-ARCH-1", 422, detail)


def _existing(db: Session, batch_id: int | None, kind: str, ref: str | None) -> ArchivedDocument | None:
    if ref is None or batch_id is None:
        return None
    return db.exec(
        select(ArchivedDocument).where(
            ArchivedDocument.batch_id == batch_id, ArchivedDocument.kind == kind, ArchivedDocument.ref == ref
        )
    ).first()


def archive(
    db: Session,
    blobs: BlobStore | None,
    actor: Actor,
    kind: str,
    institution_id: int,
    batch_id: int | None,
    filename: str,
    data: bytes | None,
    content_type: str,
    now: datetime,
    ref: str | None = None,
    blob: Blob | None = None,
) -> ArchivedDocument:
    """Archive one document of ``kind`` with its retention class, and audit it (R-ARCH-1).

    Either ``data`` (written to ``blobs``) or a ``blob`` already stored (the supervision
    report's). The bytes must be the ``content_type`` they claim. With a ``ref`` the document
    is archived once: the second call returns the first. The caller checks who may act and commits.
    """
    if kind not in KINDS:
        raise _refuse(
            "unknown_document_kind", f"未知的材料类型：{kind}", f"Unknown document kind {kind!r}.", known=list(KINDS)
        )
    found = _existing(db, batch_id, kind, ref)
    if found is not None:
        return found
    expected = _TYPES.get(content_type)
    if expected is None or (blob is None and not (data or b"").startswith(expected[0])):
        raise _refuse(
            "invalid_document_file",
            "存档材料须为 PDF、PNG 或 JPEG 文件",
            "A document is archived as a PDF, PNG or JPEG file, and the bytes must be one.",
            content_type=content_type,
        )
    if data is not None and len(data) > MAX_BYTES:
        raise _refuse("document_too_large", "文件过大", "The file is too large.", max_bytes=MAX_BYTES)
    cls = KINDS[kind][1]
    name = _safe_name(filename, expected[1])
    if blob is None:
        if blobs is None or data is None:
            raise ValueError("archive() needs the bytes and a blob store, or a stored blob")
        stored = blobs.put(data, suffix=expected[1])
        blob = Blob(
            key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            content_type=content_type,
            retention_class=cls,
            institution_id=institution_id,
            label=f"{kind}:{name}"[:200],
            created_at=now,
        )
        db.add(blob)
        db.flush()
    assert blob.id is not None
    doc = ArchivedDocument(
        blob_id=blob.id,
        institution_id=institution_id,
        batch_id=batch_id,
        kind=kind,
        filename=name,
        sha256=blob.sha256,
        size=blob.size,
        content_type=content_type,
        retention_class=blob.retention_class,
        ref=ref,
        archived_at=now,
        archived_by=actor.account_id,
        archived_by_name=actor.username,
    )
    try:
        with db.begin_nested():  # another request archived the same ref a moment ago
            db.add(doc)
    except IntegrityError:
        again = _existing(db, batch_id, kind, ref)
        if again is None:
            raise
        return again
    audit.record(
        db,
        actor,
        "document.archived",
        "archived_document",
        doc.id,
        {
            "kind": kind,
            "batch_id": batch_id,
            "filename": name,
            "sha256": blob.sha256,
            "size": blob.size,
            "blob_id": blob.id,
            "retention_class": blob.retention_class,
            "ref": ref,
        },
        now,
        institution_id,
    )
    return doc


def archive_document(
    db: Session,
    blobs: BlobStore,
    actor: Actor,
    kind: str,
    institution_id: int,
    batch_id: int | None,
    filename: str,
    data: bytes,
    content_type: str,
    now: datetime,
) -> Blob:
    """:func:`archive`, returning the blob (the purge's tests ask for the file)."""
    doc = archive(db, blobs, actor, kind, institution_id, batch_id, filename, data, content_type, now)
    blob = db.get(Blob, doc.blob_id)
    assert blob is not None
    return blob


def documents_of(db: Session, batch_id: int) -> list[ArchivedDocument]:
    return list(
        db.exec(
            select(ArchivedDocument).where(ArchivedDocument.batch_id == batch_id).order_by(col(ArchivedDocument.id))
        ).all()
    )


def _safe_name(filename: str, suffix: str) -> str:
    base = re.sub(r"[\x00-\x1f/\\\"]+", "_", (filename or "").strip()).strip(". ") or "document"
    if not base.lower().endswith(suffix):
        base += suffix
    return base[-200:]
