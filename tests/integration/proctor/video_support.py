"""Helpers for the video tests: an exam world with accounts, real segment files and
signed recorder hooks sent through the real endpoint."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from examday.clock import CST
from examday.plans.models import ExamSession
from proctor.hooks_sign import SIGNATURE_HEADER, sign
from tests import builders
from tests.support import bearer

SECRET = "test-hook-secret"  # the settings fixture's hook secret
EXAM_DAY = date(2026, 11, 26)  # the clock fixture's day; theory 09:00-10:30 in T01 and T02


def at(hh: int, mm: int, ss: float = 0, day: date = EXAM_DAY) -> datetime:
    return datetime.combine(day, time(hh, mm), CST) + timedelta(seconds=ss)


def post_hook(client, payload: dict[str, Any], secret: str | None = SECRET, signature: str | None = None):
    body = json.dumps(payload, default=str).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    elif secret is not None:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    return client.post("/api/v1/hooks/recorder", content=body, headers=headers)


def hook(event: str, camera: str, at_: datetime, **extra: Any) -> dict[str, Any]:
    room = camera.split("-")[0]
    out = {"id": uuid.uuid4().hex, "event": event, "camera": camera, "room_code": room, "at": at_.isoformat()}
    out.update({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in extra.items()})
    return out


def write_file(folder: Path, size: int = 4096) -> tuple[str, str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    p = folder / f"{uuid.uuid4().hex}.mp4"
    p.write_bytes(data)
    return str(p), hashlib.sha256(data).hexdigest(), size


def record_segment(
    client,
    folder: Path,
    camera: str,
    start: datetime,
    end: datetime,
    *,
    missing: bool = False,
    tamper: bool = False,
    started_hook: bool = True,
) -> dict[str, Any]:
    """A segment as a recorder reports it: started, file written, finished with its hash."""
    path, sha, size = write_file(folder)
    if started_hook:
        r = post_hook(
            client,
            hook(
                "segment_started",
                camera,
                start,
                started_at=start,
                path=path,
                segment_seconds=(end - start).total_seconds(),
            ),
        )
        assert r.status_code == 200, r.text
    if tamper:
        sha = hashlib.sha256(b"something else").hexdigest()
    if missing:
        Path(path).unlink()
    r = post_hook(
        client, hook("segment_finished", camera, end, started_at=start, ended_at=end, path=path, sha256=sha, bytes=size)
    )
    assert r.status_code == 200, r.text
    return {**r.json(), "path": path}


def record_span(client, folder: Path, camera: str, start: datetime, end: datetime, step: timedelta) -> list[str]:
    paths = []
    t = start
    while t < end:
        paths.append(record_segment(client, folder, camera, t, min(t + step, end))["path"])
        t += step
    return paths


@dataclass
class VideoWorld:
    institution_id: int
    batch_id: int
    session_id: int
    skill_session_id: int
    camera_ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])


def video_world(db: Session, world, now: datetime) -> VideoWorld:
    from examday.registry.models import Camera

    w = builders.exam_world(db, now, EXAM_DAY, n_candidates=4)
    sessions = db.exec(
        select(ExamSession).where(ExamSession.batch_id == w["batch"].id).order_by(ExamSession.starts_at)
    ).all()
    cams = {c.code: c.id for c in db.exec(select(Camera)).all()}
    vw = VideoWorld(w["institution"].id, w["batch"].id, sessions[0].id, sessions[1].id, cams)
    db.commit()  # SQLite transactions are BEGIN IMMEDIATE: never hold one while the server works
    p = w["staff"]["proctor"]
    iid = vw.institution_id
    vw.tokens = {
        "admin": world.token("office", "admin", iid),
        "p1": world.token("proctor-t01", "proctor", iid, staff_id=p[0].id),
        "p3": world.token("proctor-t02", "proctor", iid, staff_id=p[2].id),
        "kiosk": world.token("kiosk1", "kiosk", iid),
        "supervisor": world.token("supervisor", "supervisor", iid),
        "centre": world.token("centre-jl", "centre", None, province="吉林"),
    }
    return vw
