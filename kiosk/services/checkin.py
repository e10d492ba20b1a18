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
stores nothing new (the unique key on (kiosk, nonce) settles a race there too).

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

import base64
import binascii
import json
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import CST, iso
from examday.errors import Refusal
from examday.plans import scored
from examday.plans.models import Batch, Candidate
from examday.plans.tickets import read_ticket
from examday.registry import standing
from examday.rows import row_id, table_of
from kiosk import answer, rules, rules_offline
from kiosk.models import Attendance, CheckIn, OfflineConflict
from kiosk.services import facts as F
from storage.blobs import Blob, BlobStore, StoredFile

MAX_PHOTO_BYTES = 2 * 1024 * 1024


@dataclass
class Attempt:
    """One presentation at the door, as the kiosk or the desk sent it."""

    id_number: str
    kiosk_nonce: str
    ticket: str | None = None  # the QR text
    ticket_number: str | None = None  # typed at the desk
    candidate_id: int | None = None  # found by name at the desk
    batch_id: int | None = None  # narrows a typed ticket number
    photo: bytes | None = None
    scanned_at: datetime | None = None  # offline records only
    offline_status: str | None = None  # what the offline kiosk told the candidate
    photo_file: StoredFile | None = None  # the photo already written to the blob store
    clock_offset_ms: int | None = None  # offline: the server's clock minus the kiosk's, as the kiosk knew it

    @property
    def scan_time(self) -> datetime | None:
        """When the kiosk scanned, on the server's clock (R-TIME-1)."""
        if self.scanned_at is None:
            return None
        return self.scanned_at + timedelta(milliseconds=self.clock_offset_ms or 0)


def keep_photos(blobs: BlobStore, attempts: list[Attempt]) -> None:
    """Write the photos' files before the transaction: the fsync then holds up no other kiosk.
    The store is content-addressed, so a replayed or refused attempt leaves no second copy."""
    for a in attempts:
        if a.photo and a.photo_file is None:
            a.photo_file = blobs.put(a.photo, ".jpg")


@dataclass
class Outcome:
    http_status: int
    body: dict[str, Any]
    replay: bool = False
    events: list[tuple[int, str, str | None, dict[str, Any]]] = field(default_factory=list)


@dataclass
class _Ctx:
    db: Session
    actor: Actor
    now: datetime
    secret_key: str
    blobs: BlobStore


def decode_photo(text: str | None, strict: bool = True) -> bytes | None:
    """A base64 JPEG, or None; a broken one is refused online and dropped from a sync."""
    if not text:
        return None
    try:
        data = base64.b64decode(text.split(",", 1)[-1] if text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if data[:3] == b"\xff\xd8\xff" and len(data) <= MAX_PHOTO_BYTES:
        return data
    if not strict:
        return None
    raise Refusal(
        "invalid_photo",
        "现场照片无效：需为不超过2MB的JPEG图片（base64）",
        "The photo must be a base64 JPEG of at most 2 MB.",
        None,
        422,
    )


def check_nonce(nonce: str) -> str:
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 80:
        raise Refusal(
            "invalid_nonce",
            "缺少或无效的 kiosk_nonce（1–80 个字符）",
            "kiosk_nonce is missing or invalid (1-80 characters).",
            None,
            422,
        )
    return nonce


_GATES: dict[int, threading.Lock] = {}
_GATES_LOCK = threading.Lock()


def gate(engine: Engine):
    """On SQLite, check-in transactions of this process take turns at a Python lock.

    SQLite has one writer at a time anyway (``BEGIN IMMEDIATE``); a writer that
    finds it busy sleeps in growing steps (up to 100 ms) and can lose the race
    again and again, which at a busy door turned into seconds-long waits. A lock
    queues them instead. PostgreSQL needs no gate: the unique keys and row locks
    do the work across processes.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _GATES_LOCK:
        return _GATES.setdefault(id(engine), threading.Lock())


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
) -> Outcome:
    """Judge one attempt, store it (and the acceptance), audit it; the caller commits.
    ``offline_grace``: how long after its session ends an offline record still counts
    (None: until the end of the session's China-time day)."""
    nonce = check_nonce(attempt.kiosk_nonce)
    c = _Ctx(db, actor, now, secret_key, blobs)
    stored = _by_nonce(db, actor, nonce)
    if stored is not None:
        return stored
    scanned = attempt.scan_time
    judged_at = now if scanned is None else min(scanned, now)
    presented, facts, decision = _judge(c, attempt, judged_at)
    if facts.batch is not None and decision.code not in _TICKET_CODES:
        # R-INST-2: a suspended, revoked or expired filing runs no exam; the attempt is still stored.
        barred = standing.refusal_for(db, facts.batch.institution_id, now, "checkin")
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
    for retry in (False, True):
        try:
            return _record(c, attempt, nonce, judged_at, presented, facts, decision, offline)
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
    row = db.exec(_BY_NONCE, params={"kiosk": actor.account_id, "nonce": nonce}).first()
    return Outcome(row[0], json.loads(row[1]), replay=True) if row else None


def _judge(c: _Ctx, attempt: Attempt, at: datetime) -> tuple[rules.Presented | None, F.Facts, rules.Decision]:
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


def _typed_ticket(c: _Ctx, number: str, batch_id: int | None, at: datetime) -> rules.Presented | None:
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


def _store_photo(c: _Ctx, attempt: Attempt, facts: F.Facts) -> int | None:
    if not attempt.photo:
        return None
    stored = attempt.photo_file or c.blobs.put(attempt.photo, ".jpg")
    inst = facts.batch.institution_id if facts.batch is not None else c.actor.institution_id
    blob = Blob(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type="image/jpeg",
        retention_class="electronic_records",
        institution_id=inst,
        label="check-in photo",
        created_at=c.now,
    )
    c.db.add(blob)
    c.db.flush()
    return blob.id


_INSERT_CHECKIN = insert(table_of(CheckIn)).returning(table_of(CheckIn).c.id)
_INSERT_ATTENDANCE = insert(table_of(Attendance))


def _record(
    c: _Ctx,
    attempt: Attempt,
    nonce: str,
    judged_at: datetime,
    presented: rules.Presented | None,
    facts: F.Facts,
    d: rules.Decision,
    offline: bool,
) -> Outcome:
    """Store the attempt with the answer it gets (one INSERT), the acceptance, the audit entry.

    Plain INSERTs rather than ORM objects: nothing here is read back, and at the door the
    unit of work cost more than the database did."""
    own_batch = facts.batch if d.code != "wrong_institution" else None  # another institution's ids stay theirs
    own = own_batch is not None
    cand = (d.candidate or facts.candidate) if own else None
    body = accepted_body(c.now, facts, d) if d.accepted else d.body()
    scanned = attempt.scan_time
    clamped = offline and scanned is not None and scanned > c.now
    if clamped:  # judged at the server's now, not at the kiosk's future time
        (body if d.accepted else body["detail"])["clamped"] = True
    row: dict[str, Any] = dict(
        batch_id=own_batch.batch_id if own_batch is not None else None,
        session_id=d.session.session_id if d.session else None,
        candidate_id=cand.candidate_id if cand else None,
        ticket_number=presented.ticket_number if presented else None,
        kiosk_account_id=c.actor.account_id,
        kiosk_nonce=nonce,
        status="accepted" if d.accepted else "refused",
        code=d.code,
        rule=d.rule,
        at=c.now,
        scanned_at=scanned,
        offline=offline,
        via="sync" if offline else ("kiosk" if attempt.ticket else "desk"),
        room_id=cand.room_id if cand else None,
        seat_no=cand.seat_no if cand else None,
        late=d.late,
        http_status=d.status,
        response=json.dumps(body, ensure_ascii=False, default=str),
    )
    with c.db.begin_nested():  # a lost race takes the photo's row back too: a replay stores nothing
        conn = c.db.connection()  # taken inside, so that the SAVEPOINT covers these statements
        row["photo_blob_id"] = _store_photo(c, attempt, facts)
        row["id"] = conn.execute(_INSERT_CHECKIN, row).scalar_one()
        if d.accepted:
            assert own_batch is not None and d.session is not None and cand is not None  # all three, when accepted
            # The unique (session, candidate) key speaks here.
            conn.execute(
                _INSERT_ATTENDANCE,
                dict(
                    batch_id=own_batch.batch_id,
                    session_id=d.session.session_id,
                    candidate_id=cand.candidate_id,
                    checkin_id=row["id"],
                    room_id=cand.room_id,
                    at=judged_at,
                    late=d.late,
                ),
            )
    events: list[tuple[int, str, str | None, dict[str, Any]]] = []
    if d.accepted:
        assert own_batch is not None and d.session is not None and cand is not None  # all three, when accepted
        events.append(
            (
                own_batch.batch_id,
                "checkin",
                cand.room_code,
                dict(
                    candidate_id=cand.candidate_id,
                    session_id=d.session.session_id,
                    seat=cand.seat_no,
                    late=d.late,
                    status="present",
                ),
            )
        )
    if offline and cand is not None and attempt.offline_status != "refused" and not d.accepted:
        flag = _flag_conflict(c, row, d)
        body["detail"].update(offline_conflict=True, conflict_id=flag.id, conflict=flag.reason)
        conn.execute(
            update(table_of(CheckIn))
            .where(table_of(CheckIn).c.id == row["id"])
            .values(response=json.dumps(body, ensure_ascii=False, default=str))
        )
        events.append(
            (
                row["batch_id"],
                "offline_conflict",
                cand.room_code,
                dict(
                    candidate_id=cand.candidate_id,
                    session_id=row["session_id"],
                    conflict_id=flag.id,
                    reason=flag.reason,
                ),
            )
        )
    # R-AUDIT-1; the ID number stays out of the chain (R-PRIV-1).
    audit.record(
        c.db,
        c.actor,
        "checkin.accept" if d.accepted else "checkin.refuse",
        "checkin",
        row["id"],
        {
            "candidate_id": row["candidate_id"],
            "ticket_number": row["ticket_number"],
            "code": d.code,
            "session_id": row["session_id"],
            "via": row["via"],
            "late": d.late,
            "scanned_at": iso(scanned),
            "photo_blob_id": row["photo_blob_id"],
            **(
                {"kiosk_scanned_at": iso(attempt.scanned_at), "clock_offset_ms": attempt.clock_offset_ms or 0}
                if offline
                else {}
            ),
        },
        c.now,
        own_batch.institution_id if own_batch is not None else c.actor.institution_id,
    )
    return Outcome(d.status, body, events=events)


def _flag_conflict(c: _Ctx, row: dict[str, Any], d: rules.Decision) -> OfflineConflict:
    """An offline kiosk let in someone whom the server counts already in, or refuses: tell the proctors."""
    prior = d.prior if d.code == "already_checked_in" else None
    double = prior is not None
    flag = OfflineConflict(
        batch_id=row["batch_id"],
        session_id=row["session_id"],
        candidate_id=row["candidate_id"],
        reason="double_checkin" if double else "server_refused",
        code=d.code,
        kept_checkin_id=prior.checkin_id if prior is not None else None,
        other_checkin_id=row["id"],
        at=c.now,
    )
    c.db.add(flag)
    c.db.flush()
    return flag


def accepted_body(now: datetime, facts: F.Facts, d: rules.Decision) -> dict[str, Any]:
    """Where an accepted candidate goes (``kiosk/answer.py``): for a skill sitting, the skill
    room, the sitting and the workstation (R-SEAT-1, issue #15), not the theory seat."""
    cand = d.candidate
    # Only an accepted decision is answered with this body: it names its candidate, session and batch.
    assert cand is not None and facts.batch is not None
    body = answer.accepted(d, facts.batch.batch_id, facts.sessions, cand.masked_id)
    body["candidate"]["has_photo"] = facts.has_photo
    body["at"] = iso(now)
    return body
