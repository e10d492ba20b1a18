"""Check-in at the door (入场签到): one attempt from a kiosk or the desk, and the offline sync.

Rules: R-DAY-1 (ticket and ID together; every attempt, accepted or refused, is
stored with its reason, kiosk and time), R-ID-1, R-TIME-1 (decided in
``kiosk/rules.py``), R-AUDIT-1 (each stored attempt is on the audit chain),
R-PRIV-1 (no ID number is stored with the attempt or logged).

Exactly one acceptance per candidate and session, even with two kiosks at the
same instant, comes from the unique key of ``Attendance``: the acceptance is
written in a SAVEPOINT; when another transaction got there first the insert
fails, the savepoint is rolled back, and the attempt is judged again against
the check-in now on record (``already_checked_in``). On SQLite the same
serialisation comes earlier, from ``BEGIN IMMEDIATE`` (and, within one
process, from ``gate``).

A kiosk nonce answers once: the same nonce again gets the stored answer and
stores nothing new. The unique key on (kiosk, nonce) decides it: a repeat is judged like any
attempt, its insert fails in the savepoint, and the answer on record is returned — no read
ahead of every check-in for the rare repeat (issue #18), and a race settled the same way.

Time: the server's clock decides. An offline record carries the kiosk's scan
time and the kiosk's clock offset (server minus kiosk, as the kiosk last learnt
it from the server's answers); the server corrects the one by the other, records
both, and judges the record at the corrected time, never later than its own now
(``clamped``). A kiosk account could otherwise backdate anyone into attendance,
so an offline record counts only where an offline kiosk could have been
(``rules_offline.offline_refusal``: a batch still being run, the session's entry window,
not over by more than the grace, not ahead of the server); anything else is
stored refused and flagged for the proctors, never turned into attendance.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday.actor import Actor
from examday.clock import CST
from examday.errors import Refusal
from examday.plans import scored
from examday.plans.models import Batch, Candidate
from examday.plans.tickets import read_ticket
from examday.registry import standing
from examday.rows import row_id
from kiosk import rules, rules_offline
from kiosk.models import CheckIn
from kiosk.services import facts as F
from kiosk.services.checkin_record import Ctx, Outcome, record
from kiosk.services.door import Attempt, check_nonce
from storage.blobs import BlobStore

# Refusals about the ticket itself or another institution's batch stand before any question of time.
_TICKET_CODES = frozenset({"invalid_ticket", "revoked_ticket", "wrong_institution"})


def check_in(
    db: Session,
    actor: Actor,
    now: datetime,
    secret_key: str,
    blobs: BlobStore,
    attempt: Attempt,
    offline: bool = False,
    offline_grace: timedelta | None = None,
    alone: bool = False,
) -> Outcome:
    """Judge one attempt, store it (and the acceptance), audit it; the caller commits.
    ``offline_grace``: how long after its session ends an offline record still counts
    (None: until the end of the session's China-time day). ``alone``: the attempt is all its
    transaction does (one online check-in), so it is stored without a savepoint; a repeat or a
    lost race then rolls the whole transaction back and the attempt is done again the careful
    way, in a savepoint (issue #18: two round trips less in the common case)."""
    if alone:
        try:
            return _check_in(db, actor, now, secret_key, blobs, attempt, offline, offline_grace, savepoint=False)
        except IntegrityError:
            db.rollback()  # nothing else was in it: the caller's token check only read
    return _check_in(db, actor, now, secret_key, blobs, attempt, offline, offline_grace, savepoint=True)


def _check_in(
    db: Session,
    actor: Actor,
    now: datetime,
    secret_key: str,
    blobs: BlobStore,
    attempt: Attempt,
    offline: bool,
    offline_grace: timedelta | None,
    savepoint: bool,
) -> Outcome:
    nonce = check_nonce(attempt.kiosk_nonce)
    c = Ctx(db, actor, now, secret_key, blobs)
    scanned = attempt.scan_time
    judged_at = now if scanned is None else min(scanned, now)
    presented, facts, decision = _judge(c, attempt, judged_at)
    if facts.batch is not None and decision.code not in _TICKET_CODES:
        # R-INST-2: a suspended, revoked or expired filing runs no exam; the attempt is still stored.
        barred = standing.refusal_among(facts.filings, now, "checkin")
        decision = rules.from_refusal(barred) if barred is not None else decision
    if offline and facts.batch is not None and decision.code not in _TICKET_CODES:
        # R-DAY-1, R-TIME-1: a backdated or future-dated record is kept, refused, and admits nobody.
        late = rules_offline.offline_refusal(
            facts.batch, facts.sessions, scanned or now, now, offline_grace, candidate=facts.candidate
        )
        decision = late or decision
        if decision.accepted and decision.candidate is not None:
            scored_now = scored.scored_parts(db, decision.candidate.candidate_id)
            decision = rules_offline.scored_refusal(decision, scored_now) or decision
    if offline and attempt.offline_status == "refused" and decision.accepted:
        # The kiosk turned the candidate away; the record says so, and nobody is marked present.
        decision = rules.refused(
            "not_admitted_offline",
            "离线签到时未放行，请重新签到",
            "The kiosk did not let this candidate in while offline; check in again.",
        )
    if not savepoint:  # a conflict aborts the transaction: the caller rolls back and tries again
        return record(c, attempt, nonce, judged_at, presented, facts, decision, offline, savepoint=False)
    for retry in (False, True):
        try:
            return record(c, attempt, nonce, judged_at, presented, facts, decision, offline)
        except IntegrityError:
            # Another transaction won: this very nonce (a retry racing itself), or this candidate.
            stored = _by_nonce(db, actor, nonce)
            if stored is not None:
                return stored
            if retry or facts.candidate is None:
                raise
            assert presented is not None  # facts about a candidate come only from a presented ticket
            facts.prior = F.prior_checkins(db, facts.candidate.candidate_id)
            decision = rules.decide(
                presented,
                facts.batch,
                facts.sessions,
                facts.candidate,
                attempt.id_number,
                facts.salt,
                judged_at,
                actor.institution_id,
                facts.prior,
            )
    raise AssertionError("unreachable")


_BY_NONCE = select(CheckIn.http_status, CheckIn.response).where(
    CheckIn.kiosk_account_id == bindparam("kiosk"), CheckIn.kiosk_nonce == bindparam("nonce")
)


def _by_nonce(db: Session, actor: Actor, nonce: str) -> Outcome | None:
    row = db.connection().execute(_BY_NONCE, {"kiosk": actor.account_id, "nonce": nonce}).first()
    return Outcome(row[0], json.loads(row[1]), replay=True) if row else None


def _judge(c: Ctx, attempt: Attempt, at: datetime) -> tuple[rules.Presented | None, F.Facts, rules.Decision]:
    presented: rules.Presented | None = None
    if attempt.ticket:
        try:
            presented = rules.Presented.from_claims(read_ticket(c.db, attempt.ticket))
        except Refusal as r:  # invalid_ticket / revoked_ticket, R-DAY-1
            return None, F.Facts(), rules.from_refusal(r)
    elif attempt.candidate_id is not None:
        cand = c.db.get(Candidate, attempt.candidate_id)
        if cand is not None:
            presented = rules.Presented(cand.ticket_number, cand.batch_id)
    elif attempt.ticket_number:
        presented = _typed_ticket(c, attempt.ticket_number.strip(), attempt.batch_id, at)
    if presented is None:
        return (
            None,
            F.Facts(),
            rules.refused(
                "invalid_ticket",
                "找不到该准考证，请核对准考证号或按姓名查找",
                "No such admission ticket. Check the number or search by name.",
                reason="unknown_ticket_number",
            ),
        )
    facts = F.load(c.db, presented.batch_id, presented.ticket_number, c.secret_key)
    decision = rules.decide(
        presented,
        facts.batch,
        facts.sessions,
        facts.candidate,
        attempt.id_number,
        facts.salt,
        at,
        c.actor.institution_id,
        facts.prior,
    )
    return presented, facts, decision


def _typed_ticket(c: Ctx, number: str, batch_id: int | None, at: datetime) -> rules.Presented | None:
    """A ticket number typed at the desk: looked up in the caller's institution, today's batch first."""
    q = (
        select(Candidate, Batch)
        .join(Batch, col(Batch.id) == Candidate.batch_id)
        .where(Candidate.ticket_number == number)
    )
    if c.actor.institution_id is not None:
        q = q.where(Batch.institution_id == c.actor.institution_id)
    if batch_id is not None:
        q = q.where(Batch.id == batch_id)
    today = at.astimezone(CST).date()
    rows = sorted(c.db.exec(q).all(), key=lambda r: (r[1].exam_date != today, -row_id(r[1])))
    return rules.Presented(rows[0][0].ticket_number, rows[0][0].batch_id) if rows else None
