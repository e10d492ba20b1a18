"""Who sat which part (到考), read through :mod:`examday.plans.attendance`: R-ID-1, R-SCORE-1.

A part's score exists only for a candidate admitted to that part's session — an accepted
check-in, or a proctor's manual admission with a reason — and only once that session has
started: an examiner cannot sign work that has not been done (issue #15: at 11:32 a skill
part of 13:30 was signed). A candidate never admitted is absent (缺考) from the part, whatever
a file or an entry says. A part with no session at all is plan filing's concern (R-PLAN-2
refuses such a plan), so nothing is asked of it here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from examday.clock import iso
from examday.errors import Refusal
from examday.plans import attendance
from examday.plans.models import Batch, ExamSession


def entry_refusal(starts: Mapping[int, datetime], admitted: Collection[int], now: datetime) -> Refusal | None:
    """Whether a score may be entered for one candidate's part at ``now`` (pure).

    ``starts``: the part's sessions and when each starts; ``admitted``: the sessions the
    candidate was admitted to. The candidate's own sitting decides; without one, the part
    has not started while every sitting is still ahead, and afterwards they were not admitted.
    """
    if not starts:
        return None
    mine = [starts[s] for s in admitted if s in starts]
    if any(t <= now for t in mine):
        return None
    if mine or all(t > now for t in starts.values()):
        first = min(mine or list(starts.values()))
        return Refusal(
            "part_not_started",
            "该科目考试尚未开始，不能评分",
            "This part has not started yet; it cannot be scored.",
            "R-SCORE-1",
            409,
            {"starts_at": iso(first)},
        )
    return Refusal(
        "candidate_not_admitted",
        "该考生未入场参加本科目考试（缺考），不能评分",
        "The candidate was not admitted to this part's session (absent); it cannot be scored.",
        "R-ID-1",
        409,
    )


def part_starts(db: Session, batch_id: int) -> dict[str, dict[int, datetime]]:
    """Each part's sessions of the batch and when they start."""
    out: dict[str, dict[int, datetime]] = defaultdict(dict)
    rows = db.exec(select(ExamSession).where(ExamSession.batch_id == batch_id).order_by(col(ExamSession.id))).all()
    for s in rows:
        assert s.id is not None
        out[s.part][s.id] = s.starts_at
    return out


def admitted_sessions(db: Session, session_ids: Collection[int]) -> dict[int, set[int]]:
    """Candidate id -> the sessions (among these) they were admitted to."""
    out: dict[int, set[int]] = defaultdict(set)
    for sid in session_ids:
        for a in attendance.admitted(db, sid):
            out[a.candidate_id].add(sid)
    return out


def refuse_unless_sat(db: Session, batch: Batch, candidate_id: int, part: str, now: datetime) -> None:
    """Raise ``part_not_started`` or ``candidate_not_admitted`` unless the entry may be made."""
    assert batch.id is not None
    starts = part_starts(db, batch.id).get(part, {})
    admitted = set(attendance.sessions_of(db, candidate_id))  # one candidate's rows, not the session's
    refusal = entry_refusal(starts, admitted, now)
    if refusal is not None:
        raise refusal


def sat_parts(db: Session, batch: Batch) -> tuple[set[str], dict[int, set[str]]]:
    """The parts that have sessions, and per candidate the parts whose session they were admitted to."""
    assert batch.id is not None
    starts = part_starts(db, batch.id)
    part_of = {sid: part for part, sessions in starts.items() for sid in sessions}
    sat: dict[int, set[str]] = defaultdict(set)
    for cid, sessions in admitted_sessions(db, list(part_of)).items():
        sat[cid] = {part_of[s] for s in sessions}
    return set(starts), sat
