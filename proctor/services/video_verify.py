"""Checking again the files of a batch's segments (R-VIDEO-1, R-AUDIT-1):
``POST /api/v1/batches/{bid}/coverage/verify``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from examday import audit
from examday.access import batch_view
from examday.actor import Actor
from examday.plans.models import ExamSession, SessionRoom
from examday.registry.models import Camera, Room
from proctor.coverage import DEFAULT_MARGIN
from proctor.rules_hooks import MAX_SEGMENT
from proctor.services.hook_events import verify_file
from proctor.video_models import Segment
from storage import video_files
from storage.blobs_s3 import S3Config


def verify_segments(
    db: Session, actor: Actor, batch_id: int, now: datetime, deep: bool = False, *, s3: S3Config
) -> dict[str, Any]:
    """Check again the files of the batch's segments (R-VIDEO-1, R-AUDIT-1), ``s3://`` ones in
    the store ``s3`` connects to (the settings' ``s3``).

    A valid segment whose file is gone becomes ``file_missing``; with ``deep``
    every finished file is hashed again, and one that changed becomes
    ``checksum_mismatch`` (or valid again if it was restored). Each change is
    audited. The caller commits.
    """
    view = batch_view(db, actor, batch_id)
    checked, changed = 0, defaultdict[str, int](int)
    for s in db.exec(select(ExamSession).where(ExamSession.batch_id == batch_id)).all():
        cams = db.exec(
            select(Camera, Room)
            .join(Room, col(Room.id) == Camera.room_id)
            .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
            .where(SessionRoom.session_id == s.id)
        ).all()
        cams = [(c, r) for c, r in cams if view.sees(r.code)]
        ws, we = s.starts_at - DEFAULT_MARGIN, s.ends_at + DEFAULT_MARGIN
        states = ("valid", "file_missing", "checksum_mismatch") if deep else ("valid",)
        for cam, room in cams:
            segs = db.exec(
                select(Segment).where(
                    Segment.camera_id == cam.id,
                    col(Segment.state).in_(states),
                    col(Segment.purged_at).is_(None),
                    Segment.started_at >= ws - MAX_SEGMENT,
                    Segment.started_at < we,
                )
            ).all()
            for seg in segs:
                checked += 1
                if deep:
                    new = verify_file(seg.path, seg.sha256, seg.size, s3)
                else:
                    new = seg.state if seg.path and _exists(seg.path, s3) else "file_missing"
                if new == seg.state:
                    continue
                audit.record(
                    db,
                    actor,
                    "segment.reverified",
                    "segment",
                    seg.id,
                    {"camera": cam.code, "room_code": room.code, "state": [seg.state, new]},
                    now,
                    room.institution_id,
                )
                changed[new] += 1
                seg.state, seg.verified_at = new, now
                db.add(seg)
    db.flush()
    return {"batch_id": batch_id, "checked": checked, "changed": dict(changed), "deep": deep}


def _exists(path: str, s3: S3Config) -> bool:
    return video_files.exists(path, s3)  # a path here or an s3:// object (HEAD)
