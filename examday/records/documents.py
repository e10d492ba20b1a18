"""A batch's archive as the office, the supervisor and the centre see it (R-ARCH-1, R-DAY-3):
the list, one document's file, and the office's uploads of paper scans.

Reading the archive first archives the sign-in sheets of the sessions that have ended
(:func:`examday.records.paper_trail.archive_ended`): the paper trail needs no clerk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday.access import batch_for_read, can_add_to_archive, can_read_archive
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, forbidden, not_found
from examday.plans.models import Batch
from examday.records import archive, paper_trail
from examday.registry.models import Institution
from storage.blobs import Blob, BlobStore
from storage.retention import expires_on
from storage.retention_models import ArchivedDocument


def _batch(db: Session, actor: Actor, batch_id: int) -> tuple[Batch, Institution]:
    batch = batch_for_read(db, actor, batch_id)
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None  # batch_for_read found it
    if not can_read_archive(actor, inst):
        raise forbidden("Only the exam office, the supervisor and the centre read a batch's archive.")
    return batch, inst


def doc_body(d: ArchivedDocument, inst: Institution, purged: bool = False) -> dict[str, Any]:
    until = expires_on(d.retention_class, inst.profile, d.archived_at.date())
    return {
        "id": d.id,
        "batch_id": d.batch_id,
        "kind": d.kind,
        "kind_zh": archive.KINDS.get(d.kind, (d.kind, ""))[0],
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "sha256": d.sha256,
        "retention_class": d.retention_class,
        "kept_until": until.isoformat() if until else None,  # None: permanently
        "ref": d.ref,
        "made_at": iso(d.archived_at),
        "made_by": d.archived_by_name,
        "purged": purged,
        "download": f"/api/v1/batches/{d.batch_id}/archive/{d.id}",
    }


def list_documents(db: Session, blobs: BlobStore, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    batch, inst = _batch(db, actor, batch_id)
    paper_trail.archive_ended(db, blobs, now, batch)
    docs = archive.documents_of(db, batch_id)
    purged = {b.id for b in _blobs(db, [d.blob_id for d in docs]) if b.purged_at is not None}
    return {
        "batch_id": batch.id,
        "profile": inst.profile,
        "documents": [doc_body(d, inst, d.blob_id in purged) for d in docs],
        "upload_kinds": list(archive.UPLOAD_KINDS),
        "may_upload": can_add_to_archive(actor, inst),
    }


def _blobs(db: Session, ids: list[int]) -> list[Blob]:
    return list(db.exec(select(Blob).where(col(Blob.id).in_(ids))).all()) if ids else []


def document_file(db: Session, actor: Actor, batch_id: int, document_id: int) -> tuple[ArchivedDocument, Blob]:
    _batch(db, actor, batch_id)
    doc = db.get(ArchivedDocument, document_id)
    if doc is None or doc.batch_id != batch_id:
        raise not_found("archived document")
    blob = db.get(Blob, doc.blob_id)
    if blob is None or blob.purged_at is not None:
        raise not_found("archived document's file")
    return doc, blob


def upload(
    db: Session,
    blobs: BlobStore,
    actor: Actor,
    now: datetime,
    batch_id: int,
    kind: str,
    filename: str | None,
    data: bytes,
) -> dict[str, Any]:
    """A paper scan (registration form, pledge, signed sheet, signed scoring sheet, photo of a
    candidate's work, other) against the batch, by its exam office, with the retention class of
    its kind (R-ARCH-1, R-SCORE-2). The caller commits."""
    batch, inst = _batch(db, actor, batch_id)
    if not can_add_to_archive(actor, inst):
        raise forbidden("Only this institution's exam office uploads scans to its batches.")
    if kind not in archive.UPLOAD_KINDS:
        raise Refusal(
            "invalid_upload_kind",
            "材料类型须为报名表、承诺书、签字材料、评分表、考件图片或其他",
            f"kind is one of {', '.join(archive.UPLOAD_KINDS)}.",
            "R-ARCH-1",
            422,
            {"kinds": list(archive.UPLOAD_KINDS)},
        )
    # The bytes say what the file is, not the browser's label.
    ctype = next((t for t in archive.UPLOAD_TYPES if data.startswith(archive.signature(t))), None)
    if ctype is None:
        raise Refusal(
            "invalid_document_file",
            "扫描件须为 PDF、PNG 或 JPEG 文件",
            "A scan is a PDF, PNG or JPEG file.",
            "R-ARCH-1",
            422,
            {"types": list(archive.UPLOAD_TYPES)},
        )
    doc = archive.archive(db, blobs, actor, kind, batch.institution_id, batch.id, filename or kind, data, ctype, now)
    return doc_body(doc, inst)
