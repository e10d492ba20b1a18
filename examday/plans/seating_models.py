"""Seating records beyond the allocation itself: a theory room taken out of use
on the exam day (停用考场) and every seat change that followed (调整座位).

R-DAY-2 / R-SEAT-1: a candidate sits only at the seat on their ticket, so a
seat that changes after allocation is recorded with who, when, why and the
seed of the relocation. The proctors' own in-room moves during a sitting are
``proctor.models.SeatMove``; these are the exam office's, before it starts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class RoomDrop(SQLModel, table=True):
    """A theory room dropped from a batch on the day; later allocations leave it out."""

    __table_args__ = (UniqueConstraint("batch_id", "room_id"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    room_id: int = Field(foreign_key="room.id")
    reason: str = Field(max_length=500)
    seed: int
    moved: int = 0
    adjacent_pairs: int = 0  # same-organisation neighbours after the moves
    at: datetime = Field(sa_type=UTCDateTime)
    account_id: int | None = None


class SeatChange(SQLModel, table=True):
    """One candidate moved from an allocated seat to another by the exam office."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    part: str = Field(default="theory", max_length=10)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="seatingrun.id")  # the allocation it changed
    drop_id: int | None = Field(default=None, foreign_key="roomdrop.id", index=True)
    from_room_id: int = Field(foreign_key="room.id")
    from_seat: int
    to_room_id: int = Field(foreign_key="room.id")
    to_seat: int
    reason: str = Field(max_length=500)
    at: datetime = Field(sa_type=UTCDateTime)
    account_id: int | None = None
