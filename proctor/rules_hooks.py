"""What a recorder hook (录像回调) may say: its shape, its times and where its file is
(R-VIDEO-1, R-AUDIT-1). Plain functions; :mod:`proctor.services.hooks` applies them.

Issue #14, finding 3: a signed hook used to be believed about anything. Now

* its times (``at``, ``started_at``, ``ended_at``, ``detected_at``) lie within the
  camera's life: not before it was registered (a segment stamped in 1990 would be
  past every retention period, its file purged at the next run) and
  not in the future beyond :data:`FUTURE_SKEW` (coverage reported ahead of time);
* a local segment file resolves, symlinks followed, inside the video folders
  (``EXAMDAY_VIDEO_DIRS``, unset the data folder's ``video``), and an ``s3://``
  object lies under ``EXAMDAY_VIDEO_S3_PREFIXES`` when they are set
  (:func:`storage.video_files.location_refusal`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from examday.clock import iso, parse_iso
from examday.errors import Refusal
from storage import video_files

EVENTS = ("segment_started", "segment_finished", "camera_offline", "camera_online")
TIMES = ("at", "started_at", "ended_at", "detected_at")
# A recorder's clock may run a little ahead of the server's; more than this is a wrong clock
# or coverage claimed before it was recorded.
FUTURE_SKEW = timedelta(minutes=5)
MAX_SEGMENT = timedelta(hours=6)  # the coverage query looks this far back (proctor.services.video)


def bad_signature() -> Refusal:
    return Refusal("bad_signature", "回调签名无效", "The hook's signature is missing or wrong.", "R-AUDIT-1", 401)


def invalid(en: str, **detail: Any) -> Refusal:
    return Refusal("invalid_hook", "回调内容无效", en, "R-VIDEO-1", 422, detail)


def parse(body: bytes) -> dict[str, Any]:
    """The hook's JSON with its times parsed, or 422 ``invalid_hook``."""
    try:
        hook = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid("The body is not JSON.") from None
    if not isinstance(hook, dict):
        raise invalid("The body must be a JSON object.")
    if hook.get("event") not in EVENTS:
        raise invalid("Unknown event.", event=str(hook.get("event"))[:40], known=list(EVENTS))
    for name in ("camera", "room_code"):
        value = hook.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 40:
            raise invalid(f"{name} is required.", field=name)
    hid = hook.get("id")
    if hid is not None and (not isinstance(hid, str) or not 1 <= len(hid) <= 64):
        raise invalid("id must be a string of at most 64 characters.", field="id")
    for name in TIMES:
        value = hook.get(name)
        if value is None:
            if name == "at":
                raise invalid("at is required.", field="at")
            continue
        try:
            hook[name] = parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            hook[name] = None
        if hook[name] is None:
            raise invalid(f"{name} is not an ISO 8601 time.", field=name)
    for name in ("bytes", "segment_seconds"):
        value = hook.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise invalid(f"{name} must be a non-negative number.", field=name)
    for name in ("path", "sha256", "reason", "institution"):
        value = hook.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid(f"{name} must be a string.", field=name)
    return hook


def check_times(hook: dict[str, Any], now: datetime, since: datetime) -> None:
    """Every time the hook gives lies between ``since`` (the camera's registration,
    :func:`proctor.services.hooks.camera_since`) and
    ``now`` plus :data:`FUTURE_SKEW` (R-VIDEO-1, issue #14): 422 ``hook_time_in_future`` or
    ``hook_time_before_camera``."""
    for name in TIMES:
        t = hook.get(name)
        if t is None:
            continue
        if t > now + FUTURE_SKEW:
            raise Refusal(
                "hook_time_in_future",
                "回调时间晚于服务器时间，请校准录像机时钟",
                "A time in the hook is in the future; check the recorder's clock.",
                "R-VIDEO-1",
                422,
                {"field": name, "server_time": iso(now), "skew_seconds": FUTURE_SKEW.total_seconds()},
            )
        if t < since:
            raise Refusal(
                "hook_time_before_camera",
                "回调时间早于该摄像头登记的时间",
                "A time in the hook is before the camera was registered.",
                "R-VIDEO-1",
                422,
                {"field": name, "registered_at": iso(since)},
            )


def check_span(started: datetime, ended: datetime) -> None:
    """A finished segment ends after it starts and lasts at most :data:`MAX_SEGMENT`."""
    if not started < ended <= started + MAX_SEGMENT:
        raise invalid(
            "A segment ends after it starts and lasts at most 6 hours.", max_seconds=MAX_SEGMENT.total_seconds()
        )


def check_location(location: str, places: video_files.VideoPlaces) -> None:
    """A segment's file lies where video may be (R-VIDEO-1, issue #14), or 422
    ``path_outside_video_dirs``: resolved, symlinks followed, inside the video folders; an
    ``s3://`` object outside the blob store and, when set, under the video prefixes."""
    if not location:
        return
    why = video_files.location_refusal(location, places)
    if why is not None:
        raise Refusal(
            "path_outside_video_dirs",
            "录像文件不在允许的录像目录内",
            "The segment's file is not inside the video folders (EXAMDAY_VIDEO_DIRS, unset the data "
            "folder's video) or the video S3 prefixes.",
            "R-VIDEO-1",
            422,
            {"why": why},
        )
