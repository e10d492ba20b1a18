"""Check-in decision (签到核验): is this person let in, and where do they go?

Rules: R-DAY-1 (the admission ticket and the ID number together, for the right
institution, day and session; every refusal has its reason), R-ID-1 (the ID
number is a valid resident ID number and is the one on the ticket), R-TIME-1
(entry opens 30 minutes before the start and closes 30 minutes after it, or
the values the plan was filed with). R-SEAT-1 (issue #15): a candidate drawn a
skill sitting also checks in at that sitting, and only there (``wrong_sitting``,
with their sitting's time); the answer sends them to the workstation drawn.

Pure functions over plain facts: the server (``kiosk/services/checkin.py``) and an
offline kiosk (``kiosk/offline.py``) load the facts their own way and reach the
same decision here. Time is an argument; nothing here reads a clock.

The checks run in the order the issue lists them, so a candidate hears about
the most basic problem first: the ticket (signature, revocation), the
institution, the day, the session window, the ID number (valid, then the
ticket's), the candidate's standing, and last whether they are already in.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from examday.clock import CST, iso
from examday.errors import Refusal
from examday.identity import mask_id_number, validate_id_number
from examday.ticket_token import TicketClaims, id_digest, id_matches, verify

DEFAULT_ENTRY_OPEN_MINUTES = 30
DEFAULT_ENTRY_CLOSE_MINUTES = 30
CHECKIN_PART = "theory"  # the kiosk seats people in theory rooms (R-DAY-2)
# A candidate drawn a skill sitting (issue #15) also checks in there: that sitting only.
SITTING_PART = "skill"

# Every code the check-in can answer with, its rule and HTTP status (CONTRACT.md).
CODES: dict[str, tuple[str, int]] = {
    "invalid_ticket": ("R-DAY-1", 422),
    "revoked_ticket": ("R-DAY-1", 422),
    "wrong_institution": ("R-DAY-1", 422),
    "wrong_day": ("R-DAY-1", 422),
    "not_open_yet": ("R-TIME-1", 422),
    "too_late": ("R-TIME-1", 422),
    "invalid_id_number": ("R-ID-1", 422),
    "id_mismatch": ("R-ID-1", 422),
    "candidate_withdrawn": ("R-DAY-1", 422),
    "already_checked_in": ("R-DAY-1", 409),
    # Not in the contract's list: a skill candidate at another sitting's entry (issue #15).
    "wrong_sitting": ("R-SEAT-1", 422),
    # Not in the contract's list: a plan that is not (or no longer) filed is not run (R-PLAN-1),
    # and a synced record the offline kiosk itself had refused.
    "plan_not_filed": ("R-PLAN-1", 422),
    "not_admitted_offline": ("R-DAY-1", 422),
    # An offline record the server will not turn into attendance (issue #14: backdated syncs).
    "offline_batch_closed": ("R-DAY-1", 422),
    "offline_sync_too_late": ("R-DAY-1", 422),
    "scanned_in_future": ("R-TIME-1", 422),
    "scanned_before_entry": ("R-TIME-1", 422),
    "offline_candidate_scored": ("R-DAY-1", 422),
}


# Is this (valid, normalised) ID number the candidate's? The offline kiosk's check against its
# roster's hash; the server passes the institution's digest key instead (bytes).
IdCheck = Callable[[str], bool]


@dataclass(frozen=True)
class Presented:
    """What was shown at the door: a verified ticket token, or a ticket number the desk typed."""

    ticket_number: str
    batch_id: int
    exam_date: date | None = None  # None when typed: only the batch's date then counts
    id_digest: str | None = None  # the signed digest on the ticket; None when typed

    @classmethod
    def from_claims(cls, claims: TicketClaims) -> Presented:
        return cls(claims.ticket_number, claims.batch_id, claims.exam_date, claims.id_digest)


@dataclass(frozen=True)
class BatchFacts:
    batch_id: int
    institution_id: int
    exam_date: date
    entry_open_minutes: int = DEFAULT_ENTRY_OPEN_MINUTES
    entry_close_minutes: int = DEFAULT_ENTRY_CLOSE_MINUTES
    status: str = "filed"  # draft | filed | publicity | locked


@dataclass(frozen=True)
class SessionFacts:
    session_id: int
    part: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Window:
    session: SessionFacts
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class CandidateFacts:
    candidate_id: int
    name: str
    ticket_number: str
    id_digest: str  # ticket_token.id_digest of the number on the register, same salt as the ticket
    status: str = "registered"  # registered | withdrawn
    eligibility: str = "eligible"
    room_code: str | None = None
    room_id: int | None = None
    seat_no: int | None = None
    masked_id: str = ""
    # The skill sitting (session id) and workstation drawn for the candidate (R-SEAT-1); None: not drawn.
    sitting: int | None = None
    station_room_code: str | None = None
    station_room_id: int | None = None
    station_no: int | None = None
    room_name: str | None = None  # the theory room's, or the skill room's once sent to a station
    station_room_name: str | None = None


@dataclass(frozen=True)
class PriorCheckIn:
    """The accepted check-in already on record for a candidate and session."""

    at: datetime
    kiosk: str
    checkin_id: int | None = None


@dataclass(frozen=True)
class Decision:
    accepted: bool
    code: str | None = None
    rule: str | None = None
    message: str = ""
    message_en: str = ""
    status: int = 200
    detail: dict[str, Any] = field(default_factory=dict)
    session: SessionFacts | None = None
    candidate: CandidateFacts | None = None
    late: bool = False
    prior: PriorCheckIn | None = None

    def body(self) -> dict[str, Any]:
        """The refusal body in the contract's shape (an accepted answer is built by the caller)."""
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "rule": self.rule,
            "detail": dict(self.detail),
        }


def refused(code: str, message: str, message_en: str, **detail: Any) -> Decision:
    rule, status = CODES[code]
    return Decision(False, code, rule, message, message_en, status, detail)


def from_refusal(r: Refusal) -> Decision:
    return Decision(False, r.code, r.rule, r.message, r.message_en, r.status, dict(r.detail))


def entry_minutes(config: Mapping[str, Any] | None) -> tuple[int, int]:
    """R-TIME-1 values the plan was filed with, defaulting to 30 and 30."""
    config = config or {}
    opens = config.get("entry_open_minutes", DEFAULT_ENTRY_OPEN_MINUTES)
    closes = config.get("entry_close_minutes", DEFAULT_ENTRY_CLOSE_MINUTES)
    return int(opens), int(closes)


def windows(batch: BatchFacts, sessions: Sequence[SessionFacts], part: str = CHECKIN_PART) -> list[Window]:
    """Entry windows of the batch's check-in sessions on its exam day, earliest first (R-TIME-1)."""
    out = []
    for s in sessions:
        if s.part != part or s.starts_at.astimezone(CST).date() != batch.exam_date:
            continue
        out.append(
            Window(
                s,
                s.starts_at - timedelta(minutes=batch.entry_open_minutes),
                s.starts_at + timedelta(minutes=batch.entry_close_minutes),
            )
        )
    return sorted(out, key=lambda w: w.opens_at)


def pick_window(ws: Sequence[Window], now: datetime) -> Window | Decision:
    """The session whose entry window holds ``now`` (both ends included), or why none does."""
    for w in ws:
        # R-TIME-1: "no entry later than 30 minutes after the start" lets in at exactly +30.
        if w.opens_at <= now <= w.closes_at:
            return w
    upcoming = [w for w in ws if w.opens_at > now]
    if upcoming:
        w = upcoming[0]
        hhmm = w.opens_at.astimezone(CST).strftime("%H:%M")
        return refused(
            "not_open_yet",
            f"入场时间未到：{hhmm} 开始入场，请在候考室等候",
            f"Entry has not opened yet: it opens at {hhmm}. Please wait in the waiting room.",
            opens_at=iso(w.opens_at),
            session_id=w.session.session_id,
        )
    w = ws[-1]
    hhmm = w.closes_at.astimezone(CST).strftime("%H:%M")
    return refused(
        "too_late",
        f"已过入场截止时间（{hhmm}），不能入场。请到考务室说明情况",
        f"Entry closed at {hhmm}; you cannot enter. Please go to the exam office.",
        closed_at=iso(w.closes_at),
        session_id=w.session.session_id,
    )


def check_ticket(
    text: str,
    public_keys: Mapping[str, str],
    revoked_kids: set[str] | frozenset[str] = frozenset(),
    revoked_token_ids: set[str] | frozenset[str] = frozenset(),
) -> TicketClaims | Decision:
    """Signature and revocation of a scanned code (R-DAY-1), as claims or a refusal."""
    try:
        return verify(text, public_keys, revoked_kids, revoked_token_ids)
    except Refusal as r:
        return from_refusal(r)


def decide(
    presented: Presented,
    batch: BatchFacts | None,
    sessions: Sequence[SessionFacts],
    candidate: CandidateFacts | None,
    typed_id: str,
    salt: bytes | IdCheck,
    now: datetime,
    kiosk_institution_id: int | None,
    prior: Mapping[int, PriorCheckIn] | None = None,
) -> Decision:
    """Accept or refuse one check-in attempt at time ``now``.

    ``salt`` is the institution's digest key, checked against the ticket's and the
    register's digests (the server), or an :data:`IdCheck` (the offline kiosk, whose
    roster has a hash per candidate and no key). ``kiosk_institution_id`` None means an installation administrator at the
    desk, who may check in for any institution. ``prior`` maps a session id to
    the accepted check-in already on record for this candidate.
    """
    if batch is None or batch.batch_id != presented.batch_id:
        return refused(
            "invalid_ticket",
            "准考证无效：找不到对应的认定批次，请到考务室",
            "This admission ticket names no batch we know. Please go to the exam office.",
            reason="unknown_batch",
        )
    if candidate is None or candidate.ticket_number != presented.ticket_number:
        return refused(
            "invalid_ticket",
            "准考证号不在本批次考生名单中，请到考务室",
            "This ticket number is not on the batch's list of candidates. Please go to the exam office.",
            reason="unknown_candidate",
        )
    # R-DAY-1: a kiosk only lets people into its own institution's exams.
    if kiosk_institution_id is not None and batch.institution_id != kiosk_institution_id:
        return refused(
            "wrong_institution",
            "此准考证不属于本评价机构的考试，请核对考试地点",
            "This ticket is for another institution's exam. Please check where your exam is.",
        )
    if batch.status == "draft":  # R-PLAN-1: never filed, or withdrawn to be changed
        return refused(
            "plan_not_filed",
            "该批次认定计划未备案或已撤回，暂不能签到。请到考务室",
            "This batch's exam plan is not filed (or was withdrawn); check-in is closed. Please go to the exam office.",
        )
    today = now.astimezone(CST).date()
    # R-DAY-1: the right day, by the ticket and by the plan (a rescheduled batch makes old tickets stale).
    if batch.exam_date != today or (presented.exam_date is not None and presented.exam_date != batch.exam_date):
        when = batch.exam_date.isoformat()
        return refused(
            "wrong_day",
            f"考试日期不是今天，本准考证的考试日期为 {when}",
            f"Your exam is not today; it is on {when}.",
            exam_date=when,
        )
    ws, sittings = windows(batch, sessions), windows(batch, sessions, SITTING_PART)
    ws = own_windows(ws, sittings, candidate)
    if not ws:
        return refused(
            "wrong_day",
            "今天没有需要签到的场次，请到考务室",
            "There is no session to check in for today. Please go to the exam office.",
            exam_date=batch.exam_date.isoformat(),
            reason="no_session",
        )
    elsewhere = wrong_sitting(sittings, ws, candidate, now)
    if elsewhere is not None:
        return elsewhere
    window = pick_window(ws, now)  # R-TIME-1
    if isinstance(window, Decision):
        return window
    # R-ID-1: a valid resident ID number first, then the one on the ticket and the register.
    try:
        number = validate_id_number(typed_id, today)
    except Refusal as r:
        return from_refusal(r)
    if callable(salt):
        matched = salt(number)
    else:
        typed_digest = id_digest(number, salt)
        on_ticket = presented.id_digest is None or id_matches(_claims_for_match(presented), typed_digest)
        matched = on_ticket and hmac.compare_digest(candidate.id_digest.lower(), typed_digest)
    if not matched:
        return refused(
            "id_mismatch",
            "身份证号与准考证不符，请核对后重新输入；仍不符请到考务室",
            "The ID number does not match the ticket. Check it and try again, or go to the exam office.",
            masked_id=mask_id_number(number),
        )
    if candidate.status == "withdrawn" or candidate.eligibility == "ineligible":
        reason = "withdrawn" if candidate.status == "withdrawn" else "ineligible"
        return refused(
            "candidate_withdrawn",
            "该考生已退考或未通过资格审核，不能入场。请到考务室",
            "This candidate has withdrawn or is not eligible and may not enter. Please go to the exam office.",
            reason=reason,
        )
    earlier = (prior or {}).get(window.session.session_id)
    if earlier is not None:
        detail: dict[str, Any] = {"at": iso(earlier.at), "kiosk": earlier.kiosk}
        if candidate.room_code:
            detail.update(room_code=candidate.room_code, seat=candidate.seat_no)
        hhmm = earlier.at.astimezone(CST).strftime("%H:%M")
        d = refused(
            "already_checked_in",
            f"已于 {hhmm} 签到，不能重复签到。如有疑问请找监考员",
            f"Already checked in at {hhmm}; a second check-in is not allowed. Ask a proctor if this is wrong.",
            **detail,
        )
        return Decision(**{**d.__dict__, "session": window.session, "candidate": candidate, "prior": earlier})
    if window.session.part == SITTING_PART and candidate.station_room_code is not None:
        # Sent to the workstation drawn for them, not to their theory seat.
        candidate = replace(
            candidate,
            room_code=candidate.station_room_code,
            room_id=candidate.station_room_id,
            room_name=candidate.station_room_name,
            seat_no=candidate.station_no,
        )
    return Decision(True, session=window.session, candidate=candidate, late=now > window.session.starts_at)


def own_windows(ws: Sequence[Window], sittings: Sequence[Window], candidate: CandidateFacts) -> list[Window]:
    """The windows a candidate may enter: theory, and their own skill sitting once one is drawn (R-SEAT-1)."""
    mine = [w for w in sittings if w.session.session_id == candidate.sitting]
    return sorted([*ws, *mine], key=lambda w: w.opens_at)


def wrong_sitting(
    sittings: Sequence[Window], own: Sequence[Window], candidate: CandidateFacts, now: datetime
) -> Decision | None:
    """A skill candidate at another sitting's entry is refused and told their own sitting's time."""
    if candidate.sitting is None or any(w.opens_at <= now <= w.closes_at for w in own):
        return None
    other = next((w for w in sittings if w.opens_at <= now <= w.closes_at), None)
    mine = next((w for w in own if w.session.session_id == candidate.sitting), None)
    if other is None or mine is None:
        return None
    start = mine.session.starts_at.astimezone(CST)
    opens = mine.opens_at.astimezone(CST).strftime("%H:%M")
    return refused(
        "wrong_sitting",
        f"您不是本场次的考生：您的技能考核场次为 {start:%H:%M} 开始（{opens} 起入场）",
        f"This is not your sitting: your skill sitting starts at {start:%H:%M} (entry from {opens}).",
        session_id=mine.session.session_id,
        starts_at=iso(mine.session.starts_at),
        opens_at=iso(mine.opens_at),
        room_code=candidate.station_room_code,
        station=candidate.station_no,
    )


def _claims_for_match(p: Presented) -> TicketClaims:
    return TicketClaims(p.ticket_number, p.batch_id, p.exam_date or date.min, p.id_digest or "", "")
