"""Offline records: when one synced from a kiosk that was cut off may still become attendance.

R-DAY-1, R-TIME-1: a kiosk account can send any ``scanned_at``; the record is believed
only where an offline kiosk could really have been. The judgement of the ticket and the ID
number itself is :func:`kiosk.rules.decide`'s; these rules come on top of it at the sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from examday.clock import CST, iso
from kiosk.rules import SITTING_PART, BatchFacts, CandidateFacts, Decision, SessionFacts, own_windows, refused, windows

# Two honest clocks disagree by seconds, not minutes: a scan time further ahead of the
# server's than this is refused, not judged at the server's now.
OFFLINE_CLOCK_SKEW = timedelta(minutes=2)


def offline_refusal(
    batch: BatchFacts,
    sessions: Sequence[SessionFacts],
    scanned_at: datetime,
    now: datetime,
    grace: timedelta | None = None,
    skew: timedelta = OFFLINE_CLOCK_SKEW,
    candidate: CandidateFacts | None = None,
) -> Decision | None:
    """Why an offline record may not become attendance, or None when the usual decision applies.

    A kiosk account can send any ``scanned_at``; the record is believed only where an
    offline kiosk could really have been: for a batch still being run (filed, not in
    publicity or locked), inside a session's entry window that has not closed longer ago
    than ``grace`` (None: the same China-time day as the session), not ahead of the server
    (R-DAY-1, R-TIME-1). A draft batch is left to ``decide`` (plan_not_filed).

    The windows are the candidate's own: theory and the skill sitting drawn for them
    (``own_windows``, R-SEAT-1), so a record of the 14:00 sitting runs its grace from that
    sitting's end, and another sitting's window is never theirs.
    """
    if batch.status not in ("filed", "draft"):
        return refused(
            "offline_batch_closed",
            "该批次已公示或已锁定，离线签到记录不再计入出勤。请到考务室",
            "This batch is in publicity or locked; an offline check-in no longer counts. Please go to the exam office.",
            batch_status=batch.status,
        )
    if scanned_at > now + skew:
        return refused(
            "scanned_in_future",
            "离线记录的扫描时间晚于服务器当前时间，请校准签到机时钟",
            "The offline record's scan time is later than the server's time; set the kiosk's clock.",
            scanned_at=iso(scanned_at),
            server_time=iso(now),
        )
    ws = windows(batch, sessions)
    if candidate is not None:
        ws = own_windows(ws, windows(batch, sessions, SITTING_PART), candidate)
    opened = [w for w in ws if w.opens_at <= scanned_at]
    if ws and not opened:
        return refused(
            "scanned_before_entry",
            "离线记录的扫描时间早于入场时间，不计入出勤",
            "The offline record was scanned before entry opened; it does not count.",
            scanned_at=iso(scanned_at),
            opens_at=iso(ws[0].opens_at),
        )
    if not opened:
        return None  # no session to check in for: decide says so
    ended = opened[-1].session.ends_at
    if grace is None:
        over = now.astimezone(CST).date() > ended.astimezone(CST).date()
    else:
        over = now > ended + grace
    if over:
        return refused(
            "offline_sync_too_late",
            "该场次已结束，离线签到记录上传过晚，不计入出勤。请到考务室",
            "The session is over and this offline record came too late to count. Please go to the exam office.",
            session_id=opened[-1].session.session_id,
            ended_at=iso(ended),
        )
    return None


def scored_refusal(decision: Decision, scored_parts: frozenset[str]) -> Decision | None:
    """An accepted offline record for a part already scored is kept, refused and admits nobody (R-DAY-1).

    The scores of that part rest on who sat it; a record synced after an examiner signed (or a
    theory score was imported, or an absence recorded) would change that past unseen."""
    if not decision.accepted or decision.session is None or decision.session.part not in scored_parts:
        return None
    return refused(
        "offline_candidate_scored",
        "该考生本场次科目已评分，离线签到记录不再计入出勤。请到考务室",
        "This candidate's part is already scored; the offline record no longer counts. Please go to the exam office.",
        session_id=decision.session.session_id,
        part=decision.session.part,
    )
