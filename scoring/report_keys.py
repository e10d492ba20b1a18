"""The centre's register of institutions' public keys and report tokens (登记公钥, 上报令牌): R-PUB-2, issue #17.

The centre registers each institution's public keys once — as the institution's
``GET /api/v1/institutions/{iid}/ticket-keys`` lists them — and again at a rotation (a key the
listing names in ``revoked_kids``, or lists ``revoked``, is retired: it keeps verifying what it
signed before, and nothing it signs afterwards). It issues the
institution a report token, kept only as its SHA-256, with which the institution's own
installation pushes its packages (``scoring.report_push``). Only the centre of the
institution's province (or the installation administrator) does either
(``examday.access.can_act_as_centre_for``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.access import can_act_as_centre_for
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, forbidden
from examday.identity import uscc_problem
from examday.ticket_token import key_id
from scoring.report_models import ReportKey, ReportToken

TOKEN_PREFIX = "rpt_"


def _refuse(code: str, zh: str, en: str, status: int = 422, **detail: Any) -> Refusal:
    return Refusal(code, zh, en, "R-PUB-2", status, detail)


def _raw_key(public_key: str) -> bytes:
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32:
        raise _refuse("public_key_invalid", "公钥格式不正确", "A public key is 32 raw Ed25519 bytes in base64.")
    return raw


def register_keys(
    db: Session,
    actor: Actor,
    now: datetime,
    uscc: str,
    name: str,
    province: str,
    keys: list[dict[str, Any]],
    revoked_kids: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Register an institution's public keys (as ``GET /institutions/{iid}/ticket-keys`` lists them);
    a key listed ``revoked`` or named in ``revoked_kids`` is retired. Registering again adds the new
    keys of a rotation. (The listing drops a revoked key from ``keys`` and names it in
    ``revoked_kids`` only: reading ``keys`` alone, a revocation never reached the centre.)"""
    if uscc_problem(uscc) is not None:
        raise _refuse("invalid_uscc", "统一社会信用代码不正确", "The USCC is not valid.", rule_detail="R-INST-1")
    known = list(db.exec(select(ReportKey).where(ReportKey.uscc == uscc)).all())
    held_province = known[0].province if known else province
    if not can_act_as_centre_for(actor, held_province) or not can_act_as_centre_for(actor, province):
        raise forbidden("Only the centre of the institution's province registers its keys.")
    by_kid = {k.kid: k for k in known}
    added, retired = [], []
    for entry in keys:
        kid, public = str(entry.get("kid", "")), str(entry.get("public_key", ""))
        raw = _raw_key(public)
        if key_id(raw) != kid:
            raise _refuse("public_key_invalid", "公钥与其编号不符", f"Key {kid!r} is not the id of its public key.")
        row = by_kid.get(kid)
        if row is None:
            row = ReportKey(
                uscc=uscc,
                name=name,
                province=held_province,
                kid=kid,
                public_key=public,
                registered_at=now,
                registered_by=actor.account_id,
            )
            db.add(row)
            by_kid[kid] = row
            added.append(kid)
        elif row.public_key != public:
            raise _refuse("public_key_invalid", "同一编号的公钥不同", f"Key {kid!r} is registered with another value.")
        if entry.get("revoked") and row.retired_at is None:
            row.retired_at = now
            db.add(row)
            retired.append(kid)
    for kid in revoked_kids:  # a key revoked but never registered here signed nothing accepted here
        row = by_kid.get(str(kid))
        if row is not None and row.retired_at is None:
            row.retired_at = now
            db.add(row)
            retired.append(row.kid)
    db.flush()
    audit.record(
        db,
        actor,
        "centre.keys",
        "institution_key",
        uscc,
        {"added": added, "retired": retired, "province": province},
        now,
    )
    return keys_of(db, actor, uscc)


def keys_of(db: Session, actor: Actor, uscc: str) -> dict[str, Any]:
    rows = list(db.exec(select(ReportKey).where(ReportKey.uscc == uscc).order_by(col(ReportKey.id))).all())
    if rows and not can_act_as_centre_for(actor, rows[0].province):
        raise forbidden("Only the centre of the institution's province reads its keys.")
    return {
        "uscc": uscc,
        "keys": [
            {
                "kid": k.kid,
                "public_key": k.public_key,
                "registered_at": iso(k.registered_at),
                "retired_at": iso(k.retired_at),
            }
            for k in rows
        ],
    }


def province_of(db: Session, uscc: str) -> str | None:
    key = db.exec(select(ReportKey).where(ReportKey.uscc == uscc)).first()
    return key.province if key else None


def issue_token(db: Session, actor: Actor, now: datetime, uscc: str) -> dict[str, Any]:
    """A report token for the institution's installation to push its packages with; shown once."""
    province = province_of(db, uscc)
    if province is None:
        raise _refuse(
            "unknown_institution_key",
            "尚未登记该机构的公钥",
            "Register the institution's public keys first.",
            404,
            uscc=uscc,
        )
    if not can_act_as_centre_for(actor, province):
        raise forbidden("Only the centre of the institution's province issues its report token.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ReportToken(uscc=uscc, token_hash=_hash(token), created_at=now, created_by=actor.account_id))
    db.flush()
    audit.record(db, actor, "centre.report_token", "institution_key", uscc, {"issued": True}, now)
    return {"uscc": uscc, "report_token": token}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_uscc(db: Session, token: str | None) -> str | None:
    """The institution a report token was issued to; None for anything else."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.exec(
        select(ReportToken).where(ReportToken.token_hash == _hash(token), col(ReportToken.revoked_at).is_(None))
    ).first()
    return row.uscc if row else None
