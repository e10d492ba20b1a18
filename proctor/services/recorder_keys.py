"""An institution's recorder keys (录像机密钥): who may sign its cameras' hooks (R-AUDIT-1, R-VIDEO-1).

Issue #14, finding 3: one installation-wide ``EXAMDAY_HOOK_SECRET`` let any
institution's recorder forge or erase another's coverage. An institution's
exam office now issues its own keys (``POST /api/v1/institutions/{iid}/recorder-keys``);
a hook signed with one names it in ``X-Examday-Recorder`` and touches only that
institution's cameras. Once an institution has issued a key, the installation
secret no longer touches its cameras — even after its keys are revoked.

The secret is the HMAC-SHA256 of the key id under the installation's secret key
(``EXAMDAY_SECRET_KEY``): never stored, shown once when issued. Rotating issues a
new key and lets the old one run on for :data:`ROTATE_OVERLAP`, time to set the
new one on the recorders; revoking stops a key at once. Every change is on the
audit chain; the secret never is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, exists
from sqlmodel import Session, col, select

from examday import audit
from examday.access import institution_for_write
from examday.actor import Actor
from examday.clock import iso
from examday.errors import Refusal, not_found
from proctor.models import RecorderKey

ROTATE_OVERLAP = timedelta(hours=1)
_CONTEXT = b"examday recorder key\x00"


def secret_for(secret_key: str, kid: str) -> str:
    """The key's secret: derived, so the database holds nothing that signs a hook."""
    mac = hmac.new(secret_key.encode("utf-8"), _CONTEXT + kid.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def is_active(key: RecorderKey, now: datetime) -> bool:
    return key.revoked_at is None and (key.expires_at is None or now < key.expires_at)


def hook_key(db: Session, kid: str, now: datetime) -> RecorderKey | None:
    """The key a hook names, if it may sign now."""
    key = db.exec(select(RecorderKey).where(RecorderKey.kid == kid)).first()
    return key if key is not None and is_active(key, now) else None


def any_key_of(institution_id: Any) -> Exists:
    """Whether the institution (a value or a column of the caller's query) ever issued a key:
    then the installation secret no longer touches its cameras."""
    return exists().where(col(RecorderKey.institution_id) == institution_id)


def key_inactive() -> Refusal:
    return Refusal(
        "recorder_key_inactive",
        "录像机密钥不存在、已吊销或已过期",
        "The recorder key is unknown, revoked or expired.",
        "R-AUDIT-1",
        401,
    )


def _body(key: RecorderKey, now: datetime) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "label": key.label,
        "created_at": iso(key.created_at),
        "created_by": key.created_by,
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "active": is_active(key, now),
    }


def _new(db: Session, actor: Actor, now: datetime, iid: int, label: str, secret_key: str) -> dict[str, Any]:
    key = RecorderKey(
        institution_id=iid,
        kid="rk_" + secrets.token_hex(12),
        label=label.strip()[:100],
        created_at=now,
        created_by=actor.account_id,
    )
    db.add(key)
    db.flush()
    audit.record(db, actor, "recorder_key.issue", "recorder_key", key.kid, {"label": key.label}, now, iid)
    # The secret leaves the server once, in this answer.
    return {**_body(key, now), "secret": secret_for(secret_key, key.kid)}


def issue(db: Session, actor: Actor, now: datetime, institution_id: int, label: str, secret_key: str) -> dict[str, Any]:
    """A new key for the institution's recorders, with its secret (shown this once)."""
    inst = institution_for_write(db, actor, institution_id)
    assert inst.id is not None
    return _new(db, actor, now, inst.id, label, secret_key)


def _own_key(db: Session, iid: int, kid: str) -> RecorderKey:
    key = db.exec(select(RecorderKey).where(RecorderKey.kid == kid, RecorderKey.institution_id == iid)).first()
    if key is None:
        raise not_found("recorder key")
    return key


def rotate(db: Session, actor: Actor, now: datetime, institution_id: int, kid: str, secret_key: str) -> dict[str, Any]:
    """A new key in place of ``kid``, which stays valid for :data:`ROTATE_OVERLAP`, then expires."""
    inst = institution_for_write(db, actor, institution_id)
    assert inst.id is not None
    old = _own_key(db, inst.id, kid)
    if not is_active(old, now):
        raise key_inactive()
    old.expires_at = min(old.expires_at or now + ROTATE_OVERLAP, now + ROTATE_OVERLAP)
    db.add(old)
    new = _new(db, actor, now, inst.id, old.label, secret_key)
    audit.record(
        db,
        actor,
        "recorder_key.rotate",
        "recorder_key",
        old.kid,
        {"replaced_by": new["kid"], "expires_at": iso(old.expires_at)},
        now,
        inst.id,
    )
    return {**new, "replaces": {**_body(old, now)}}


def revoke(db: Session, actor: Actor, now: datetime, institution_id: int, kid: str) -> dict[str, Any]:
    """The key stops signing at once; revoking it again changes nothing."""
    inst = institution_for_write(db, actor, institution_id)
    assert inst.id is not None
    key = _own_key(db, inst.id, kid)
    if key.revoked_at is None:
        key.revoked_at = now
        db.add(key)
        audit.record(db, actor, "recorder_key.revoke", "recorder_key", key.kid, {}, now, inst.id)
    return _body(key, now)


def list_keys(db: Session, actor: Actor, now: datetime, institution_id: int) -> dict[str, Any]:
    """The institution's keys, newest first, never their secrets."""
    inst = institution_for_write(db, actor, institution_id)
    keys = db.exec(
        select(RecorderKey)
        .where(RecorderKey.institution_id == inst.id)
        .order_by(col(RecorderKey.created_at).desc(), col(RecorderKey.id).desc())
    ).all()
    return {"institution_id": inst.id, "keys": [_body(k, now) for k in keys]}
