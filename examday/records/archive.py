"""The archive of key documents (关键节点材料存档), kept permanently (R-ARCH-1).

The sign-in sheets (签到表), exam-room records (考场记录), score summaries
(成绩汇总表) and quality-supervision forms (督导表) that examday produces —
and the registration forms and pledges an institution scans — are stored as
PDF or PNG files with their SHA-256, in retention class ``key_documents``,
which :mod:`storage.retention` never lets the purge touch.

The file is written first, then its rows (in the caller's transaction): a
crash between the two leaves a file without a row, which the next purge
finds and settles (see :mod:`storage.purge`), never a row without its file.

Archiving needs an actor and the audit chain, so it sits here in examday's
core; the files and their rows are storage's.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal
from storage.blobs import Blob, BlobStore
from storage.retention import RetentionClass
from storage.retention_models import ArchivedDocument

KINDS = {
    "sign_in_sheet": "签到表",
    "room_record": "考场记录",
    "score_summary": "成绩汇总表",
    "supervision_form": "质量督导表",
    "registration_form": "报名表",
    "pledge": "诚信承诺书",
}
# What a file must begin with to be what it says it is.
_TYPES = {"application/pdf": (b"%PDF-", ".pdf"), "image/png": (b"\x89PNG\r\n\x1a\n", ".png")}
MAX_BYTES = 50 * 1024 * 1024


def _refuse(code: str, zh: str, en: str, **detail) -> Refusal:
    return Refusal(code, zh, en, "R-ARCH-1", 422, detail)


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
    """Archive one key document permanently and return its blob (R-ARCH-1).

    ``kind`` is one of :data:`KINDS`; ``content_type`` ``application/pdf`` or
    ``image/png``, and the bytes must be that. The same bytes archived twice
    share one file and get two rows. The caller checks who may act and commits.
    """
    if kind not in KINDS:
        raise _refuse(
            "unknown_document_kind",
            f"未知的材料类型：{kind}",
            f"Unknown key document kind {kind!r}.",
            known=list(KINDS),
        )
    expected = _TYPES.get(content_type)
    if expected is None or not data.startswith(expected[0]):
        raise _refuse(
            "invalid_document_file",
            "关键材料须为 PDF 或 PNG 文件",
            "A key document is archived as a PDF or PNG file, and the bytes must be one.",
            content_type=content_type,
        )
    if len(data) > MAX_BYTES:
        raise _refuse("document_too_large", "文件过大", "The file is too large.", max_bytes=MAX_BYTES)
    name = _safe_name(filename, expected[1])
    stored = blobs.put(data, suffix=expected[1])
    blob = Blob(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        retention_class=RetentionClass.KEY_DOCUMENTS.value,
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
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        archived_at=now,
        archived_by=actor.account_id,
        archived_by_name=actor.username,
    )
    db.add(doc)
    db.flush()
    audit.record(
        db,
        actor,
        "document.archived",
        "blob",
        blob.id,
        {
            "kind": kind,
            "batch_id": batch_id,
            "filename": name,
            "sha256": stored.sha256,
            "size": stored.size,
            "retention_class": blob.retention_class,
        },
        now,
        institution_id,
    )
    return blob


def documents_of(db: Session, batch_id: int) -> list[ArchivedDocument]:
    return list(
        db.exec(
            select(ArchivedDocument).where(ArchivedDocument.batch_id == batch_id).order_by(col(ArchivedDocument.id))
        ).all()
    )


def _safe_name(filename: str, suffix: str) -> str:
    base = re.sub(r"[\x00-\x1f/\\]+", "_", (filename or "").strip()).strip(". ") or "document"
    if not base.lower().endswith(suffix):
        base += suffix
    return base[-200:]
