"""The plans' part in retention, handed to storage at start-up (R-ARCH-1, R-VIDEO-1).

A hold on a batch or a session keeps the video of every camera of its rooms
over the session windows, with the coverage margin: :func:`register` tells
:mod:`storage.providers` so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlmodel import Session, col, select

from examday.plans.models import Batch, ExamSession, SessionRoom
from examday.registry.models import Camera
from storage import providers
from storage.holds import HoldMatcher

# Video this close to a held session is held too: the coverage window's margin.
HOLD_MARGIN = timedelta(seconds=60)


def _windows(db: Session, where, matcher: HoldMatcher) -> None:
    rows = db.exec(
        select(Camera.id, ExamSession.starts_at, ExamSession.ends_at)
        .join(SessionRoom, col(SessionRoom.room_id) == Camera.room_id)
        .join(ExamSession, col(ExamSession.id) == SessionRoom.session_id)
        .where(where)
    ).all()
    for cam_id, starts, ends in rows:
        matcher.windows[cast(int, cam_id)].append((starts - HOLD_MARGIN, ends + HOLD_MARGIN))


class BatchHold:
    def institution_of(self, db: Session, object_id: int) -> int | None:
        b = db.get(Batch, object_id)
        if b is None:
            raise LookupError(object_id)
        return b.institution_id

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        _windows(db, ExamSession.batch_id == object_id, matcher)


class SessionHold:
    def institution_of(self, db: Session, object_id: int) -> int | None:
        s = db.get(ExamSession, object_id)
        b = db.get(Batch, s.batch_id) if s is not None else None
        if b is None:
            raise LookupError(object_id)
        return b.institution_id

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        _windows(db, ExamSession.id == object_id, matcher)


def register() -> None:
    providers.register_hold_target("batch", BatchHold())
    providers.register_hold_target("session", SessionHold())
