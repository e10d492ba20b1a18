"""The exam office's view of a batch on the exam day (考试当天): where each candidate stands in
each part — 已报名 (expected), 已签到 (admitted, with the time), 缺考 (the entry window closed
with no admission) or an incident the exam-room record holds (issue #16).

Read through the core's ports only: who was admitted from :mod:`examday.plans.attendance`
(check-in's own record, R-ID-1), incidents from :mod:`examday.plans.incidents` (R-DISC-1). The
entry window is the batch's own (R-TIME-1: ``entry_close_minutes`` from the institution's timing
profile, kept with the filed plan). A skill candidate is expected at the sitting drawn for them
(R-SEAT-1, ``Seat.sitting``); before the draw, at any of the part's sittings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from examday.plans import attendance, incidents
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, ExamSession, Seat
from examday.rows import row_id


def candidate_day(
    db: Session, batch: Batch, candidate_ids: list[int], now: datetime
) -> dict[int, list[dict[str, Any]]]:
    """For each candidate, one entry per part of the batch, in exam order:
    ``{"part", "state": registered|checked_in|absent, "at", "late", "incidents": [tier, …]}``."""
    bid = row_id(batch)
    sessions = list(
        db.exec(
            select(ExamSession)
            .where(ExamSession.batch_id == bid)
            .order_by(col(ExamSession.starts_at), col(ExamSession.id))
        ).all()
    )
    close = timedelta(minutes=BatchConfig.from_json(batch.config).entry_close_minutes)
    by_part: dict[str, list[ExamSession]] = defaultdict(list)
    for s in sessions:
        by_part[s.part].append(s)
    sitting = dict(
        db.exec(select(Seat.candidate_id, Seat.sitting).where(Seat.batch_id == bid, Seat.part == "skill")).all()
    )
    admitted: dict[tuple[int, str], attendance.Admitted] = {}
    for s in sessions:
        for a in attendance.admitted(db, row_id(s)):
            admitted.setdefault((a.candidate_id, s.part), a)
    tiers: dict[tuple[int, str], list[str]] = defaultdict(list)
    for inc in incidents.incidents(db, [bid]):
        tiers[(inc.candidate_id, inc.part)].append(inc.tier)
    out: dict[int, list[dict[str, Any]]] = {}
    for cid in candidate_ids:
        rows = []
        for part in batch.part_list():
            mine = by_part.get(part, [])
            if part == "skill" and sitting.get(cid):
                mine = [s for s in mine if s.id == sitting[cid]] or mine
            seen = admitted.get((cid, part))
            if seen is not None:
                state, at, late = "checked_in", seen.at, seen.late
            elif mine and all(now >= s.starts_at + close for s in mine):
                state, at, late = "absent", None, False
            else:
                state, at, late = "registered", None, False
            rows.append({"part": part, "state": state, "at": at, "late": late, "incidents": tiers.get((cid, part), [])})
        out[cid] = rows
    return out


def tally(days: dict[int, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Per part, how many candidates are in each state (the head of the exam-day table)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rows in days.values():
        for r in rows:
            counts[r["part"]][r["state"]] += 1
            if r["incidents"]:
                counts[r["part"]]["incident"] += 1
    return {p: dict(c) for p, c in counts.items()}
