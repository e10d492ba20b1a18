"""The centre's dashboard of what its institutions reported (上报情况): R-PUB-2, R-SUP-1, R-DISC-1, issue #17.

On a centre's installation, per registered institution of the centre's province: the batches
reported, on time or late — received by the 30th working day after the certificates' issue date
on the centre's calendar as it is now (R-PUB-2, R-CAL) — the packages refused and why, the
batches blocked (their last package refused, none accepted since), the incidents of tier (b) and
(c) the packages report (R-DISC-1), the supervision reports filed late or not at all (R-SUP-1),
and the verification of each package. Read from what the centre received (``ReceivedReport``):
the centre's installation holds nothing else of the institutions.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from examday.access import can_act_as_centre_for
from examday.actor import Actor
from examday.clock import CST, iso
from examday.spreadsheets import xlsx_row
from scoring import access
from scoring.publicity import reporting_deadline
from scoring.report_models import ReceivedReport, ReportKey


def _on_time(received: datetime, issue_date: str | None, calendar: Any) -> tuple[bool, str | None]:
    if not issue_date:
        return True, None  # reported before the certificates: the 30 days have not begun
    deadline = reporting_deadline(date.fromisoformat(issue_date), calendar)
    return received.astimezone(CST).date() <= deadline, deadline.isoformat()


def _late_supervision(exam_day: dict[str, Any]) -> bool:
    filed, due = exam_day.get("supervision_filed_at"), exam_day.get("supervision_due")
    if not due:
        return False
    if not filed:
        return True
    return datetime.fromisoformat(filed).astimezone(CST).date().isoformat() > due


def dashboard(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """One row per registered institution the actor is the centre of, with its batches."""
    calendar = access.working_calendar(db)
    institutions: dict[str, dict[str, Any]] = {}
    for key in db.exec(select(ReportKey).order_by(col(ReportKey.id))).all():
        if key.uscc in institutions or not can_act_as_centre_for(actor, key.province):
            continue
        institutions[key.uscc] = {
            "uscc": key.uscc,
            "name": key.name,
            "province": key.province,
            "batches": {},
            "refused": [],
        }
    rows = db.exec(select(ReceivedReport).order_by(col(ReceivedReport.id))).all()
    for r in rows:
        inst = institutions.get(r.uscc)
        if inst is None:
            continue
        if r.status == "refused":
            inst["refused"].append({"batch_ref": r.batch_ref, "code": r.code, "at": iso(r.received_at)})
        if r.batch_ref is None:
            continue
        b = inst["batches"].setdefault(
            r.batch_ref,
            {"batch_ref": r.batch_ref, "accepted_at": None, "last": None, "on_time": None, "deadline": None},
        )
        b["last"] = {"status": r.status, "code": r.code, "at": iso(r.received_at), "sha256": r.sha256}
        if r.status == "accepted" and b["accepted_at"] is None:
            manifest = json.loads(r.manifest or "{}")
            batch = manifest.get("batch") or {}
            exam_day = manifest.get("exam_day") or {}
            on_time, deadline = _on_time(r.received_at, r.issue_date, calendar)
            b.update(
                accepted_at=iso(r.received_at),
                on_time=on_time,
                deadline=deadline,
                occupation=f"{batch.get('occupation_code', '')} {batch.get('occupation_name', '')}".strip(),
                level=batch.get("level"),
                exam_date=batch.get("exam_date"),
                candidates=(manifest.get("counts") or {}).get("candidates"),
                incidents=exam_day.get("incidents") or {"b": 0, "c": 0},
                late_supervision=_late_supervision(exam_day),
            )
    out = []
    for inst in institutions.values():
        batches = sorted(inst["batches"].values(), key=lambda b: b["batch_ref"])
        accepted = [b for b in batches if b["accepted_at"]]
        inst.update(
            batches=batches,
            reported=len(accepted),
            on_time=sum(1 for b in accepted if b["on_time"]),
            late=sum(1 for b in accepted if b["on_time"] is False),
            blocked=sum(1 for b in batches if not b["accepted_at"] and b["last"]["status"] == "refused"),
            incidents_b=sum(b["incidents"]["b"] for b in accepted),
            incidents_c=sum(b["incidents"]["c"] for b in accepted),
            late_supervision=sum(1 for b in accepted if b["late_supervision"]),
        )
        out.append(inst)
    return out


HEADER = [
    "统一社会信用代码 USCC",
    "机构 institution",
    "已上报批次 reported",
    "按期 on time",
    "逾期 late",
    "拒收数据包 refused",
    "受阻批次 blocked",
    "(b)类事件 tier b",
    "(c)类事件 tier c",
    "督导报告逾期 late supervision",
]


def dashboard_xlsx(db: Session, actor: Actor, now: datetime) -> bytes:
    rows = dashboard(db, actor)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("上报情况")
    ws.append(xlsx_row(ws, [f"评价中心上报情况 reports received · {now.astimezone(CST):%Y-%m-%d %H:%M} · R-PUB-2"]))
    ws.append(xlsx_row(ws, HEADER))
    for i in rows:
        ws.append(
            xlsx_row(
                ws,
                [
                    i["uscc"],
                    i["name"],
                    i["reported"],
                    i["on_time"],
                    i["late"],
                    len(i["refused"]),
                    i["blocked"],
                    i["incidents_b"],
                    i["incidents_c"],
                    i["late_supervision"],
                ],
            )
        )
    detail = wb.create_sheet("批次 batches")
    detail.append(
        xlsx_row(
            detail,
            ["USCC", "批次 batch", "职业 occupation", "等级 level", "考试日期 exam", "接收 received", "截止 deadline"]
            + ["按期 on time", "最近核验 last verification", "原因 code"],
        )
    )
    for i in rows:
        for b in i["batches"]:
            detail.append(
                xlsx_row(
                    detail,
                    [
                        i["uscc"],
                        b["batch_ref"],
                        b.get("occupation", ""),
                        b.get("level") or "",
                        b.get("exam_date") or "",
                        b["accepted_at"] or "",
                        b["deadline"] or "",
                        "" if b["on_time"] is None else ("按期" if b["on_time"] else "逾期"),
                        b["last"]["status"],
                        b["last"]["code"] or "",
                    ],
                )
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
