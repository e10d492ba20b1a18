"""Proctor's records under retention: video segments (R-VIDEO-1), handed to storage at start-up.

:func:`register` gives :mod:`storage.providers` the segments as a retention
source for the purge, and what a hold on a segment covers. The purge stamps a
segment purged and never deletes its row, so coverage can still say why a
stretch of footage is missing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import cast

from sqlalchemy import tuple_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from examday.clock import iso
from examday.registry.models import Camera, Room
from proctor.video_models import Segment
from storage import providers
from storage.holds import HoldMatcher
from storage.providers import Record
from storage.retention import RetentionClass

_COLUMNS = (
    col(Segment.id),
    col(Segment.camera_id),
    col(Segment.started_at),
    col(Segment.expected_end),
    col(Segment.path),
    col(Segment.state),
)


def _labels(db: Session, institution_id: int) -> dict[int, str]:
    return {
        cast(int, cid): f"{room}/{cam}"
        for cid, room, cam in db.exec(
            select(Camera.id, Room.code, Camera.code)
            .join(Room, col(Room.id) == Camera.room_id)
            .where(Room.institution_id == institution_id)
        ).all()
    }


def _record(row, labels: dict[int, str]) -> Record:
    sid, cam, start, end, path, state = row
    return Record(sid, f"{labels.get(cam, cam)} {iso(start)}", path, state, start, end, cam)


class Segments:
    """The video segments of an institution's cameras, as :class:`storage.providers.RetentionSource`."""

    kind = "segment"
    retention_class = RetentionClass.EXAM_VIDEO

    def due(self, engine: Engine, institution_id: int, before: datetime, chunk: int) -> Iterator[list[Record]]:
        # Keyset pagination on (started_at, id) over the partial index of unpurged rows
        # (ix_segment_purge): purged rows stay for coverage and are never walked again.
        with Session(engine) as db:
            labels = _labels(db, institution_id)
        after: tuple[datetime, int] | None = None
        while True:
            # A short transaction per chunk: the purge's own writes must not wait on this read.
            with Session(engine) as db:
                q = (
                    select(*_COLUMNS)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
                    .where(
                        Segment.institution_id == institution_id,
                        col(Segment.purged_at).is_(None),
                        Segment.started_at < before,
                    )
                    .order_by(col(Segment.started_at), col(Segment.id))
                    .limit(chunk)
                )
                if after is not None:
                    q = q.where(tuple_(Segment.started_at, Segment.id) > tuple_(*after))
                rows = db.exec(q).all()
            if not rows:
                return
            after = (rows[-1][2], rows[-1][0])
            yield [_record(r, labels) for r in rows]

    def unpurged(self, db: Session, ids: Collection[int]) -> dict[int, int]:
        rows = db.exec(
            select(col(Segment.id), Segment.institution_id).where(
                col(Segment.id).in_(ids), col(Segment.purged_at).is_(None)
            )
        ).all()
        return {cast(int, sid): iid for sid, iid in rows}

    def records(self, db: Session, institution_id: int, ids: Collection[int]) -> list[Record]:
        labels = _labels(db, institution_id)
        q = select(*_COLUMNS).where(col(Segment.id).in_(ids)).order_by(col(Segment.id))  # type: ignore[call-overload]
        rows = db.exec(q).all()
        return [_record(r, labels) for r in rows]

    def mark_purged(self, db: Session, ids: Collection[int], now: datetime) -> None:
        # Only a good recording becomes "purged"; a file already missing or altered keeps
        # saying so (R-VIDEO-1).
        db.exec(
            update(Segment)
            .where(col(Segment.id).in_(ids), col(Segment.state).in_(("valid", "open")))
            .values(state="purged")
        )
        db.exec(update(Segment).where(col(Segment.id).in_(ids)).values(purged_at=now))


class SegmentHold:
    """A hold on one segment keeps that segment."""

    def institution_of(self, db: Session, object_id: int) -> int | None:
        seg = db.get(Segment, object_id)
        if seg is None:
            raise LookupError(object_id)
        return seg.institution_id

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        matcher.record_ids["segment"].add(object_id)


def register() -> None:
    providers.register_source(Segments())
    providers.register_hold_target("segment", SegmentHold())
