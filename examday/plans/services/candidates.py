"""Candidates (考生) of a batch: the all-or-nothing import, eligibility review, withdrawal.

R-ID-1 (every ID number checked; a file with one bad row imports nothing),
R-PLAN-4 (each candidate's eligibility reviewed, the reviewer recorded),
R-PRIV-1 (ID numbers in full for the admin only, never on the audit chain:
the import's entry holds the count and the file's digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from examday import audit
from examday.access import reader_view, seated_candidate_ids
from examday.accounts.models import Account
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, not_found
from examday.identity import mask_id_number
from examday.plans.access import batch_for_write, ensure_draft, today_of
from examday.plans.importer import error_rows, parse_candidates
from examday.plans.models import Batch, Candidate
from examday.rows import table_of

DECISIONS = ("eligible", "ineligible")
_CHUNK = 900  # below every database's limit on bound parameters per statement


def ticket_number(batch: Batch, seq: int) -> str:
    """``{exam year}{batch id:04d}{seq:05d}``: unique per batch, and across batches by the id."""
    return f"{batch.exam_date.year}{batch.id:04d}{seq:05d}"


def _next_seq(batch: Batch, tickets: list[str]) -> int:
    prefix = f"{batch.exam_date.year}{batch.id:04d}"
    used = [int(t[len(prefix) :]) for t in tickets if t.startswith(prefix) and t[len(prefix) :].isdigit()]
    return max(used, default=len(tickets)) + 1


def import_candidates(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    content: bytes,
    filename: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Every row or none (R-ID-1): one bad row, and the answer names each bad row. ``progress``:
    the rows read so far, for the office's page of a long import (issue #16)."""
    batch = batch_for_write(db, actor, batch_id)
    ensure_draft(batch)  # R-PLAN-1: a filed plan's candidates are frozen with it
    parsed = parse_candidates(content, today_of(now), filename, progress)
    existing = db.exec(select(Candidate.id_number, Candidate.ticket_number).where(Candidate.batch_id == batch.id)).all()
    known = {n for n, _ in existing}
    errors = list(parsed.errors)
    for row in parsed.rows:
        if row.id_number in known:
            errors.append(
                {
                    "row": row.row,
                    "column": "id_number",
                    "code": "duplicate_in_batch",
                    "message": "该考生已在本批次中",
                    "message_en": "This candidate is already in the batch.",
                }
            )
    if errors:
        errors.sort(key=lambda e: (e["row"] or 0, e["column"] or ""))
        rows = error_rows(errors)
        ids_bad = any(e["code"] == "invalid_id_number" for e in errors)
        raise Refusal(
            "import_rejected",
            f"名单有{len(errors)}处错误（{_rows_zh(rows)}），未导入任何考生",
            f"The file has {len(errors)} errors ({_rows_en(rows)}); nothing was imported.",
            "R-ID-1" if ids_bad else None,
            422,
            {"errors": errors, "rows": rows, "imported": 0},
        )
    seq = _next_seq(batch, [t for _, t in existing])
    values = [
        {
            "batch_id": batch.id,
            "name": r.name,
            "id_number": r.id_number,
            "employer": r.employer,
            "training_org": r.training_org,
            "phone": r.phone,
            "ticket_number": ticket_number(batch, seq + i),
            "status": "registered",
            "eligibility": "pending",
            "created_at": now,
        }
        for i, r in enumerate(parsed.rows)
    ]
    # One multi-row INSERT per chunk: 5,000 rows in well under a second on either database.
    for start in range(0, len(values), 5000):
        db.execute(insert(table_of(Candidate)), values[start : start + 5000])
    digest = hashlib.sha256(content).hexdigest()
    audit.record(
        db,
        actor,
        "candidates.import",
        "batch",
        batch.id,
        {
            "count": len(values),
            "sha256": digest,
            "bytes": len(content),
            "encoding": parsed.encoding,
            "first_ticket": values[0]["ticket_number"],
            "last_ticket": values[-1]["ticket_number"],
        },
        now,
        batch.institution_id,
    )
    return {
        "imported": len(values),
        "batch_id": batch.id,
        "sha256": digest,
        "first_ticket": values[0]["ticket_number"],
        "last_ticket": values[-1]["ticket_number"],
    }


def _rows_zh(rows: list[int]) -> str:
    if not rows:
        return "文件本身"
    shown = "、".join(map(str, rows[:10]))
    return f"第{shown}行" + ("等" if len(rows) > 10 else "")


def _rows_en(rows: list[int]) -> str:
    if not rows:
        return "the file itself"
    shown = ", ".join(map(str, rows[:10]))
    return f"row{'s' if len(rows) > 1 else ''} {shown}" + (" and more" if len(rows) > 10 else "")


def list_candidates(db: Session, actor: Actor, batch_id: int) -> list[dict[str, Any]]:
    view = reader_view(db, actor, batch_id)
    batch = view.batch
    # R-PRIV-1: the exam office sees numbers in full; every other role a mask.
    full = actor.role == "admin"
    rows = db.exec(select(Candidate).where(Candidate.batch_id == batch.id).order_by(Candidate.ticket_number)).all()
    # R-DAY-3 (issue #14 finding 9): a proctor lists the candidates seated in their own rooms only.
    seated = seated_candidate_ids(db, view)
    if seated is not None:
        rows = [c for c in rows if c.id in seated]
    reviewers = {r for r in (c.reviewed_by for c in rows) if r is not None}
    names = (
        dict(db.exec(select(Account.id, Account.username).where(col(Account.id).in_(reviewers))).all())
        if reviewers
        else {}
    )
    return [
        {
            "id": c.id,
            "name": c.name,
            "id_number": c.id_number if full else mask_id_number(c.id_number),
            "ticket_number": c.ticket_number,
            "status": c.status,
            "eligibility": c.eligibility,
            "reviewed_by": c.reviewed_by,
            "reviewed_by_username": names.get(c.reviewed_by),
            "reviewed_at": iso(c.reviewed_at),
            "eligibility_note": c.eligibility_note,
            "employer": c.employer,
            "training_org": c.training_org,
            **({"phone": c.phone} if full else {}),
        }
        for c in rows
    ]


def review_eligibility(
    db: Session, actor: Actor, now: datetime, batch_id: int, candidate_ids: Any, decision: str, note: str | None = None
) -> dict[str, Any]:
    """R-PLAN-4: record the decision, the reviewer (the caller) and the time on each candidate.

    ``"all"`` means every registered candidate still waiting for review, so a
    decision already taken on someone is never overwritten in bulk.
    """
    batch = batch_for_write(db, actor, batch_id)
    ensure_draft(batch)
    if decision not in DECISIONS:
        raise Refusal(
            "invalid_decision",
            "审核结论只能是 eligible 或 ineligible",
            "The decision is eligible or ineligible.",
            "R-PLAN-4",
        )
    note = (note or "").strip() or None
    if decision == "ineligible" and not note:
        raise Refusal("note_required", "不符合申报条件须写明原因", "Say why a candidate is ineligible.", "R-PLAN-4")
    if note and len(note) > 500:
        raise Refusal("note_too_long", "说明不超过500字", "The note has at most 500 characters.", "R-PLAN-4")
    base = select(Candidate.id, Candidate.status).where(Candidate.batch_id == batch.id)
    if candidate_ids == "all":
        ids = list(
            db.exec(
                select(Candidate.id).where(
                    Candidate.batch_id == batch.id, Candidate.status == "registered", Candidate.eligibility == "pending"
                )
            ).all()
        )
    else:
        if (
            not isinstance(candidate_ids, list)
            or not candidate_ids
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in candidate_ids)
        ):
            raise Refusal(
                "invalid_candidate_ids",
                'candidate_ids 应为考生编号列表或 "all"',
                'candidate_ids is a list of candidate ids or "all".',
                "R-PLAN-4",
            )
        wanted = sorted(set(candidate_ids))
        found: dict[int | None, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            found.update(db.exec(base.where(col(Candidate.id).in_(wanted[start : start + _CHUNK]))).all())
        missing = [x for x in wanted if x not in found]
        if missing:
            raise Refusal(
                "unknown_candidates",
                "以下考生不属于本批次",
                "These candidates are not in this batch.",
                "R-PLAN-4",
                422,
                {"candidate_ids": missing},
            )
        gone = [x for x in wanted if found[x] != "registered"]
        if gone:
            raise conflict(
                "candidate_withdrawn",
                "以下考生已退出",
                "These candidates have withdrawn.",
                "R-PLAN-4",
                candidate_ids=gone,
            )
        ids = wanted
    for start in range(0, len(ids), _CHUNK):
        db.execute(
            update(Candidate)
            .where(col(Candidate.id).in_(ids[start : start + _CHUNK]))
            .values(eligibility=decision, reviewed_by=actor.account_id, reviewed_at=now, eligibility_note=note)
        )
    audit.record(
        db,
        actor,
        "candidates.review",
        "batch",
        batch.id,
        {
            "decision": decision,
            "count": len(ids),
            "note": note,
            "candidate_ids": ids if candidate_ids != "all" else "all_pending",
        },
        now,
        batch.institution_id,
    )
    return {"reviewed": len(ids), "decision": decision, "reviewed_by": actor.account_id, "reviewed_at": iso(now)}


def withdraw_candidate(
    db: Session, actor: Actor, now: datetime, batch_id: int, candidate_id: int, reason: str | None = None
) -> dict[str, Any]:
    """A candidate withdraws (退考). Allowed on a filed plan up to the exam day: the plan
    itself does not change, and check-in then refuses the ticket (``candidate_withdrawn``)."""
    batch = batch_for_write(db, actor, batch_id)
    cand = db.get(Candidate, candidate_id)
    if cand is None or cand.batch_id != batch.id:
        raise not_found("candidate")
    if batch.status not in ("draft", "filed") or today_of(now) > batch.exam_date:
        raise conflict(
            "withdrawal_closed",
            "考试已结束，不能再退考",
            "The exam is over; a candidate can no longer withdraw.",
            status=batch.status,
        )
    if cand.status == "withdrawn":
        raise conflict("already_withdrawn", "该考生已退出", "The candidate has already withdrawn.")
    cand.status = "withdrawn"
    db.add(cand)
    audit.record(
        db,
        actor,
        "candidate.withdraw",
        "candidate",
        cand.id,
        {"batch_id": batch.id, "status": ["registered", "withdrawn"], "reason": (reason or "")[:500]},
        now,
        batch.institution_id,
    )
    return {"id": cand.id, "status": cand.status}
