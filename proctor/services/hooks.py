"""Recorder hooks (录像回调): ``POST /api/v1/hooks/recorder`` (R-VIDEO-1, R-AUDIT-1).

A recorder (examday's own, or an NVR adapter) reports segment started and
finished, camera offline and online. The hook is authenticated by nothing but
the HMAC-SHA256 of its raw body with ``EXAMDAY_HOOK_SECRET``
(:mod:`proctor.hooks_sign`): a bad or missing signature is refused with 401
``bad_signature`` and logged without the body.

Which camera: ``room_code`` and ``camera`` name it; room codes are unique per
institution only, so a hook may carry ``institution`` (the USCC). Without it
the camera is looked up across institutions and a code found in more than
one is refused with 409 ``ambiguous_camera``.

A replay changes nothing: each hook is stored once in ``HookReceipt`` under
its ``id`` (examday's recorder sends one) or, without one, the SHA-256 of the
body; a repeat answers ``{"status": "duplicate"}``. A finished segment's facts
never change afterwards (409 ``segment_already_finished`` when a later hook
says otherwise).

When a segment finishes its file is checked here — the path is on this
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
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.clock import parse_iso
from examday.errors import Refusal, conflict
from examday.events import Queued
from examday.registry.models import Camera, Institution, Room
from proctor.hooks_sign import verify
from proctor.services import video
from proctor.video_models import CameraHealth, CameraOffline, HookReceipt, Segment
from storage import video_files
from storage.blobs_s3 import S3Config

log = logging.getLogger("examday.proctor.hooks")

EVENTS = ("segment_started", "segment_finished", "camera_offline", "camera_online")
# An open segment is trusted for its announced length plus this, then it is overdue.
FINISH_GRACE = timedelta(seconds=10)
DEFAULT_SEGMENT_SECONDS = 60.0
MAX_SEGMENT = video.MAX_SEGMENT
FUTURE_SKEW = timedelta(hours=1)


@dataclass
class HookResult:
    status: str  # stored | duplicate
    outcome: str = "unchanged"  # created | updated | unchanged
    segment_id: int | None = None
    segment_state: str | None = None
    # (batch_id, "camera", room_code, data) to publish once committed.
    events: list[Queued] = field(default_factory=list)  # (batch id, kind, room code, data)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "outcome": self.outcome}
        if self.segment_id is not None:
            out.update(segment_id=self.segment_id, segment_state=self.segment_state)
        return out


def bad_signature() -> Refusal:
    return Refusal("bad_signature", "回调签名无效", "The hook's signature is missing or wrong.", "R-AUDIT-1", 401)


def _invalid(en: str, **detail: Any) -> Refusal:
    return Refusal("invalid_hook", "回调内容无效", en, "R-VIDEO-1", 422, detail)


def receive(
    db: Session,
    secret: str,
    body: bytes,
    signature: str | None,
    now: datetime,
    peer: str | None = None,
    *,
    s3: S3Config,
) -> HookResult:
    """Check, parse, dedupe and store one hook. The caller queues ``events``; they go out once the
    request's transaction commits. ``s3`` is the store an ``s3://`` segment is checked in (the settings' ``s3``)."""
    if not verify(body, secret, signature):
        # Never the body: it names paths and cameras an attacker may be probing with.
        log.warning(
            "recorder hook refused: %s signature from %s (%d bytes)",
            "missing" if not signature else "bad",
            peer or "?",
            len(body),
        )
        raise bad_signature()
    hook = _parse(body)
    digest = hashlib.sha256(body).hexdigest()
    key = f"id:{hook['id']}" if hook.get("id") else f"sha256:{digest}"
    if db.exec(select(HookReceipt.id).where(HookReceipt.dedupe_key == key)).first() is not None:
        return HookResult("duplicate")
    camera, room, inst = _camera(db, hook)
    receipt = HookReceipt(
        dedupe_key=key,
        body_sha256=digest,
        event=hook["event"],
        camera_id=camera.id,
        received_at=now,
        outcome="unchanged",
    )
    db.add(receipt)
    try:
        db.flush()  # first write of the transaction: a concurrent twin fails here, before any change
    except IntegrityError:
        db.rollback()
        return HookResult("duplicate")
    actor = Actor(None, f"recorder:{room.code}/{camera.code}"[:100], "recorder", inst.id)
    for attempt in range(3):
        try:
            with db.begin_nested():
                return _apply(db, actor, hook, camera, room, now, receipt, s3)
        except IntegrityError:
            # PostgreSQL: a concurrent hook of this camera (the segment's start racing its finish, or
            # the camera's first hooks) inserted the same segment or health row and has committed by
            # now. Applied again, this hook finds that row: no 500, nothing stored twice.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply(
    db: Session,
    actor: Actor,
    hook: dict[str, Any],
    camera: Camera,
    room: Room,
    now: datetime,
    receipt: HookReceipt,
    s3: S3Config,
) -> HookResult:
    if hook["event"] == "segment_finished":  # the one event whose file is checked, maybe in the store
        result = segment_finished(db, actor, hook, camera, room, now, s3)
    else:
        result = _APPLY[hook["event"]](db, actor, hook, camera, room, now)
    receipt.outcome = result.outcome
    db.add(receipt)
    health = db.get(CameraHealth, camera.id)
    if health is not None:
        health.last_hook_at = now
        db.add(health)
    db.flush()
    return result


# -- parsing ---------------------------------------------------------------------------------------


def _parse(body: bytes) -> dict[str, Any]:
    try:
        hook = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _invalid("The body is not JSON.") from None
    if not isinstance(hook, dict):
        raise _invalid("The body must be a JSON object.")
    if hook.get("event") not in EVENTS:
        raise _invalid("Unknown event.", event=str(hook.get("event"))[:40], known=list(EVENTS))
    for name in ("camera", "room_code"):
        value = hook.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 40:
            raise _invalid(f"{name} is required.", field=name)
    hid = hook.get("id")
    if hid is not None and (not isinstance(hid, str) or not 1 <= len(hid) <= 64):
        raise _invalid("id must be a string of at most 64 characters.", field="id")
    for name in ("at", "started_at", "ended_at", "detected_at"):
        value = hook.get(name)
        if value is None:
            if name == "at":
                raise _invalid("at is required.", field="at")
            continue
        try:
            hook[name] = parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            hook[name] = None
        if hook[name] is None:
            raise _invalid(f"{name} is not an ISO 8601 time.", field=name)
    for name in ("bytes", "segment_seconds"):
        value = hook.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise _invalid(f"{name} must be a non-negative number.", field=name)
    for name in ("path", "sha256", "reason", "institution"):
        value = hook.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid(f"{name} must be a string.", field=name)
    return hook


def _camera(db: Session, hook: dict[str, Any]) -> tuple[Camera, Room, Institution]:
    q = (
        select(Camera, Room, Institution)
        .join(Room, col(Room.id) == Camera.room_id)
        .join(Institution, col(Institution.id) == Room.institution_id)
        .where(Room.code == hook["room_code"], Camera.code == hook["camera"])
    )
    if hook.get("institution"):
        q = q.where(Institution.uscc == hook["institution"])
    rows = db.exec(q.limit(2)).all()
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
    return rows[0]


# -- the four events -------------------------------------------------------------------------------


def _health(db: Session, camera_id: int) -> CameraHealth:
    h = db.get(CameraHealth, camera_id)
    if h is None:
        h = CameraHealth(camera_id=camera_id)
        db.add(h)
    return h


def _set_state(
    db: Session,
    h: CameraHealth,
    state: str,
    reason: str,
    now: datetime,
    room: Room,
    camera: Camera,
    result: HookResult,
    force: bool = False,
) -> None:
    assert room.id is not None
    if h.state == state and h.reason == reason and not force:
        return
    h.state, h.reason, h.changed_at = state, reason, now
    for bid in video.live_batches(db, room.id, now):
        result.events.append((bid, "camera", room.code, {"camera": camera.code, "state": state, "reason": reason}))


def _heartbeat(
    db: Session,
    camera: Camera,
    room: Room,
    at: datetime,
    now: datetime,
    result: HookResult,
    segment_seconds: float | None = None,
) -> CameraHealth:
    assert camera.id is not None
    h = _health(db, camera.id)
    if h.last_segment_at is None or at > h.last_segment_at:
        h.last_segment_at = at
    if segment_seconds:
        h.segment_seconds = float(segment_seconds)
    if h.state != "offline":  # a recorder keeps cutting segments of a frozen picture: still offline
        _set_state(db, h, "recording", "", now, room, camera, result)
    db.add(h)
    return h


def _segment_at(db: Session, camera: Camera, started: datetime) -> Segment | None:
    return db.exec(select(Segment).where(Segment.camera_id == camera.id, Segment.started_at == started)).first()


def _check_times(started: datetime, now: datetime, ended: datetime | None = None) -> None:
    if started > now + FUTURE_SKEW:
        raise _invalid("The segment starts in the future; check the recorder's clock.")
    if ended is not None and not started < ended <= started + MAX_SEGMENT:
        raise _invalid(
            "A segment ends after it starts and lasts at most 6 hours.", max_seconds=MAX_SEGMENT.total_seconds()
        )


def segment_started(db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime) -> HookResult:
    assert camera.id is not None
    started = hook.get("started_at") or hook["at"]
    _check_times(started, now)
    seconds = min(float(hook.get("segment_seconds") or DEFAULT_SEGMENT_SECONDS), MAX_SEGMENT.total_seconds())
    result = HookResult("stored")
    seg = _segment_at(db, camera, started)
    if seg is None:
        seg = Segment(
            camera_id=camera.id,
            institution_id=room.institution_id,
            started_at=started,
            expected_end=started + timedelta(seconds=seconds) + FINISH_GRACE,
            path=(hook.get("path") or "")[:1000],
            state="open",
            received_at=now,
        )
        db.add(seg)
        db.flush()
        result.outcome = "created"
    result.segment_id, result.segment_state = seg.id, seg.state
    _heartbeat(db, camera, room, started, now, result, hook.get("segment_seconds"))
    return result


def verify_file(path: str, sha256: str | None, size: int | None, s3: S3Config) -> str:
    """The state a finished segment's file earns (R-VIDEO-1, R-AUDIT-1): a path here,
    or an ``s3://`` object checked through the store ``s3`` connects to (:mod:`storage.video_files`)."""
    return video_files.verify(path, sha256, size, s3)


def segment_finished(
    db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime, s3: S3Config
) -> HookResult:
    assert camera.id is not None
    assert room.id is not None
    started, path = hook.get("started_at"), (hook.get("path") or "")[:1000]
    seg = None
    if started is None and path:
        seg = db.exec(
            select(Segment)
            .where(Segment.camera_id == camera.id, Segment.path == path)
            .order_by(col(Segment.started_at).desc())
        ).first()
        started = seg.started_at if seg is not None else None
    if started is None:
        raise _invalid("segment_finished needs started_at (or the path of a started segment).", field="started_at")
    ended = hook.get("ended_at") or hook["at"]
    _check_times(started, now, ended)
    seg = seg or _segment_at(db, camera, started)
    sha = (hook.get("sha256") or "").strip().lower() or None
    size = int(hook["bytes"]) if hook.get("bytes") is not None else None
    result = HookResult("stored")
    if seg is not None and seg.state != "open":
        if (seg.ended_at, seg.sha256, seg.size, seg.path) != (ended, sha, size, path or seg.path):
            raise conflict(
                "segment_already_finished",
                "该录像片段已结束，信息不可更改",
                "This segment was already reported finished with other facts.",
                "R-AUDIT-1",
                segment_id=seg.id,
            )
        result.segment_id, result.segment_state = seg.id, seg.state
        _heartbeat(db, camera, room, ended, now, result)
        return result
    state = verify_file(path, sha, size, s3)
    if seg is None:
        seg = Segment(
            camera_id=camera.id,
            institution_id=room.institution_id,
            started_at=started,
            expected_end=ended,
            received_at=now,
        )
        result.outcome = "created"
    else:
        result.outcome = "updated"
    seg.ended_at, seg.expected_end, seg.path, seg.sha256, seg.size = ended, ended, path or seg.path, sha, size
    seg.state, seg.verified_at = state, now
    db.add(seg)
    db.flush()
    result.segment_id, result.segment_state = seg.id, state
    h = _heartbeat(db, camera, room, ended, now, result)
    if state != "valid":
        audit.record(
            db,
            actor,
            "segment.rejected",
            "segment",
            seg.id,
            {
                "camera": camera.code,
                "room_code": room.code,
                "state": state,
                "started_at": started.isoformat(),
                "ended_at": ended.isoformat(),
                "path": seg.path,
            },
            now,
            room.institution_id,
        )
        # The state stays; the reason tells the proctors this stretch will be a gap.
        for bid in video.live_batches(db, room.id, now):
            result.events.append(
                (
                    bid,
                    "camera",
                    room.code,
                    {"camera": camera.code, "state": h.state, "reason": state, "segment_id": seg.id},
                )
            )
    return result


def camera_offline(db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime) -> HookResult:
    assert camera.id is not None
    at, reason = hook["at"], (hook.get("reason") or "offline")[:40]
    _check_times(at, now)
    result = HookResult("stored")
    span = db.exec(
        select(CameraOffline).where(CameraOffline.camera_id == camera.id, col(CameraOffline.ended_at).is_(None))
    ).first()
    if span is not None:
        if span.reason == reason:
            return result
        span.reason = reason  # e.g. a frozen picture became no signal at all
        result.outcome = "updated"
    elif (
        db.exec(
            select(CameraOffline.id).where(CameraOffline.camera_id == camera.id, CameraOffline.started_at == at)
        ).first()
        is not None
    ):
        return result  # an outage already reported and over
    else:
        span = CameraOffline(
            camera_id=camera.id,
            institution_id=room.institution_id,
            started_at=at,
            reason=reason,
            detected_at=hook.get("detected_at"),
            received_at=now,
        )
        result.outcome = "created"
    db.add(span)
    db.flush()
    h = _health(db, camera.id)
    _set_state(db, h, "offline", reason, now, room, camera, result)
    db.add(h)
    audit.record(
        db,
        actor,
        "camera.offline",
        "camera",
        camera.id,
        {"camera": camera.code, "room_code": room.code, "at": at.isoformat(), "reason": reason, "span_id": span.id},
        now,
        room.institution_id,
    )
    return result


def camera_online(db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime) -> HookResult:
    assert camera.id is not None
    at = hook["at"]
    _check_times(at, now)
    result = HookResult("stored")
    span = db.exec(
        select(CameraOffline).where(
            CameraOffline.camera_id == camera.id, col(CameraOffline.ended_at).is_(None), CameraOffline.started_at <= at
        )
    ).first()
    h = _health(db, camera.id)
    if span is not None:
        span.ended_at = at
        db.add(span)
        result.outcome = "updated"
        audit.record(
            db,
            actor,
            "camera.online",
            "camera",
            camera.id,
            {
                "camera": camera.code,
                "room_code": room.code,
                "at": at.isoformat(),
                "span_id": span.id,
                "offline_since": span.started_at.isoformat(),
            },
            now,
            room.institution_id,
        )
        _set_state(db, h, "recording", "", now, room, camera, result)
    elif h.state == "unknown" or (
        h.state == "offline"
        and db.exec(
            select(CameraOffline.id).where(CameraOffline.camera_id == camera.id, col(CameraOffline.ended_at).is_(None))
        ).first()
        is None
    ):
        _set_state(db, h, "recording", "", now, room, camera, result)
    db.add(h)
    db.flush()
    return result


# segment_finished is applied by _apply itself: it alone needs the store a file is checked in.
_APPLY = {
    "segment_started": segment_started,
    "camera_offline": camera_offline,
    "camera_online": camera_online,
}
