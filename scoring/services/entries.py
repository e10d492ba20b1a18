"""An examiner's score entry (评分记录), entered alone and signed: R-SCORE-1, R-SCORE-2.

The PIN. One mechanism: the evaluator sets it with ``POST /api/v1/me/pin``
(stored as an argon2 hash in ``Account.pin_hash``, like a password). Each
entry is confirmed with it: the PIN is checked against that hash, then the
entry's hash is signed with ``scoring.entry_chain.sign_entry``, keyed by the
PIN and a per-examiner secret derived from the installation's secret key
(``examiner_secret``). The PIN itself is never stored.

Independence: nothing here returns another examiner's entry; the read model
(``scoring.results``) hides colleagues' entries from a scorer until every
scorer of that candidate's part is in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.accounts import throttle
from examday.accounts.models import Account
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, conflict, forbidden
from examday.registry import standing
from scoring import access, admission
from scoring.entry_chain import EntryVersion, new_version, sign_entry
from scoring.models import Panel, ScoreEntry
from scoring.panel_data import load_panel
from scoring.points import from_tenths, show, to_tenths
from scoring.rubric import total, validate_entry
from scoring.services.combine import part_score, try_complete
from scoring.services.rubrics import load_items


def examiner_secret(secret_key: str, staff_id: int) -> bytes:
    """The per-examiner signing secret, derived from the installation key (never stored)."""
    return hmac.new(
        secret_key.encode("utf-8"), f"examday/examiner-secret/v1\x00{staff_id}".encode(), hashlib.sha256
    ).digest()


def entry_items(row: ScoreEntry) -> dict[str, Any]:
    return json.loads(row.items)


def _iso_at(at: datetime) -> str:
    # iso() takes None too (and gives None back); a datetime always gives text.
    text = iso(at)
    assert text is not None
    return text


def as_version(row: ScoreEntry) -> EntryVersion:
    return EntryVersion(
        row.batch_id,
        row.candidate_id,
        row.part,
        row.examiner_staff_id,
        entry_items(row),
        row.version,
        _iso_at(row.created_at),
        row.prev_hash,
        row.hash,
        row.signature,
    )


def entry_body(row: ScoreEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "batch_id": row.batch_id,
        "candidate_id": row.candidate_id,
        "part": row.part,
        "examiner_id": row.examiner_staff_id,
        "version": row.version,
        "round": row.round,
        "items": {code: float(points) for code, points in entry_items(row).items()},
        "total": show(row.total_tenths),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "signature": row.signature,
        "created_at": iso(row.created_at),
    }


def check_pin(db: Session, passwords, actor: Actor, pin: object, now: datetime) -> str:
    """R-SCORE-1: only the examiner, with their PIN, signs their score; guessing it is rate-limited
    (examday/accounts/throttle.py)."""
    account = db.get(Account, actor.account_id) if actor.account_id else None
    if account is None or not account.pin_hash:
        raise conflict("pin_not_set", "尚未设置签名密码，请先设置", "Set your signing PIN first.", "R-SCORE-1")
    throttle.refuse_if_locked(db, throttle.PIN, actor.username, None, now)
    if not isinstance(pin, str) or not passwords.verify(account.pin_hash, pin):
        # The entry is refused, but the wrong PIN must still count: drop the entry's work, keep the count.
        db.rollback()
        lockout = throttle.record_failure(db, throttle.PIN, actor.username, None, now, actor)
        db.commit()
        raise lockout or Refusal("pin_wrong", "签名密码错误", "Wrong signing PIN.", "R-SCORE-1", 403)
    throttle.clear(db, throttle.PIN, actor.username, now)
    return pin


def submit_entry(
    db: Session,
    actor: Actor,
    now: datetime,
    passwords,
    secret_key: str,
    batch_id: int,
    candidate_id: int,
    part: str,
    items: object,
    pin: object,
) -> dict[str, Any]:
    if actor.role not in access.SCORER_ROLES or actor.staff_id is None:
        raise forbidden("Only an examiner's own account enters scores.")
    batch = access.load_batch(db, batch_id)
    assert batch.id is not None
    if actor.institution_id != batch.institution_id:
        raise forbidden("This batch belongs to another institution.")
    access.refuse_unless_filed(batch)
    standing.refuse_unless_in_standing(db, batch.institution_id, now, "score_entry")  # R-INST-2
    access.refuse_unknown_part(batch, part)
    cand = access.candidate_of(db, batch, candidate_id)
    assert cand.id is not None
    # R-SCORE-1, R-ID-1: only once the candidate's own sitting of this part has started, and they sat it.
    admission.refuse_unless_sat(db, batch, cand.id, part, now)
    # One entry at a time per panel: whoever completes the panel sees every other entry committed.
    locked_panel = db.exec(
        select(Panel).where(Panel.batch_id == batch.id, Panel.part == part).with_for_update()
    ).first()
    view = load_panel(db, batch.id, part, [cand], locked_panel) if locked_panel else None
    if view is None:
        raise conflict("no_panel", "该科目尚未组建考评组", "This part has no panel yet.", "R-PANEL-1", part=part)
    # R-PANEL-1: the panel alone scores the batch.
    if actor.staff_id not in view.member_ids:
        raise Refusal("not_on_panel", "您不是该科目考评组成员", "You are not on this part's panel.", "R-PANEL-1", 403)
    scorers, recused = view.scorers(cand.id)
    # R-RECUSE-1: an examiner who stands aside does not score this candidate.
    if actor.staff_id in recused:
        raise Refusal(
            "recused",
            "您须回避该考生，不能评分",
            "You stand aside from this candidate and may not score them.",
            "R-RECUSE-1",
            403,
            {"reason": recused[actor.staff_id]},
        )
    rubric = load_items(db, batch.id, part)
    if not rubric:
        raise conflict("rubric_missing", "该科目尚未设置评分细则", "This part has no rubric yet.", "R-SCORE-3")
    if not isinstance(items, Mapping):
        raise Refusal(
            "score_items_mismatch",
            "评分项须为 {细则项代码: 分值}",
            "items must map rubric codes to points.",
            "R-SCORE-3",
        )
    points = validate_entry(rubric, items)  # R-SCORE-3: each item within 0..its maximum
    cfg = access.scoring_config(batch)
    ps = part_score(db, batch.id, cand.id, part, now)
    if ps.status == "absent":
        raise conflict("candidate_absent", "该考生本科目缺考", "The candidate was absent from this part.", "R-SCORE-3")
    if ps.status == "final":
        raise conflict(
            "part_final",
            "该考生本科目成绩已确定，不能再改",
            "This part's score is final; it cannot change.",
            "R-SCORE-3",
        )
    if ps.status == "arbitration":
        raise conflict(
            "in_arbitration",
            "评分分歧已提交主考仲裁，请等待",
            "The part is with the chief for arbitration.",
            "R-PANEL-1",
        )
    pin = check_pin(db, passwords, actor, pin, now)
    previous_row = db.exec(
        select(ScoreEntry)
        .where(
            ScoreEntry.batch_id == batch.id,
            ScoreEntry.candidate_id == cand.id,
            ScoreEntry.part == part,
            ScoreEntry.examiner_staff_id == actor.staff_id,
        )
        .order_by(col(ScoreEntry.version).desc())
    ).first()
    # R-SCORE-2: a correction is a new version pointing at the old one; nothing is overwritten.
    version = new_version(
        as_version(previous_row) if previous_row else None,
        batch_id=batch.id,
        candidate_id=cand.id,
        part=part,
        examiner_id=actor.staff_id,
        items=points,
        at_iso=_iso_at(now),
    )
    row = ScoreEntry(
        batch_id=batch.id,
        candidate_id=cand.id,
        part=part,
        examiner_staff_id=actor.staff_id,
        account_id=actor.account_id,
        version=version.version,
        round=ps.round,
        items=json.dumps({c: format(p, "f") for c, p in points.items()}, sort_keys=True),
        total_tenths=to_tenths(total(points)),
        prev_hash=version.prev_hash,
        hash=version.hash,
        signature=sign_entry(version.hash, pin, examiner_secret(secret_key, actor.staff_id)),  # R-SCORE-1
        created_at=now,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor,
        "score_entry.create",
        "score_entry",
        row.id,
        {
            "batch_id": batch.id,
            "candidate_id": cand.id,
            "part": part,
            "examiner_id": actor.staff_id,
            "version": row.version,
            "round": row.round,
            "total": str(from_tenths(row.total_tenths)),
            "hash": row.hash,
            "prev_hash": row.prev_hash,
        },
        now,
        batch.institution_id,
    )
    try_complete(db, actor, now, batch, ps, scorers, cfg)
    body = entry_body(row)
    body["part_status"] = ps.status
    return body
