"""Video coverage of a batch and the cameras' live state (全程监控, R-VIDEO-1).

* :func:`batch_coverage` — ``GET /api/v1/batches/{bid}/coverage``: for each
  session, room and camera, the valid segments' union over the session window
  (with a margin), the gaps longer than the tolerance and each gap's cause,
  computed by :func:`proctor.coverage.coverage_by_camera` from the rows the
  hooks left. While a session runs it is judged up to now.
* :func:`camera_state_map` — what the proctors' live view shows per camera:
  ``recording``, ``offline`` (reported by the recorder), ``stale`` (silent
  while a session runs), ``unknown``.
* :func:`check_stale` — run every few seconds by the app (:func:`video_lifespan`):
  a camera with no new segment within the batch's ``camera_stale_seconds``
  (default 30, widened to the camera's segment length) during a session goes
  ``stale`` once, on the audit chain and as a live ``camera`` event.
* :func:`proctor.services.video_verify.verify_segments` — checks again that the
  files of a batch's valid segments are still there (and, deep, still hash the same).

The cameras' states are computed in :mod:`proctor.services.camera_states`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, cast, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from examday import audit
from examday.access import batch_view
from examday.actor import SYSTEM, Actor
from examday.clock import iso
from examday.plans.config import BatchConfig
from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Camera, Room
from examday.rows import row_id
from examday.ticker import ticking
from proctor.coverage import (
    DEFAULT_MARGIN,
    DEFAULT_TOLERANCE,
    OfflineSpan,
    SegmentFact,
    coverage_by_camera,
    stale_cameras,
)
from proctor.rules_hooks import MAX_SEGMENT  # the hook refuses longer: the coverage query looks this far back
from proctor.services.camera_states import _camera_rows, _limit, camera_state_map, stale_after
from proctor.video_models import CameraHealth, CameraOffline, Segment

__all__ = ["MAX_SEGMENT", "batch_coverage", "camera_state_map", "check_stale", "live_batches", "stale_after"]

log = logging.getLogger("examday.proctor.video")

STALE_CHECK_SECONDS = 5.0


def live_batches(db: Session, room_id: int, now: datetime) -> list[int]:
    """Batches with a session in that room from entry opening to the window's end."""
    rows = db.exec(
        select(Batch, ExamSession.starts_at, ExamSession.ends_at)
        .join(ExamSession, col(ExamSession.batch_id) == Batch.id)
        .join(SessionRoom, col(SessionRoom.session_id) == ExamSession.id)
        .where(
            SessionRoom.room_id == room_id,
            ExamSession.ends_at >= now - DEFAULT_MARGIN,
            ExamSession.starts_at <= now + timedelta(hours=12),
            Batch.status != "draft",
        )
    ).all()
    out: list[int] = []
    for batch, starts, ends in rows:
        assert batch.id is not None
        opens = timedelta(minutes=BatchConfig.from_json(batch.config).entry_open_minutes)
        if starts - opens <= now <= ends + DEFAULT_MARGIN and batch.id not in out:
            out.append(batch.id)
    return out


# -- coverage ---------------------------------------------------------------------------------


def _facts(
    db: Session, camera_ids: list[int], ws: datetime, we: datetime
) -> tuple[list[SegmentFact], list[OfflineSpan], int]:
    # A batch's day is some 60,000 rows: read through Core, without the ORM's row loading,
    # and the two times without UTCDateTime's per-value conversion, which would cost more
    # than the coverage itself. SQLite hands back the stored UTC text; PostgreSQL aware times.
    sqlite = db.get_bind().dialect.name == "sqlite"
    start, end = (
        (cast(c, String) if sqlite else type_coerce(c, DateTime(timezone=True)))
        for c in (Segment.started_at, Segment.expected_end)
    )
    # (camera id, start, end, state): the times are UTC text on SQLite, until converted below.
    segs: Sequence[Any] = (
        db.connection()
        .execute(
            select(Segment.camera_id, start, end, Segment.state).where(
                col(Segment.camera_id).in_(camera_ids), Segment.started_at >= ws - MAX_SEGMENT, Segment.started_at < we
            )
        )
        .all()
    )
    if sqlite:
        utc = datetime.fromisoformat
        segs = [(c, utc(s + "+00:00"), utc(e + "+00:00"), st) for c, s, e, st in segs]
    facts = [SegmentFact(str(c), s, e, st) for c, s, e, st in segs if e > ws]
    spans = db.exec(
        select(CameraOffline.camera_id, CameraOffline.started_at, CameraOffline.ended_at)
        .where(col(CameraOffline.camera_id).in_(camera_ids), CameraOffline.started_at < we)
        .where((col(CameraOffline.ended_at).is_(None)) | (col(CameraOffline.ended_at) > ws))
    ).all()
    return facts, [OfflineSpan(str(c), s, e) for c, s, e in spans], len(segs)


def _span(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds(), 3)


def batch_coverage(
    db: Session,
    actor: Actor,
    batch_id: int,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    margin: timedelta = DEFAULT_MARGIN,
) -> dict[str, Any]:
    """Coverage of every session, room and camera of the batch the actor may see (R-VIDEO-1)."""
    view = batch_view(db, actor, batch_id)
    states = camera_state_map(db, batch_id, now)
    sessions = db.exec(
        select(ExamSession)
        .where(ExamSession.batch_id == batch_id)
        .order_by(col(ExamSession.starts_at), col(ExamSession.id))
    ).all()
    out_sessions = []
    for s in sessions:
        rooms = [
            r
            for r in db.exec(
                select(Room)
                .join(SessionRoom, col(SessionRoom.room_id) == Room.id)
                .where(SessionRoom.session_id == s.id)
                .order_by(Room.code)
            ).all()
            if view.sees(r.code)
        ]
        if not rooms:
            continue
        cams = db.exec(select(Camera).where(col(Camera.room_id).in_([r.id for r in rooms])).order_by(Camera.code)).all()
        ws, we = s.starts_at - margin, s.ends_at + margin
        facts, spans, n = _facts(db, [row_id(c) for c in cams], ws, we) if cams else ([], [], 0)
        result = coverage_by_camera(
            [str(c.id) for c in cams], s.starts_at, s.ends_at, facts, spans, margin=margin, tolerance=tolerance, now=now
        )
        by_room: dict[int, list[Camera]] = defaultdict(list)
        for c in cams:
            by_room[c.room_id].append(c)
        room_out = []
        for r in rooms:
            assert r.id is not None
            cam_out = []
            live = {c["code"]: c["state"] for c in states.get(r.code, [])}
            for c in by_room[r.id]:
                cov = result[str(c.id)]
                assert cov.window_end is not None
                covered = sum(_span(a, b) for a, b in cov.covered)
                cam_out.append(
                    {
                        "code": c.code,
                        "name": c.name,
                        "state": live.get(c.code, "unknown"),
                        "complete": cov.complete,
                        "covered": [{"start": iso(a), "end": iso(b)} for a, b in cov.covered],
                        "gaps": [
                            {
                                "start": iso(g.start),
                                "end": iso(g.end),
                                "cause": g.cause,
                                "seconds": _span(g.start, g.end),
                            }
                            for g in cov.gaps
                        ],
                        "covered_seconds": round(covered, 3),
                        "window_seconds": _span(cov.window_start, cov.window_end) if cov.window_start else 0.0,
                    }
                )
            # R-VIDEO-1: a room no camera watches cannot be complete.
            room_out.append(
                {
                    "code": r.code,
                    "name": r.name,
                    "cameras": cam_out,
                    "complete": bool(cam_out) and all(c["complete"] for c in cam_out),
                    "problem": None if cam_out else "no_camera",
                }
            )
        judged_until = min(now, we)
        out_sessions.append(
            {
                "id": s.id,
                "part": s.part,
                "starts_at": iso(s.starts_at),
                "ends_at": iso(s.ends_at),
                "window_start": iso(ws),
                "window_end": iso(we),
                "judged_until": iso(max(judged_until, ws)),
                "final": now >= we,
                "started": now > ws,  # before it, nothing is judged: the page says 未开始 (issue #16)
                "segments": n,
                "rooms": room_out,
                "complete": all(r["complete"] for r in room_out),
            }
        )
    return {
        "batch_id": batch_id,
        "tolerance_seconds": tolerance.total_seconds(),
        "margin_seconds": margin.total_seconds(),
        "generated_at": iso(now),
        "sessions": out_sessions,
        "complete": bool(out_sessions) and all(s["complete"] for s in out_sessions),
        "final": bool(out_sessions) and all(s["final"] for s in out_sessions),
    }


def check_stale(state, now: datetime) -> list[tuple[str, str]]:
    """Mark cameras silent during a running session ``stale``, once each (R-VIDEO-1).

    ``state`` is the app's state (engine, events). Returns the (room code,
    camera code) pairs this call marked; another server process racing it
    marks each camera once, by the conditional update. Events go out after
    the session is closed: the feed's enricher reads the database too.
    """
    marked: list[tuple[str, str]] = []
    outbox: list[tuple[int, str, str, str]] = []
    with Session(state.engine, expire_on_commit=False) as db:
        running = db.exec(
            select(ExamSession, Batch)
            .join(Batch, col(Batch.id) == ExamSession.batch_id)
            .where(ExamSession.starts_at <= now, ExamSession.ends_at > now, Batch.status != "draft")
        ).all()
        # camera id -> (silence limit, room code, camera code, institution, batches to tell)
        watch: dict[int, tuple[timedelta, str, str, int, set[int]]] = {}
        for s, batch in running:
            assert batch.id is not None
            limit = stale_after(batch)
            for room_code, _, cam_code, cam_id, starts, ends in _camera_rows(db, batch.id):
                if (starts, ends) != (s.starts_at, s.ends_at):
                    continue  # a room of another session of the batch
                prev = watch.get(cam_id)
                batches = (prev[4] if prev else set()) | {batch.id}
                watch[cam_id] = (
                    min(limit, prev[0]) if prev else limit,
                    room_code,
                    cam_code,
                    batch.institution_id,
                    batches,
                )
        healths = (
            {h.camera_id: h for h in db.exec(select(CameraHealth).where(col(CameraHealth.camera_id).in_(list(watch))))}
            if watch
            else {}
        )
        groups: dict[timedelta, dict[str, datetime | None]] = defaultdict(dict)
        for cam_id, (limit, *_rest) in watch.items():
            h = healths.get(cam_id)
            if h is not None and h.state in ("offline", "stale"):
                continue
            groups[_limit(limit, h)][str(cam_id)] = h.last_segment_at if h is not None else None
        for limit, last in groups.items():
            for key in stale_cameras(last, now, limit):
                cam_id = int(key)
                _, room_code, cam_code, iid, batches = watch[cam_id]
                reason = "no_segment" if last[key] is not None else "never_reported"
                if not _mark_stale(db, cam_id, reason, now):
                    db.rollback()
                    continue
                audit.record(
                    db,
                    SYSTEM,
                    "camera.stale",
                    "camera",
                    cam_id,
                    {"camera": cam_code, "room_code": room_code, "reason": reason, "last_segment_at": iso(last[key])},
                    now,
                    iid,
                )
                db.commit()
                marked.append((room_code, cam_code))
                outbox.extend((bid, room_code, cam_code, reason) for bid in sorted(batches))
        db.commit()
    for bid, room_code, cam_code, reason in outbox:
        state.events.publish(bid, "camera", room_code, camera=cam_code, state="stale", reason=reason)
    return marked


def _mark_stale(db: Session, camera_id: int, reason: str, now: datetime) -> bool:
    done = db.exec(
        update(CameraHealth)
        .where(col(CameraHealth.camera_id) == camera_id, col(CameraHealth.state).in_(("recording", "unknown")))
        .values(state="stale", reason=reason, changed_at=now)
    ).rowcount
    if done:
        return True
    if db.get(CameraHealth, camera_id) is not None:
        return False
    db.add(CameraHealth(camera_id=camera_id, state="stale", reason=reason, changed_at=now))
    try:
        db.flush()
    except IntegrityError:  # a hook or another process made the row meanwhile
        db.rollback()
        return False
    return True


@asynccontextmanager
async def video_lifespan(app) -> AsyncIterator[None]:
    """Runs :func:`check_stale` every few seconds while the app is up."""
    async with ticking(app.state, STALE_CHECK_SECONDS, check_stale, "stale camera check"):
        yield
