"""Recorder hooks (录像回调): ``POST /api/v1/hooks/recorder`` (R-VIDEO-1, R-AUDIT-1).

A recorder (examday's own, or an NVR adapter) reports segment started and
finished, camera offline and online. The hook is authenticated by nothing but
the HMAC-SHA256 of its raw body (:mod:`proctor.hooks_sign`): a bad or missing
signature is refused with 401 ``bad_signature`` and logged without the body.

Whose secret (issue #14, finding 3): a hook naming an institution's recorder
key in ``X-Examday-Recorder`` is signed with that key's secret
(:mod:`proctor.services.recorder_keys`; 401 ``recorder_key_inactive`` when it is
unknown, revoked or expired) and touches only that institution's cameras (403
``recorder_not_of_institution``). A hook without one is signed with
``EXAMDAY_HOOK_SECRET`` (CONTRACT.md) and touches only the cameras of
institutions that never issued a key of their own (403 ``recorder_key_required``).
Its times and its file's place are checked by :mod:`proctor.rules_hooks`.

Which camera: ``room_code`` and ``camera`` name it; room codes are unique per
institution only, so a hook may carry ``institution`` (the USCC). Without it
the camera is looked up across institutions and a code found in more than
one is refused with 409 ``ambiguous_camera``.

A replay changes nothing: each hook is stored once in ``HookReceipt`` under
its ``id`` (examday's recorder sends one) or, without one, the SHA-256 of the
body; a repeat answers ``{"status": "duplicate"}``. A finished segment's facts
never change afterwards (409 ``segment_already_finished`` when a later hook
says otherwise).

When a segment finishes its file is checked (:mod:`proctor.services.hook_events`) — the path is on this
machine for examday's recorder (an NVR's store must be mounted here), or an
``s3://bucket/key`` object in the S3-compatible store (``examday-recorder
--upload``): no file → ``file_missing``, another SHA-256 or size →
``checksum_mismatch``, no hash or impossible times → ``invalid``. Only
``valid`` segments count as coverage. A store that cannot be reached answers
503 ``video_store_unavailable``, which the recorder retries.

Audit (R-AUDIT-1): the receipts are the trace of every hook; a camera going
offline or online and a segment failing its check go on the audit chain too.
A valid segment does not: 17 million chain entries a season would bury the
entries that matter, and the receipt already proves it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast
from sqlalchemy import select as sa_select  # five columns: sqlmodel's select() types at most four
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from examday.actor import Actor
from examday.audit import AuditEntry
from examday.errors import Refusal, conflict
from examday.registry.models import Camera, Institution, Room
from proctor.hooks_sign import verify
from proctor.rules_hooks import bad_signature, check_times, parse
from proctor.services import recorder_keys
from proctor.services.hook_events import APPLY, HookResult
from proctor.video_models import CameraHealth, HookReceipt
from storage.video_files import VideoPlaces

log = logging.getLogger("examday.proctor.hooks")

__all__ = ["HookAuth", "HookResult", "receive"]


@dataclass(frozen=True)
class HookAuth:
    """What a hook is checked against: the installation's hook secret (CONTRACT.md), the secret
    key the recorder keys' secrets derive from, and the key the hook names (``X-Examday-Recorder``)."""

    hook_secret: str
    secret_key: str
    signature: str | None
    key_id: str | None = None


def receive(
    db: Session,
    auth: HookAuth,
    body: bytes,
    now: datetime,
    peer: str | None = None,
    *,
    places: VideoPlaces,
) -> HookResult:
    """Check, parse, dedupe and store one hook. The caller queues ``events``; they go out once the
    request's transaction commits. ``places`` are the video folders and the store an ``s3://``
    segment is checked in (:meth:`VideoPlaces.from_settings`)."""
    key_iid = _authenticate(db, auth, body, now, peer)
    hook = parse(body)
    # Whose camera it is decides whether this signer may touch it: before anything is stored,
    # a replay included, so a foreign recorder learns nothing from "duplicate".
    camera, room, inst, keyed, filed = _camera(db, hook, key_iid)
    assert inst.id is not None
    if key_iid is None and keyed:
        raise Refusal(
            "recorder_key_required",
            "该机构的摄像头只接受其录像机密钥签名的回调",
            "This institution's cameras take only hooks signed with its own recorder key (X-Examday-Recorder).",
            "R-AUDIT-1",
            403,
        )
    check_times(hook, now, max(filed, inst.created_at) if filed is not None else inst.created_at)
    digest = hashlib.sha256(body).hexdigest()
    key = f"id:{hook['id']}" if hook.get("id") else f"sha256:{digest}"
    actor = Actor(None, f"recorder:{room.code}/{camera.code}"[:100], "recorder", inst.id)
    camera_id, room_id = camera.id, room.id
    try:
        # Most hooks are all their transaction does: no read ahead for a replay, no savepoint
        # (issue #18). A replay, or a race with another hook of this camera, fails on a unique
        # key; everything is rolled back and the hook is done again the careful way.
        return _store(db, actor, hook, camera, room, now, key, digest, places, careful=False)
    except IntegrityError:
        db.rollback()
    camera, room = db.get_one(Camera, camera_id), db.get_one(Room, room_id)
    return _store(db, actor, hook, camera, room, now, key, digest, places, careful=True)


def _store(
    db: Session,
    actor: Actor,
    hook: dict[str, Any],
    camera: Camera,
    room: Room,
    now: datetime,
    key: str,
    digest: str,
    places: VideoPlaces,
    careful: bool,
) -> HookResult:
    receipt = HookReceipt(
        dedupe_key=key,
        body_sha256=digest,
        event=hook["event"],
        camera_id=camera.id,
        received_at=now,
        outcome="unchanged",
    )
    db.add(receipt)
    if not careful:
        db.flush()  # a replay fails here, on the receipt's unique key, before any change
        return _apply(db, actor, hook, camera, room, now, receipt, places)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        return HookResult("duplicate")
    for attempt in range(3):
        try:
            with db.begin_nested():
                return _apply(db, actor, hook, camera, room, now, receipt, places)
        except IntegrityError:
            # PostgreSQL: a concurrent hook of this camera (the segment's start racing its finish, or
            # the camera's first hooks) inserted the same segment or health row and has committed by
            # now. Applied again, this hook finds that row: no 500, nothing stored twice.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# When the camera was registered: its room's filing with its cameras on the audit chain
# (``room.create``, R-AUDIT-1), else — a room made before the chain recorded it — its
# institution's registration. No hook may speak of a time before it (issue #14). Read with the
# camera, as is whether its institution has recorder keys: one round trip (issue #18).
_FILED = (
    select(func.min(AuditEntry.at))
    .where(
        AuditEntry.object_id == cast(col(Room.id), String),
        AuditEntry.object_type == "room",
        AuditEntry.action == "room.create",
    )
    .scalar_subquery()
    .label("filed")
)


def _authenticate(db: Session, auth: HookAuth, body: bytes, now: datetime, peer: str | None) -> int | None:
    """The institution whose key signed the hook, None for the installation secret; or 401."""
    key_iid, secret = None, auth.hook_secret
    if auth.key_id:
        rk = recorder_keys.hook_key(db, auth.key_id.strip(), now)
        if rk is None:
            log.warning("recorder hook refused: inactive recorder key from %s (%d bytes)", peer or "?", len(body))
            raise recorder_keys.key_inactive()
        key_iid, secret = rk.institution_id, recorder_keys.secret_for(auth.secret_key, rk.kid)
    if not verify(body, secret, auth.signature):
        # Never the body: it names paths and cameras an attacker may be probing with.
        log.warning(
            "recorder hook refused: %s signature from %s (%d bytes)",
            "missing" if not auth.signature else "bad",
            peer or "?",
            len(body),
        )
        raise bad_signature()
    return key_iid


def _apply(
    db: Session,
    actor: Actor,
    hook: dict[str, Any],
    camera: Camera,
    room: Room,
    now: datetime,
    receipt: HookReceipt,
    places: VideoPlaces,
) -> HookResult:
    result = APPLY[hook["event"]](db, actor, hook, camera, room, now, places)
    receipt.outcome = result.outcome
    db.add(receipt)
    health = db.get(CameraHealth, camera.id)
    if health is not None:
        health.last_hook_at = now
        db.add(health)
    db.flush()
    return result


def _camera(
    db: Session, hook: dict[str, Any], key_iid: int | None
) -> tuple[Camera, Room, Institution, bool, datetime | None]:
    """The hook's camera, its room and institution, whether that institution has recorder keys,
    and when the room was filed on the audit chain."""
    q = (
        sa_select(Camera, Room, Institution, recorder_keys.any_key_of(col(Institution.id)), _FILED)
        .join(Room, col(Room.id) == Camera.room_id)
        .join(Institution, col(Institution.id) == Room.institution_id)
        .where(col(Room.code) == hook["room_code"], col(Camera.code) == hook["camera"])
    )
    if hook.get("institution"):
        q = q.where(col(Institution.uscc) == hook["institution"])
    if key_iid is not None:
        # A key's recorder names its own cameras: room codes repeat across institutions, so its
        # own institution's camera is the one meant; a camera only another has is not its to touch.
        own = db.execute(q.where(col(Institution.id) == key_iid)).first()
        if own is not None:
            return _facts(own)
        if db.execute(q.limit(1)).first() is not None:
            raise Refusal(
                "recorder_not_of_institution",
                "该录像机密钥属于其他机构，不能为此摄像头回调",
                "This recorder key belongs to another institution than the camera's.",
                "R-AUDIT-1",
                403,
            )
    rows = db.execute(q.limit(2)).all()
    if not rows:
        raise Refusal(
            "unknown_camera",
            "未登记的摄像头",
            "No such camera in that room.",
            "R-VIDEO-1",
            404,
            {"room_code": hook["room_code"], "camera": hook["camera"]},
        )
    if len(rows) > 1:
        raise conflict(
            "ambiguous_camera",
            "多个机构有同名考场和摄像头，请在回调中注明机构代码",
            "Several institutions have this room and camera; send `institution` (USCC).",
            "R-VIDEO-1",
            room_code=hook["room_code"],
            camera=hook["camera"],
        )
    return _facts(rows[0])


def _facts(row: Any) -> tuple[Camera, Room, Institution, bool, datetime | None]:
    camera, room, inst, keyed, filed = row
    return camera, room, inst, bool(keyed), filed
