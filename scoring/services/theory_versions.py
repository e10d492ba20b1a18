"""The chief's countersignature (主考签认) that makes a theory import the scores, and the
corrections (更正) that later versions made: R-SCORE-3, R-PANEL-1.

An import (``scoring.theory_import``) is a draft signed by the office account that made it.
The chief of one of the batch's panels reads it and countersigns with the signing PIN — the
same PIN and per-examiner secret that sign skill entries (``scoring.entry_chain``) — over a
hash of the version (the file's sha256, the version, the reason, who imported it, when).
Only then is it applied to the candidates' theory scores; what it changed is stored with it
and shown on the results and in the audit. From the start of publicity only a version
answering upheld theory objections is countersigned (R-PUB-1,
``scoring.services.theory_objections``); countersigning it settles them as upheld.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.access import can_countersign_theory, can_read_theory_versions
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, not_found
from examday.plans.models import Batch
from examday.registry import standing
from examday.registry.models import Institution
from scoring import access
from scoring.entry_chain import sign_entry
from scoring.models import Panel, PartScore, TheoryImport
from scoring.services import theory_objections
from scoring.services.entries import check_pin, examiner_secret
from scoring.theory_import import PART, changes_against_scores, outcome, parse_rows, refuse_once_published


def version_hash(t: TheoryImport) -> str:
    """sha256 over what the chief signs: the file and who brought it, when, as which version, why."""
    body = {
        "v": 1,
        "kind": "examday/theory-import",
        "batch_id": str(t.batch_id),
        "import_id": str(t.id),
        "version": t.version,
        "sha256": t.sha256,
        "reason": t.reason,
        "account_id": str(t.account_id),
        "at": iso(t.at),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _chiefs(db: Session, batch_id: int) -> list[int]:
    return list(db.exec(select(Panel.chief_staff_id).where(Panel.batch_id == batch_id)).all())


def _load(db: Session, actor: Actor, batch_id: int, import_id: int) -> tuple[Batch, TheoryImport]:
    batch = access.batch_for_read(db, actor, batch_id)
    record = db.get(TheoryImport, import_id)
    if record is None or record.batch_id != batch.id:
        raise not_found("theory_import")
    return batch, record


def countersign(
    db: Session,
    passwords: Any,
    secret_key: str,
    actor: Actor,
    now: datetime,
    batch_id: int,
    import_id: int,
    pin: object,
) -> dict[str, Any]:
    """The chief countersigns a draft import with the PIN; it becomes the theory scores."""
    batch, record = _load(db, actor, batch_id, import_id)
    assert batch.id is not None
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_countersign_theory(actor, inst, _chiefs(db, batch.id)):
        raise Refusal(
            "forbidden",
            "只有本批次考评组组长可以签认理论成绩",
            "Only a chief of this batch's panels countersigns its theory scores.",
            "R-PANEL-1",
            403,
        )
    access.refuse_if_locked(batch)
    # R-PUB-1: during publicity only a version answering upheld theory objections is countersigned.
    answering = theory_objections.answered(db, record) if batch.status != "filed" else []
    if not answering:
        refuse_once_published(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "theory_import")  # R-INST-2
    if record.state != "draft":
        raise conflict(
            "import_not_draft",
            "该版本不是待签认的草稿（已签认或已被新版本取代）",
            "This version is not a draft awaiting the chief (already countersigned, or superseded).",
            "R-SCORE-3",
            state=record.state,
        )
    pin = check_pin(db, passwords, actor, pin, now)
    assert actor.staff_id is not None
    by_ticket = {c.ticket_number: c for c in access.scored_candidates(db, batch.id)}
    report, errors = parse_rows(record.content, by_ticket)
    if errors:
        # The candidate list changed since the import: the file no longer covers the batch.
        raise conflict(
            "import_outdated",
            "考生名单已变化，该版本不再完整，请重新导入",
            "The candidate list changed since this import; import the file again.",
            "R-SCORE-3",
            errors=errors,
        )
    changes = changes_against_scores(db, batch.id, report)
    if answering:
        changes = theory_objections.tag_changes(batch, changes, answering)
    _apply(db, batch.id, record, report, now)
    settled = theory_objections.settle(answering, record)
    for o in answering:
        db.add(o)
    record.state, record.changes = "signed", json.dumps(changes, ensure_ascii=False)
    record.countersigned_by, record.countersigned_staff_id, record.countersigned_at = (
        actor.account_id,
        actor.staff_id,
        now,
    )
    record.signature = sign_entry(version_hash(record), pin, examiner_secret(secret_key, actor.staff_id))
    db.add(record)
    db.flush()
    audit.record(
        db,
        actor,
        "theory_scores.countersign",
        "theory_import",
        record.id,
        {
            "batch_id": batch.id,
            "version": record.version,
            "reason": record.reason,
            "imported_by": record.account_id,
            "correction": bool(changes) or record.reason is not None,
            "objections_settled": settled,
            "changes": changes,
        },
        now,
        batch.institution_id,
    )
    return import_body(record)


def _apply(db: Session, batch_id: int, record: TheoryImport, report: list[dict[str, Any]], now: datetime) -> None:
    existing = {
        ps.candidate_id: ps
        for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch_id, PartScore.part == PART)).all()
    }
    for r in report:
        ps = existing.get(r["candidate_id"]) or PartScore(
            batch_id=batch_id, candidate_id=r["candidate_id"], part=PART, status="pending", updated_at=now
        )
        ps.status, ps.score_tenths = outcome(r)
        ps.method, ps.source, ps.theory_import_id, ps.updated_at = "import", "import", record.id, now
        db.add(ps)


def import_body(t: TheoryImport) -> dict[str, Any]:
    return {
        "import_id": t.id,
        "batch_id": t.batch_id,
        "version": t.version,
        "state": t.state,
        "reason": t.reason,
        "filename": t.filename,
        "sha256": t.sha256,
        "rows": t.rows,
        "scored": t.scored,
        "absent": t.absent,
        "imported_by": t.account_id,
        "imported_at": iso(t.at),
        "countersigned_by": t.countersigned_by,
        "countersigned_staff_id": t.countersigned_staff_id,
        "countersigned_at": iso(t.countersigned_at),
        "signature": t.signature,
        "objections": theory_objections.named_ids(t.reason),
        "changes": json.loads(t.changes or "[]"),
    }


def list_imports(db: Session, actor: Actor, batch_id: int) -> dict[str, Any]:
    """Every version of the batch's theory scores, oldest first (for the office, the chief, the centre)."""
    batch = access.batch_for_read(db, actor, batch_id)
    inst = db.get(Institution, batch.institution_id)
    if inst is None or not can_read_theory_versions(actor, inst):
        raise Refusal(
            "forbidden",
            "考评员只能查看本人的评分",
            "An evaluator sees only their own entries, not the theory versions.",
            "R-SCORE-1",
            403,
        )
    rows = db.exec(
        select(TheoryImport).where(TheoryImport.batch_id == batch.id).order_by(col(TheoryImport.version))
    ).all()
    return {"batch_id": batch.id, "imports": [import_body(t) for t in rows]}


def corrections(db: Session, batch_id: int) -> dict[int, list[dict[str, Any]]]:
    """Per candidate, each countersigned correction of their theory score: version, before, after, why."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = db.exec(
        select(TheoryImport)
        .where(TheoryImport.batch_id == batch_id, TheoryImport.state == "signed")
        .order_by(col(TheoryImport.version))
    ).all()
    for t in rows:
        for c in json.loads(t.changes or "[]"):
            out[c["candidate_id"]].append(
                {
                    "version": t.version,
                    "before": c["before"],
                    "after": c["after"],
                    "reason": t.reason,
                    "objection_id": c.get("objection_id"),  # R-PUB-1: a correction answering an objection
                    "at": iso(t.countersigned_at),
                }
            )
    return dict(out)
