"""Import theory scores from the exam system (理论成绩导入): ``ticket_number,score``.

All rows or none: every problem is reported with its row and column, and a
file with any problem imports nothing (422 ``import_rejected``, the shape of
the candidate import). Every candidate of the batch must be in the file once;
an empty score, ``absent`` or ``缺考`` marks the candidate absent — not a zero
(R-SCORE-3: a part is out of 100; absence is not a score). The file is kept
with the import record (R-SCORE-2: a full trace).

Versions (R-SCORE-3, R-PANEL-1): an import is signed by the office account that makes it
and becomes the theory scores only once the panel's chief countersigns it with the signing
PIN (``scoring.services.theory_versions``). Importing again before publicity is a
correction: it needs a reason, and each changed score is shown as a correction (更正) on
the results and in the audit. From the start of publicity no import is taken, except the
exam system's re-marked file answering upheld theory objections (R-PUB-1), which may change
only those candidates' scores (``scoring.services.theory_objections``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict
from examday.plans.models import Batch, Candidate
from examday.registry import standing
from examday.spreadsheets import read_csv
from scoring import access
from scoring.models import PartScore, ScoreEntry, TheoryImport
from scoring.points import show, text, to_tenths
from scoring.rubric import PART_MAX, has_one_decimal_at_most, to_points
from scoring.services import theory_objections

PART = "theory"
ABSENT_WORDS = frozenset({"", "absent", "缺考", "-"})
HEADER_WORDS = frozenset({"ticket_number", "准考证号"})


def _decode(data: bytes) -> str | None:
    # Exam systems in China often write GB18030; Excel-saved files carry a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _err(row: int | None, column: str | None, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"row": row, "column": column, "code": code, "message": message, **extra}


def _read_score(raw: str) -> tuple[str, Any] | tuple[None, str]:
    if raw.strip().lower() in ABSENT_WORDS:
        return "absent", None
    number = to_points(raw)
    if number is None:
        return None, "not_a_number"
    if number < 0 or number > PART_MAX:
        return None, "out_of_range"
    if not has_one_decimal_at_most(number):
        return None, "too_precise"
    return "scored", number


def parse_rows(content: str, by_ticket: dict[str, Candidate]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(report rows, errors) for the whole file; errors empty means every row is good."""
    report: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    # The candidate list's limits (rows, columns, line length): past them the file is refused whole.
    lines = read_csv(content, None)
    for number, cells in enumerate(lines, start=1):
        if not any(c.strip() for c in cells):
            continue
        if number == 1 and cells and cells[0].strip().lower() in HEADER_WORDS:
            continue
        if len([c for c in cells if c.strip()]) > 2 or len(cells) < 1:
            errors.append(_err(number, None, "wrong_columns", "每行须为 准考证号,成绩 / ticket_number,score"))
            continue
        ticket = cells[0].strip()
        raw = cells[1] if len(cells) > 1 else ""
        if not ticket:
            errors.append(_err(number, "ticket_number", "required", "准考证号为空 / ticket number missing"))
            continue
        if ticket in seen:
            errors.append(
                _err(
                    number,
                    "ticket_number",
                    "duplicate_ticket",
                    f"准考证号与第{seen[ticket]}行重复 / same ticket as row {seen[ticket]}",
                )
            )
            continue
        seen[ticket] = number
        cand = by_ticket.get(ticket)
        if cand is None:
            errors.append(
                _err(
                    number,
                    "ticket_number",
                    "unknown_ticket",
                    "本批次没有该准考证号的考生 / no such candidate in this batch",
                    ticket_number=ticket,
                )
            )
            continue
        status, value = _read_score(raw)
        if status is None:
            errors.append(
                _err(
                    number,
                    "score",
                    value,
                    "成绩须为0至100、最多一位小数，缺考留空或写“缺考” / "
                    "a score from 0 to 100 with one decimal at most; absent: empty or 缺考",
                    value=raw.strip(),
                )
            )
            continue
        report.append(
            {"row": number, "ticket_number": ticket, "candidate_id": cand.id, "status": status, "score": value}
        )
    for ticket in by_ticket:
        if ticket not in seen:
            errors.append(
                _err(
                    None,
                    "ticket_number",
                    "ticket_missing",
                    "文件中缺少该考生（缺考请写“缺考”）/ candidate missing from the file (mark absence)",
                    ticket_number=ticket,
                )
            )
    if not lines or (not report and not errors):
        errors.append(_err(None, None, "empty", "文件没有成绩 / the file has no scores"))
    return report, errors


def _reason(reason: str | None, correcting: bool) -> str | None:
    note = (reason or "").strip()
    if correcting and not note:
        # R-SCORE-3: nobody alters a score unseen; a correction says why.
        raise Refusal(
            "reason_required",
            "理论成绩已由主考签认，再次导入属于更正，须填写原因",
            "Theory scores are already countersigned by the chief; importing again is a correction and needs a reason.",
            "R-SCORE-3",
            422,
        )
    if len(note) > 500:
        raise Refusal("reason_too_long", "原因不超过500字", "The reason is at most 500 characters.", None, 422)
    return note or None


def refuse_once_published(batch: Batch) -> None:
    """R-SCORE-3: from the start of publicity only an upheld objection changes a score."""
    if batch.status != "filed":
        raise conflict(
            "scores_published",
            "成绩已公示，理论成绩不能再导入或更正；异议成立的才能改分",
            "Scores are published; theory scores can no longer be imported or corrected "
            "(only an upheld objection changes a score).",
            "R-SCORE-3",
        )


def import_theory(
    db: Session,
    actor: Actor,
    now: datetime,
    batch_id: int,
    filename: str,
    data: bytes,
    reason: str | None = None,
) -> dict[str, Any]:
    """A new version of the batch's theory scores, signed by the importing office account and
    waiting for the chief's countersignature (``scoring.services.theory_versions``) before it
    becomes the scores; after the first signed version, a correction with a reason."""
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_unless_filed(batch)
    access.refuse_unknown_part(batch, PART)
    # R-PUB-1: during publicity only the upheld theory objections open a version (theory_objections).
    answering = theory_objections.upheld_open(db, batch.id) if batch.status != "filed" else []
    if not answering:
        refuse_once_published(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "theory_import")  # R-INST-2
    if db.exec(select(ScoreEntry.id).where(ScoreEntry.batch_id == batch.id, ScoreEntry.part == PART)).first():
        raise conflict(
            "theory_scored_by_panel",
            "理论科目由考评组评分，不能导入",
            "The theory part is scored by a panel here; it cannot also be imported.",
            "R-SCORE-2",
        )
    earlier = db.exec(select(TheoryImport).where(TheoryImport.batch_id == batch.id)).all()
    note = _reason(reason, any(t.state == "signed" for t in earlier) or bool(answering))
    if answering:
        assert note is not None
        note = theory_objections.named_reason(answering, note)
    content = _decode(data)
    if content is None:
        raise Refusal(
            "import_rejected",
            "文件编码无法识别（须为 UTF-8 或 GB18030）",
            "The file is neither UTF-8 nor GB18030.",
            None,
            detail={"errors": [_err(None, None, "encoding", "UTF-8 / GB18030")]},
        )
    by_ticket = {c.ticket_number: c for c in access.scored_candidates(db, batch.id)}
    report, errors = parse_rows(content, by_ticket)
    if errors:
        raise Refusal(
            "import_rejected",
            f"理论成绩导入被拒绝：{len(errors)}处错误，未导入任何成绩",
            f"Theory import rejected: {len(errors)} problem(s); nothing was imported.",
            None,
            detail={"errors": errors},
        )
    changes = changes_against_scores(db, batch.id, report)
    if answering:
        # Only the objectors' scores may change; anybody else's is refused whole (R-SCORE-3).
        changes = theory_objections.tag_changes(batch, changes, answering)
    superseded = []
    for t in earlier:
        if t.state == "draft":
            # The chief never signed it: it stays on record, and never becomes the scores.
            t.state = "superseded"
            db.add(t)
            superseded.append(t.id)
    scored = sum(1 for r in report if r["status"] == "scored")
    record = TheoryImport(
        batch_id=batch.id,
        filename=(filename or "")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        content=content,
        rows=len(report),
        scored=scored,
        absent=len(report) - scored,
        account_id=actor.account_id,
        at=now,
        version=max((t.version for t in earlier), default=0) + 1,
        reason=note,
        state="draft",
    )
    db.add(record)
    db.flush()
    for r in report:
        r["score"] = show(outcome(r)[1])
    audit.record(
        db,
        actor,
        "theory_scores.import",
        "theory_import",
        record.id,
        {
            "batch_id": batch.id,
            "version": record.version,
            "reason": note,
            "sha256": record.sha256,
            "rows": record.rows,
            "scored": scored,
            "absent": record.absent,
            "state": "draft",
            "superseded": superseded,
            "objections": [o.id for o in answering],
            "changes": changes,
        },
        now,
        batch.institution_id,
    )
    return {
        "import_id": record.id,
        "version": record.version,
        "state": record.state,
        "reason": note,
        "objections": [o.id for o in answering],
        "imported": len(report),
        "scored": scored,
        "absent": record.absent,
        "changes": changes,
        "report": [{k: r[k] for k in ("row", "ticket_number", "candidate_id", "status", "score")} for r in report],
    }


def outcome(row: dict[str, Any]) -> tuple[str, int | None]:
    """A report row as the part score it becomes: (status, tenths)."""
    if row["status"] == "scored":
        return "final", to_tenths(row["score"])
    return "absent", None


def changes_against_scores(db: Session, batch_id: int, report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each candidate whose theory score this version would change: before and after."""
    current = {
        ps.candidate_id: ps
        for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch_id, PartScore.part == PART)).all()
    }
    out = []
    for r in report:
        ps = current.get(r["candidate_id"])
        if ps is None or ps.status == "pending":
            continue
        status, tenths = outcome(r)
        if (ps.status, ps.score_tenths) != (status, tenths):
            out.append(
                {
                    "candidate_id": r["candidate_id"],
                    "ticket_number": r["ticket_number"],
                    "before": [ps.status, text(ps.score_tenths)],
                    "after": [status, text(tenths)],
                }
            )
    return out
