"""The centre's home (评价中心首页): reviews awaited and reports due, today's work first (issue #16).

R-CERT-1: the locked batches of the province's institutions awaiting the centre's review (or
returned to their office), oldest exam first — the rules set the centre no review deadline, so
the oldest wait longest. R-PUB-2: the batches whose certificates are issued, their data received
against due, the nearest reporting deadlines (30 working days from the issue date, on today's
calendar) and every report overdue, by institution and batch. Counted by the services behind
``/centre/reviews`` (``review.centre_list``) and ``/centre/reports`` (``centre_reports.dashboard``),
so the home and those pages never disagree; both scope to the centre's province through
``examday.access``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from examday.actor import Actor
from scoring import centre_reports
from scoring.services import review

SHOWN = 5  # the home lists the nearest few; the pages list every one


def centre_work(db: Session, actor: Actor, now: datetime) -> dict[str, Any]:
    rows = review.centre_list(db, actor, now, received=True)
    waiting = sorted((r for r in rows if r["state"] != "approved"), key=lambda r: (r["exam_date"], r["batch_id"]))
    issued = [r for r in rows if r["state"] == "approved" and r["report"] is not None]
    open_ = sorted(
        (r for r in issued if not r["report"]["received_at"]),
        key=lambda r: (r["report"]["reporting_deadline"], r["batch_id"]),
    )
    packages = centre_reports.dashboard(db, actor)
    late = [
        {"uscc": i["uscc"], "name": i["name"], **b} for i in packages for b in i["batches"] if b["on_time"] is False
    ]
    return {
        "awaiting": sum(1 for r in waiting if r["state"] == "awaiting"),
        "returned": sum(1 for r in waiting if r["state"] == "returned"),
        "waiting": waiting[:SHOWN],
        "due": len(issued),
        "received": len(issued) - len(open_),
        "overdue": [r for r in open_ if r["report"]["overdue"]],
        "upcoming": [r for r in open_ if not r["report"]["overdue"]][:SHOWN],
        "packages": {
            "reported": sum(i["reported"] for i in packages),
            "on_time": sum(i["on_time"] for i in packages),
            "late": late,
            "blocked": sum(i["blocked"] for i in packages),
        },
    }


class CentreWork:
    def centre_work(self, db: Session, actor: Actor, now: datetime) -> dict[str, Any]:
        return centre_work(db, actor, now)
