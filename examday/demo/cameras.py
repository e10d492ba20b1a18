"""The demo's cameras: every camera of today's rooms reports its segments as a recorder would.

Each camera cuts a segment every ``segment_seconds`` (10 s, as
``examday-recorder`` does by default), writes a small file for it under
``<data_dir>/video/<room>/<camera>/<date>/`` and reports ``segment_started``
and ``segment_finished`` through the real, HMAC-signed hook
(``POST /api/v1/hooks/recorder``, proctor/services/hooks.py). The server checks each
finished file's size and SHA-256 on disk, so coverage is earned (R-VIDEO-1).

A room's cameras record from two minutes before its first entry window opens
until two minutes after its last session today ends. One theory camera goes
quiet for five minutes around the start of the first sitting still ahead, so
the stale-camera alert and the coverage gap it leaves are true.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from examday.clock import CST
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Camera, Institution, Room
from proctor.hooks_sign import SIGNATURE_HEADER, sign

HOOK_PATH = "/api/v1/hooks/recorder"
SEGMENT_SECONDS = 10.0
AROUND = timedelta(minutes=2)  # recording starts before a room's window opens and runs on after its end
QUIET_BEFORE, QUIET_FOR = timedelta(minutes=1), timedelta(minutes=5)


@dataclass
class CameraRun:
    room_code: str
    camera_code: str
    start: datetime
    end: datetime
    quiet: tuple[datetime, datetime] | None = None
    open_since: datetime | None = None  # the segment being cut

    def records_at(self, t: datetime) -> bool:
        if not self.start <= t < self.end:
            return False
        return self.quiet is None or not self.quiet[0] <= t < self.quiet[1]


@dataclass
class Cameras:
    """The segment clock of every camera in use today, ticking on one grid."""

    runs: list[CameraRun]
    uscc: str
    out_dir: Path
    secret: str
    seconds: float = SEGMENT_SECONDS
    next_tick: datetime | None = None
    reported: dict[str, int] = field(default_factory=dict)  # outcome -> count

    @property
    def quiet(self) -> CameraRun | None:
        return next((r for r in self.runs if r.quiet), None)

    def due(self) -> datetime | None:
        return self.next_tick

    def tick(self, post: Callable[[str, bytes, dict[str, str]], tuple[int, dict[str, Any]]]) -> None:
        """Close the segments that end now, open the next ones; one grid step."""
        t = self.next_tick
        if t is None:
            return
        for run in self.runs:
            if run.open_since is not None:
                self._finish(run, run.open_since, t, post)
                run.open_since = None
            if run.records_at(t):
                self._hook(
                    post,
                    run,
                    "segment_started",
                    t,
                    started_at=t.isoformat(),
                    path=str(self._path(run, t)),
                    segment_seconds=self.seconds,
                )
                run.open_since = t
        later = t + timedelta(seconds=self.seconds)
        busy = any(r.open_since is not None or r.end > later for r in self.runs)
        self.next_tick = later if busy else None

    def _path(self, run: CameraRun, started: datetime) -> Path:
        folder = self.out_dir / run.room_code / run.camera_code / f"{started:%Y-%m-%d}"
        return folder / f"{started:%H%M%S.%f}Z.seg"

    def _finish(self, run: CameraRun, started: datetime, ended: datetime, post) -> None:
        path = self._path(run, started)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A stand-in for the video: small, but a real file whose size and hash the server checks.
        body = (
            f"examday demo segment {run.room_code}/{run.camera_code} {started.isoformat()} {ended.isoformat()}\n"
        ).encode() + os.urandom(384)
        path.write_bytes(body)
        self._hook(
            post,
            run,
            "segment_finished",
            ended,
            started_at=started.isoformat(),
            ended_at=ended.isoformat(),
            path=str(path),
            sha256=hashlib.sha256(body).hexdigest(),
            bytes=len(body),
        )

    def _hook(self, post, run: CameraRun, event: str, at: datetime, **extra: Any) -> None:
        payload = {
            "id": uuid.uuid4().hex,
            "event": event,
            "camera": run.camera_code,
            "room_code": run.room_code,
            "institution": self.uscc,
            "at": at.isoformat(),
            **extra,
        }
        body = json.dumps(payload).encode()
        status, answer = post(
            HOOK_PATH, body, {SIGNATURE_HEADER: sign(body, self.secret), "Content-Type": "application/json"}
        )
        key = answer.get("segment_state") or answer.get("code") or f"http_{status}"
        self.reported[key] = self.reported.get(key, 0) + 1


def plan_cameras(
    db: Session,
    now: datetime,
    out_dir: Path,
    secret: str,
    seconds: float = SEGMENT_SECONDS,
    quiet_camera: str | None = "T03-C2",
) -> Cameras | None:
    """Recording spans for the cameras of every room in use today from ``now`` on, or None."""
    today = now.astimezone(CST).date()
    rows = db.exec(
        select(Batch, ExamSession, Room)
        .join(ExamSession, col(ExamSession.batch_id) == Batch.id)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id)
        .join(Room, col(Room.id) == SessionRoom.room_id)
        .where(Batch.exam_date == today, Batch.status == "filed")
    ).all()
    spans: dict[int, list[datetime]] = {}
    rooms: dict[int, Room] = {}
    theory_starts = []
    for batch, s, room in rows:
        assert room.id is not None
        opens = s.starts_at - timedelta(minutes=BatchConfig.from_json(batch.config).entry_open_minutes)
        lo, hi = spans.get(room.id, [opens - AROUND, s.ends_at + AROUND])
        spans[room.id] = [min(lo, opens - AROUND), max(hi, s.ends_at + AROUND)]
        rooms[room.id] = room
        if s.part == "theory" and s.starts_at - QUIET_BEFORE > now:
            theory_starts.append(s.starts_at)
    runs = []
    for rid, (lo, hi) in spans.items():
        if hi <= now:
            continue
        for cam in db.exec(select(Camera).where(Camera.room_id == rid).order_by(Camera.code)).all():
            runs.append(CameraRun(rooms[rid].code, cam.code, max(lo, now), hi))
    if not runs:
        return None
    quiet = next((r for r in runs if r.camera_code == quiet_camera), None)
    if quiet is not None and theory_starts:
        first = min(theory_starts)
        quiet.quiet = (first - QUIET_BEFORE, first - QUIET_BEFORE + QUIET_FOR)
    inst = db.exec(
        select(Institution).join(Room, col(Room.institution_id) == Institution.id).where(Room.id == next(iter(rooms)))
    ).one()
    first_tick = min(r.start for r in runs)
    return Cameras(
        sorted(runs, key=lambda r: (r.room_code, r.camera_code)),
        inst.uscc,
        out_dir,
        secret,
        seconds,
        next_tick=first_tick,
    )
