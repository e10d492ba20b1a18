"""The cameras' live state (R-VIDEO-1): what the proctors' live view shows per camera —
``recording``, ``offline`` (reported by the recorder), ``stale`` (silent while a
session runs), ``unknown`` — and the silence limit a batch allows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Camera, Room
from proctor.video_models import CameraHealth

DEFAULT_STALE_SECONDS = 30
STALE_GRACE = timedelta(seconds=10)


def stale_after(batch: Batch) -> timedelta:
    """The batch's silence limit: ``camera_stale_seconds`` in its config, else 30 s."""
    return _stale_after(batch.config)


@lru_cache(maxsize=256)
def _stale_after(config: str | None) -> timedelta:
    # By the stored text (read for every live event): a changed plan is another key.
    try:
        value = json.loads(config or "{}").get("camera_stale_seconds")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        value = DEFAULT_STALE_SECONDS
    return timedelta(seconds=value)


class _Health(Protocol):
    """A ``CameraHealth``, or a row of the live feed's one query that carries its columns."""

    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def last_segment_at(self) -> datetime | None: ...
    @property
    def segment_seconds(self) -> float | None: ...


def _limit(base: timedelta, health: _Health | None) -> timedelta:
    # A recorder cutting 10-minute files is silent for 10 minutes by design.
    if health is not None and health.segment_seconds:
        return max(base, timedelta(seconds=health.segment_seconds) + STALE_GRACE)
    return base


# -- camera states ----------------------------------------------------------------------------


def _camera_rows(db: Session, batch_id: int):
    return db.exec(
        select(Room.code, Room.id, Camera.code, Camera.id, ExamSession.starts_at, ExamSession.ends_at)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .join(SessionRoom, SessionRoom.room_id == Room.id)
        .join(ExamSession, ExamSession.id == SessionRoom.session_id)
        .join(Camera, Camera.room_id == Room.id)
        .where(ExamSession.batch_id == batch_id)
        .order_by(Room.code, Camera.code)
    ).all()


def _state(health: _Health | None, running: bool, limit: timedelta, now: datetime) -> tuple[str, str]:
    if health is not None and health.state == "offline":
        return "offline", health.reason
    last = health.last_segment_at if health is not None else None
    if last is not None and now - last <= _limit(limit, health):
        return "recording", ""
    if running:
        return "stale", "no_segment" if last is not None else "never_reported"
    return "unknown", ""


# Built once with a bound parameter: the live feed runs it for every event.
_CAMERA_HEALTH = (
    select(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        col(Room.code).label("room_code"),
        col(Room.id).label("room_id"),
        col(Camera.code).label("camera_code"),
        col(Camera.id).label("camera_id"),
        ExamSession.starts_at,
        ExamSession.ends_at,
        CameraHealth.state,
        CameraHealth.reason,
        CameraHealth.last_segment_at,
        CameraHealth.segment_seconds,
    )
    .join(SessionRoom, SessionRoom.room_id == Room.id)
    .join(ExamSession, ExamSession.id == SessionRoom.session_id)
    .join(Camera, Camera.room_id == Room.id)
    .outerjoin(CameraHealth, CameraHealth.camera_id == Camera.id)
    .where(ExamSession.batch_id == bindparam("batch_id"))
    .order_by(Room.code, Camera.code)
)
_CAMERA_HEALTH_OF_ROOMS = _CAMERA_HEALTH.where(col(Room.code).in_(bindparam("room_codes", expanding=True)))


def camera_state_map(
    db: Session, batch_id: int, now: datetime, batch: Batch | None = None, room_codes: Collection[str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """{room_code: [{code, state, reason}]} for every camera of the batch's rooms (R-VIDEO-1),
    or of ``room_codes`` only.

    The live feed calls this for every event, so cameras and their health come in one query.
    """
    batch = batch if batch is not None else db.get(Batch, batch_id)
    if batch is None:
        return {}
    limit = stale_after(batch)
    if room_codes is None:
        rows = db.connection().execute(_CAMERA_HEALTH, {"batch_id": batch_id}).all()
    else:
        params = {"batch_id": batch_id, "room_codes": list(room_codes)}
        rows = db.connection().execute(_CAMERA_HEALTH_OF_ROOMS, params).all()
    running: set[int] = {r.room_id for r in rows if r.starts_at <= now < r.ends_at}
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    seen: set[int] = set()
    for r in rows:
        if r.camera_id in seen:
            continue
        seen.add(r.camera_id)
        health = r if r.state is not None else None  # the row stands in for its CameraHealth
        state, reason = _state(health, r.room_id in running, limit, now)
        room_code, cam_code = r.room_code, r.camera_code
        out[room_code].append({"code": cam_code, "state": state, "reason": reason})
    return dict(out)
