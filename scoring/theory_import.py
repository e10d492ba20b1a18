"""Import theory scores from the exam system (理论成绩导入): ``ticket_number,score``.

All rows or none: every problem is reported with its row and column, and a
file with any problem imports nothing (422 ``import_rejected``, the shape of
the candidate import). Every candidate of the batch must be in the file once;
an empty score, ``absent`` or ``缺考`` marks the candidate absent — not a zero
(R-SCORE-3: a part is out of 100; absence is not a score). The file is kept
with the import record (R-SCORE-2: a full trace). Re-importing replaces the
theory scores until the scores are published.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from examday import audit
from examday.actor import Actor
from examday.errors import Refusal, conflict
from examday.plans.models import Candidate
from examday.spreadsheets import read_csv
from scoring import access
from scoring.models import PartScore, ScoreEntry, TheoryImport
from scoring.points import show, text, to_tenths
from scoring.rubric import PART_MAX, has_one_decimal_at_most, to_points

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


def import_theory(
    db: Session, actor: Actor, now: datetime, batch_id: int, filename: str, data: bytes
) -> dict[str, Any]:
    batch = access.batch_for_admin(db, actor, batch_id)
    assert batch.id is not None
    access.refuse_unless_filed(batch)
    access.refuse_unknown_part(batch, PART)
    if batch.status != "filed":
        raise conflict(
            "scores_published",
            "成绩已公示，理论成绩不能再导入",
            "Scores are published; theory scores can no longer be imported.",
            "R-PUB-1",
        )
    if db.exec(select(ScoreEntry.id).where(ScoreEntry.batch_id == batch.id, ScoreEntry.part == PART)).first():
        raise conflict(
            "theory_scored_by_panel",
            "理论科目由考评组评分，不能导入",
            "The theory part is scored by a panel here; it cannot also be imported.",
            "R-SCORE-2",
        )
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
    )
    db.add(record)
    db.flush()
    changed = []
    existing = {
        ps.candidate_id: ps
        for ps in db.exec(select(PartScore).where(PartScore.batch_id == batch.id, PartScore.part == PART)).all()
    }
    for r in report:
        ps = existing.get(r["candidate_id"]) or PartScore(
            batch_id=batch.id, candidate_id=r["candidate_id"], part=PART, status="pending", updated_at=now
        )
        tenths = to_tenths(r["score"]) if r["status"] == "scored" else None
        status = "final" if r["status"] == "scored" else "absent"
        if ps.status != "pending" and (ps.status, ps.score_tenths) != (status, tenths):
            changed.append(
                {
                    "candidate_id": ps.candidate_id,
                    "before": [ps.status, text(ps.score_tenths)],
                    "after": [status, text(tenths)],
                }
            )
        ps.status, ps.score_tenths, ps.method, ps.source = status, tenths, "import", "import"
        ps.theory_import_id, ps.updated_at = record.id, now
        db.add(ps)
        r["score"] = show(tenths)
    db.flush()
    audit.record(
        db,
        actor,
        "theory_scores.import",
        "theory_import",
        record.id,
        {
            "batch_id": batch.id,
            "sha256": record.sha256,
            "rows": record.rows,
            "scored": scored,
            "absent": record.absent,
            "changed": changed,
        },
        now,
        batch.institution_id,
    )
    return {
        "import_id": record.id,
        "imported": len(report),
        "scored": scored,
        "absent": record.absent,
        "report": [{k: r[k] for k in ("row", "ticket_number", "candidate_id", "status", "score")} for r in report],
    }
