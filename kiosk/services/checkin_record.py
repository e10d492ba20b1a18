"""Storing a judged check-in attempt (R-DAY-1, R-AUDIT-1, R-PRIV-1): the attempt with the
answer it got (one INSERT), the acceptance (``Attendance``, whose unique key settles a race),
the offline conflict flagged for the proctors, the audit entry, and the events for the live
feed. The answer to an acceptance says where the candidate goes (``kiosk/answer.py``; for a
skill sitting, the skill room, the sitting and the workstation, R-SEAT-1). The judging:
``kiosk/services/checkin.py``.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from examday import audit
from examday.actor import Actor
from examday.clock import iso
from examday.rows import table_of
from kiosk import answer, rules
from kiosk.models import Attendance, CheckIn, OfflineConflict
from kiosk.services import facts as F
from kiosk.services.door import Attempt
from storage.blobs import Blob, BlobStore


@dataclass
class Outcome:
    http_status: int
    body: dict[str, Any]
    replay: bool = False
    events: list[tuple[int, str, str | None, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Ctx:
    db: Session
    actor: Actor
    now: datetime
    secret_key: str
    blobs: BlobStore


def _store_photo(c: Ctx, attempt: Attempt, facts: F.Facts) -> int | None:
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


def record(
    c: Ctx,
    attempt: Attempt,
    nonce: str,
    judged_at: datetime,
    presented: rules.Presented | None,
    facts: F.Facts,
    d: rules.Decision,
    offline: bool,
    savepoint: bool = True,
) -> Outcome:
    """Store the attempt with the answer it gets (one INSERT), the acceptance, the audit entry.
    Without ``savepoint`` a conflict aborts the caller's whole transaction (``check_in(alone=True)``).

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
    with c.db.begin_nested() if savepoint else nullcontext():  # a lost race takes the photo's row back too
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
                    at=iso(judged_at),  # the arrival's time: the feed adds it to the room it keeps
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


def _flag_conflict(c: Ctx, row: dict[str, Any], d: rules.Decision) -> OfflineConflict:
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
