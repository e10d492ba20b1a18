"""The four recorder hook events (录像回调) and what each changes (R-VIDEO-1, R-AUDIT-1):
``segment_started``, ``segment_finished`` (whose file is checked here, in this
machine's video folders or the S3-compatible store), ``camera_offline`` and
``camera_online``. :mod:`proctor.services.hooks` authenticates, parses and
dedupes a hook before one of these applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.actor import Actor
from examday.errors import conflict
from examday.events import Queued
from examday.registry.models import Camera, Room
from proctor.rules_hooks import MAX_SEGMENT, check_location, check_span, invalid
from proctor.services import video
from proctor.video_models import CameraHealth, CameraOffline, Segment
from storage import video_files
from storage.blobs_s3 import S3Config
from storage.video_files import VideoPlaces

# An open segment is trusted for its announced length plus this, then it is overdue.
FINISH_GRACE = timedelta(seconds=10)
DEFAULT_SEGMENT_SECONDS = 60.0


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


def segment_started(
    db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime, places: VideoPlaces
) -> HookResult:
    assert camera.id is not None
    started = hook.get("started_at") or hook["at"]
    check_location(hook.get("path") or "", places)
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
    db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime, places: VideoPlaces
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
        raise invalid("segment_finished needs started_at (or the path of a started segment).", field="started_at")
    ended = hook.get("ended_at") or hook["at"]
    check_span(started, ended)
    check_location(path, places)
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
    state = verify_file(path, sha, size, places.s3)
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


def camera_offline(
    db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime, places: VideoPlaces
) -> HookResult:
    assert camera.id is not None
    at, reason = hook["at"], (hook.get("reason") or "offline")[:40]
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


def camera_online(
    db: Session, actor: Actor, hook: dict, camera: Camera, room: Room, now: datetime, places: VideoPlaces
) -> HookResult:
    assert camera.id is not None
    at = hook["at"]
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


APPLY = {
    "segment_started": segment_started,
    "segment_finished": segment_finished,
    "camera_offline": camera_offline,
    "camera_online": camera_online,
}
