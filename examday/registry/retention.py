"""The registry's part in retention, handed to storage at start-up (R-ARCH-1, R-VIDEO-1).

:func:`register` tells :mod:`storage.providers` each institution's retention
profile, and what a hold on an institution (everything it has) or on a camera
(all of its video) covers.
"""

from __future__ import annotations

from typing import cast

from sqlmodel import Session, col, select

from examday.registry.models import Camera, Institution, Room
from storage import providers
from storage.holds import HoldMatcher


def profiles(db: Session, only: int | None = None) -> list[tuple[int, str | None]]:
    q = select(col(Institution.id), Institution.profile).order_by(col(Institution.id))
    if only is not None:
        q = q.where(Institution.id == only)
    return [(cast(int, iid), profile) for iid, profile in db.exec(q).all()]


class InstitutionHold:
    """An inquiry: a hold on the institution keeps everything of it."""

    def institution_of(self, db: Session, object_id: int) -> int | None:
        inst = db.get(Institution, object_id)
        if inst is None:
            raise LookupError(object_id)
        return inst.id

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        matcher.everything = True


class CameraHold:
    """A hold on a camera keeps all of its video."""

    def institution_of(self, db: Session, object_id: int) -> int | None:
        cam = db.get(Camera, object_id)
        room = db.get(Room, cam.room_id) if cam is not None else None
        if room is None:
            raise LookupError(object_id)
        return room.institution_id

    def cover(self, db: Session, object_id: int, matcher: HoldMatcher) -> None:
        matcher.channels.add(object_id)


def register() -> None:
    providers.register_profiles(profiles)
    providers.register_hold_target("institution", InstitutionHold())
    providers.register_hold_target("camera", CameraHold())
