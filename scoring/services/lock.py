"""The lock (锁定) and the seal (封存) of a batch: R-PUB-1, R-SCORE-3, R-AUDIT-1.

A batch locks after its publicity ends with no objection open — by the
admin's command, or automatically on the first request that touches the
batch after the end (``autolock_if_due``). The lock stores a seal: the digest
of ``scoring.seal`` over every result and every score entry version, signed
with the institution's Ed25519 key (``examday.keys``). The seal is printed on
the exports and the public page; ``verify_seals`` (run by ``examday audit
verify``) recomputes every seal, checks its signature, and walks every score
entry chain.

Since seal v2 (finding 6 of issue #14) the seal also covers each candidate's
name and a digest of their ID number keyed by the signing key (``_id_key``):
the exports print both, so a swap made in the database behind the triggers
breaks the seal. Since seal v3 (issue #15) the results follow the exam day's rules
(attendance, incidents: R-ID-1, R-DISC-1) and carry each part's verdict. A seal is verified in
the version it records, under that version's rules (``scoring.seal.RULES``): a batch locked
before issue #15 keeps verifying, and a change to it still breaks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from examday import audit, checkpoints, keys
from examday.actor import SYSTEM, Actor
from examday.clock import CST, iso
from examday.errors import conflict, not_found
from examday.identity import id_digest
from examday.plans.models import Batch, TicketKey
from examday.registry import standing
from examday.registry.models import Institution
from scoring import access
from scoring.entry_chain import verify_chain
from scoring.models import BatchSeal, Objection, ScoreEntry
from scoring.points import text
from scoring.publicity import lock_violations
from scoring.results import batch_results, computed_once, stored_result
from scoring.seal import RULES, SEAL_V1, SEAL_VERSION, SEAL_VERSIONS, seal_digest
from scoring.services.entries import as_version, entry_items
from scoring.services.publicity import publicity_of, unsettled_parts, window_of

OPEN_OBJECTIONS = ("open", "rescoring")


def open_objection_count(db: Session, batch_id: int) -> int:
    return db.exec(
        select(func.count())
        .select_from(Objection)
        .where(Objection.batch_id == batch_id, col(Objection.status).in_(OPEN_OBJECTIONS))
    ).one()


def _id_key(db: Session, kid: str) -> bytes | None:
    """The key of a v2 seal's ID digests, derived from the signing key that signs it: an ID number
    cannot be found from its digest by trying every plausible number (R-PRIV-1)."""
    key = db.exec(select(TicketKey).where(TicketKey.kid == kid)).first()
    if key is None:
        return None
    return hmac.new(key.private_key_pem.encode(), b"examday-seal/v2|id_digest", hashlib.sha256).digest()


def seal_rows(
    db: Session, batch: Batch, version: str = SEAL_VERSION, id_key: bytes | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the seal covers: the batch's filed terms, each candidate's result (since v2 with their
    name and ID digest: every field of the results export), every entry version."""
    if version != SEAL_V1 and not id_key:
        raise ValueError(f"a {version} seal needs the key of its ID digests")
    results: list[dict[str, Any]] = [
        {
            "batch": batch.id,
            "institution_id": batch.institution_id,
            "occupation": batch.occupation_code,
            "level": batch.level,
            "exam_date": batch.exam_date,
            "parts": batch.part_list(),
            "config": batch.config,
        }
    ]
    exam_day = RULES[version] == "exam-day"
    parts = batch.part_list()
    for r in batch_results(db, batch):
        row: dict[str, Any] = {
            "candidate_id": r.candidate.id,
            "ticket_number": r.candidate.ticket_number,
            # The rules of the seal's version (scoring.seal.RULES): since v3 the exam day's verdicts.
            "result": r.result if exam_day else stored_result(r, parts),
            "parts": {
                p: {
                    "status": ps.status if ps else None,
                    "score": text(ps.score_tenths) if ps else "",
                    "method": ps.method if ps else None,
                    "round": ps.round if ps else 0,
                }
                for p, ps in r.parts.items()
            },
        }
        if version != SEAL_V1:
            assert id_key is not None
            row["name"] = r.candidate.name
            row["id_digest"] = id_digest(r.candidate.id_number, id_key)
        if exam_day:
            row["decided"] = {
                p: {"status": o.status, "code": o.reason.get("code"), "incident_id": o.reason.get("incident_id")}
                for p, o in sorted(r.overrides.items())
            }
        results.append(row)
    return results, seal_entries(db, batch)


def seal_entries(db: Session, batch: Batch) -> list[dict[str, Any]]:
    """Every score entry version of the batch as the seal covers it (the same in every version)."""
    return [
        {
            "id": e.id,
            "candidate_id": e.candidate_id,
            "part": e.part,
            "examiner_id": e.examiner_staff_id,
            "version": e.version,
            "round": e.round,
            "items": entry_items(e),
            "total": text(e.total_tenths),
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "signature": e.signature,
            "at": iso(e.created_at),
        }
        for e in db.exec(select(ScoreEntry).where(ScoreEntry.batch_id == batch.id)).all()
    ]


def seal_payload(batch_id: int, digest: str, locked_at: datetime, version: str = SEAL_VERSION) -> bytes:
    body = {"seal": version, "batch_id": batch_id, "digest": digest, "locked_at": iso(locked_at)}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal_body(seal: BatchSeal) -> dict[str, Any]:
    return {
        "digest": seal.digest,
        "kid": seal.kid,
        "signature": seal.signature,
        "algorithm": "Ed25519",
        "version": seal.version,
        "locked_at": iso(seal.locked_at),
        "trigger": seal.trigger,
        "results": seal.results,
        "entries": seal.entries,
    }


def seal_of(db: Session, batch_id: int) -> BatchSeal | None:
    return db.exec(select(BatchSeal).where(BatchSeal.batch_id == batch_id)).first()


def _for_update(db: Session, batch_id: int) -> Batch:
    batch = db.exec(
        select(Batch).where(Batch.id == batch_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if batch is None:
        raise not_found("batch")
    return batch


def _violations(db: Session, batch: Batch, now: datetime) -> list[dict[str, Any]]:
    assert batch.id is not None
    publicity = publicity_of(db, batch.id)
    today = now.astimezone(CST).date()
    ends_on = window_of(db, publicity).ends_on if publicity else None  # R-CAL: on today's calendar
    found = [v.as_dict() for v in lock_violations(today, ends_on, open_objection_count(db, batch.id))]
    pending = unsettled_parts(db, batch) if publicity else []
    if pending:
        found.append(
            {
                "code": "scores_not_final",
                "rule": "R-PUB-1",
                "message": f"尚有{len(pending)}项成绩未确定",
                "message_en": f"{len(pending)} part score(s) are not final.",
                "detail": {"examples": pending[:20]},
            }
        )
    return found


def _seal(db: Session, actor: Actor, now: datetime, batch: Batch, trigger: str) -> dict[str, Any]:
    assert batch.id is not None
    signing = keys.active_key(db, batch.institution_id, now)
    results, entries = seal_rows(db, batch, SEAL_VERSION, _id_key(db, signing.kid))
    digest = seal_digest(results, entries, SEAL_VERSION)
    kid, signature = keys.sign(db, batch.institution_id, seal_payload(batch.id, digest, now, SEAL_VERSION), now)
    assert kid == signing.kid  # the same transaction: the ID digests are keyed by the key that signs
    seal = BatchSeal(
        batch_id=batch.id,
        locked_at=now,
        account_id=actor.account_id,
        trigger=trigger,
        digest=digest,
        kid=kid,
        signature=signature,
        results=len(results) - 1,
        entries=len(entries),
        version=SEAL_VERSION,
    )
    db.add(seal)
    db.flush()  # the seal goes in before the status flips: the triggers refuse inserts into a locked batch
    before = batch.status
    batch.status = "locked"
    db.add(batch)
    db.flush()
    body = seal_body(seal)
    locked = audit.record(
        db,
        actor,
        "batch.lock",
        "batch",
        batch.id,
        {"status": [before, "locked"], "seal": body},
        now,
        batch.institution_id,
    )
    from scoring.services.lock_archive import archive_at_lock  # it reads exports, which read this module

    archive_at_lock(db, actor, now, batch)  # R-ARCH-1: the summary, the seal and the export, final now
    # Issue #17, R-AUDIT-1: the institution signs its chain as it stood at the lock, in the lock's
    # own transaction; the report package carries this very checkpoint to the centre.
    inst = db.get(Institution, batch.institution_id)
    assert inst is not None
    checkpoints.sign_at(db, inst, locked.chain_seq, locked.hash, now, "lock", locked.chain)
    return {"batch_id": batch.id, "locked_at": body["locked_at"], "seal": body}


def lock_batch(db: Session, actor: Actor, now: datetime, batch_id: int) -> dict[str, Any]:
    access.batch_for_admin(db, actor, batch_id)
    batch = _for_update(db, batch_id)
    access.refuse_if_locked(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "lock")  # R-INST-2
    # The results are computed once: the checks, the seal and every archived document read them.
    with computed_once(db, batch):
        found = _violations(db, batch, now)
        if found:
            first = found[0]
            # R-PUB-1: not before the publicity ends, not while an objection is open.
            raise conflict(first["code"], first["message"], first["message_en"], first["rule"], violations=found)
        return _seal(db, actor, now, batch, "command")


def autolock_if_due(db: Session, batch_id: int, now: datetime) -> bool:
    """Lock a batch whose publicity is over with nothing open; True when it locked now."""
    batch = db.get(Batch, batch_id)
    if batch is None or batch.status != "publicity":
        return False
    assert batch.id is not None
    publicity = publicity_of(db, batch.id)
    if publicity is None or now.astimezone(CST).date() < window_of(db, publicity).lock_from:
        return False  # R-CAL: a notice entered since the start may have moved the end
    if standing.refusal_for(db, batch.institution_id, now, "lock") is not None:
        return False  # R-INST-2: an institution out of standing is not locked behind its back either
    batch = _for_update(db, batch_id)
    if batch.status != "publicity":
        return False
    with computed_once(db, batch):
        if _violations(db, batch, now):
            return False
        _seal(db, SYSTEM, now, batch, "auto")
    return True


def verify_seals(db: Session) -> list[str]:
    """One line per broken seal or score entry chain; empty when everything holds."""
    problems: list[str] = []
    for seal in db.exec(select(BatchSeal).order_by(col(BatchSeal.batch_id))).all():
        batch = db.get(Batch, seal.batch_id)
        if batch is None:
            problems.append(f"batch {seal.batch_id}: sealed batch is missing")
            continue
        assert batch.id is not None
        if batch.status != "locked":
            problems.append(f"batch {batch.id}: sealed but no longer locked (status {batch.status})")
        if seal.version not in SEAL_VERSIONS:
            problems.append(f"batch {batch.id}: seal of unknown version {seal.version!r}")
            continue
        id_key = None if seal.version == SEAL_V1 else _id_key(db, seal.kid)
        if seal.version != SEAL_V1 and id_key is None:
            problems.append(f"batch {batch.id}: seal key {seal.kid} is missing")
            continue
        results, entries = seal_rows(db, batch, seal.version, id_key)
        if seal_digest(results, entries, seal.version) != seal.digest:
            problems.append(
                f"batch {batch.id}: seal broken: results, names, ID numbers or score entries changed since the lock"
            )
        payload = seal_payload(batch.id, seal.digest, seal.locked_at, seal.version)
        if not keys.verify(db, seal.kid, payload, seal.signature):
            problems.append(f"batch {batch.id}: seal signature does not verify (key {seal.kid})")
    chains: dict[tuple[int, int, str, int], list[ScoreEntry]] = defaultdict(list)
    for e in db.exec(
        select(ScoreEntry).order_by(
            col(ScoreEntry.batch_id),
            col(ScoreEntry.candidate_id),
            ScoreEntry.part,
            col(ScoreEntry.examiner_staff_id),
            col(ScoreEntry.version),
        )
    ).all():
        chains[(e.batch_id, e.candidate_id, e.part, e.examiner_staff_id)].append(e)
    for (bid, cid, part, sid), rows in chains.items():
        broken = verify_chain([as_version(r) for r in rows])
        if broken is not None:
            problems.append(
                f"batch {bid}: score entry chain broken (candidate {cid}, part {part}, "
                f"examiner {sid}, version {rows[broken].version})"
            )
    return problems
