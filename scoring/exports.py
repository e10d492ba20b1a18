"""The score summary (成绩汇总表) as CSV and XLSX: R-PUB-2, R-SCORE-3, R-PRIV-1.

One row per candidate: ticket number, name, ID number (in full for the
admin, masked for the centre and the supervisor), each part's score (缺考
for an absence, 无效 / 作弊 where an incident decided it, R-DISC-1), the result and
its reason. Once the batch is locked, the seal (digest,
key id, signature, lock time) is printed under the table; before that the
file says it is not sealed. CSV is UTF-8 with a BOM so that Excel opens it in
Chinese. Every cell goes through examday.spreadsheets, so a name such as
``=HYPERLINK(...)`` is text in both files, never a formula.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session

from examday.actor import Actor
from examday.errors import forbidden
from examday.identity import mask_id_number
from examday.levels import level_label
from examday.plans.models import Batch
from examday.spreadsheets import csv_row, xlsx_cell, xlsx_row
from scoring import access
from scoring.points import text
from scoring.results import batch_results
from scoring.services import theory_versions
from scoring.services.lock import seal_body, seal_of

PART_NAMES = {"theory": "理论知识", "skill": "技能操作", "review": "综合评审"}
RESULT_NAMES = {
    "pass": "合格",
    "fail": "不合格",
    "absent": "缺考",
    "incomplete": "未完成",
    "void": "成绩无效",  # R-DISC-1 tiers (a), (c)
    "cheating": "按作弊处理",  # R-DISC-1 tier (b)
}
PART_STATUS_NAMES = {"absent": "缺考", "void": "无效", "cheating": "作弊"}
EXPORT_ROLES = ("admin", "centre", "supervisor")


def export_batch(db: Session, actor: Actor, batch_id: int) -> Batch:
    batch = access.batch_for_read(db, actor, batch_id)
    if actor.role not in EXPORT_ROLES:
        raise forbidden("Only the exam office, the supervisor and the centre export results.")
    return batch


def summary(db: Session, actor: Actor, batch: Batch) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """(header, rows, footer lines) of the score summary."""
    assert batch.id is not None
    parts = batch.part_list()
    header = [
        "序号",
        "准考证号",
        "姓名",
        "身份证号",
        *[f"{PART_NAMES.get(p, p)}成绩 {p}" for p in parts],
        "结果 result",
        "原因 reason",
    ]
    rows = []
    results = batch_results(db, batch)
    for n, r in enumerate(results, start=1):
        c = r.candidate
        cells = [str(n), c.ticket_number, c.name, c.id_number if actor.role == "admin" else mask_id_number(c.id_number)]
        for p in parts:
            status = r.status(p)
            cells.append(PART_STATUS_NAMES.get(status) or (text(r.score_tenths(p)) if status == "final" else ""))
        cells.append(RESULT_NAMES.get(r.result, r.result))
        reason = r.reason()
        cells.append(f"{reason['message']} {reason['message_en']}" if reason else "")
        rows.append(cells)
    # R-SCORE-3: a theory score corrected before publicity says so, with the version and why.
    by_id = {r.candidate.id: r.candidate.ticket_number for r in results}
    corrected = [
        ["更正 correction", by_id.get(cid, str(cid)), f"{PART_NAMES.get('theory', 'theory')} v{k['version']}"]
        + [f"{_shown(k['before'])} → {_shown(k['after'])}", k["reason"] or ""]
        for cid, ks in theory_versions.corrections(db, batch.id).items()
        for k in ks
    ]
    seal = seal_of(db, batch.id)
    title = [
        f"成绩汇总表 score summary · 批次 {batch.id} · {batch.occupation_code} {batch.occupation_name} · "
        f"{level_label(batch.level)} · {batch.exam_date.isoformat()} · 合格线 60"
    ]
    if seal is None:
        footer = [["未锁定封存 not locked: draft, scores may still change"]]
    else:
        s = seal_body(seal)
        footer = [
            ["封存 seal", s["version"]],
            ["锁定时间 locked_at", s["locked_at"]],
            ["摘要 digest (sha256)", s["digest"]],
            ["密钥 kid", s["kid"]],
            ["签名 signature (Ed25519)", s["signature"]],
        ]
    return header, rows, [title, *corrected, *footer]


def _shown(value: list[str]) -> str:
    status, score = value
    return score or PART_STATUS_NAMES.get(status, status)


def results_csv(db: Session, actor: Actor, batch_id: int) -> bytes:
    batch = export_batch(db, actor, batch_id)
    header, rows, notes = summary(db, actor, batch)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    writer.writerows(csv_row(r) for r in rows)
    writer.writerow([])
    writer.writerows(csv_row(r) for r in notes)
    return "\ufeff".encode("utf-8") + out.getvalue().encode("utf-8")


def results_xlsx(db: Session, actor: Actor, batch_id: int) -> bytes:
    batch = export_batch(db, actor, batch_id)
    header, rows, notes = summary(db, actor, batch)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("成绩汇总表")
    for column, width in zip("ABCDEFGHIJ", (6, 14, 10, 20, 14, 14, 14, 10, 10, 10)):
        ws.column_dimensions[column].width = width
    ws.append(xlsx_row(ws, notes[0]))
    bold = Font(bold=True)
    ws.append([xlsx_cell(ws, v, font=bold) for v in header])
    first_part = 4
    last_part = first_part + len(batch.part_list())
    for cells in rows:
        # Ticket and ID numbers stay text (leading zeros, 18 digits); scores are numbers with one decimal.
        ws.append(
            [
                xlsx_cell(ws, float(v), number_format="0.0")
                if first_part <= i < last_part and v != "" and v not in PART_STATUS_NAMES.values()
                else xlsx_cell(ws, v)
                for i, v in enumerate(cells)
            ]
        )
    ws.append([])
    for line in notes[1:]:
        ws.append(xlsx_row(ws, line))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(batch: Batch, suffix: str) -> str:
    return f"batch-{batch.id}-results.{suffix}"


def disposition(name: str) -> dict[str, Any]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
