"""Tables of the recorder hooks (录像回调) and what they tell: segments, offline
spans, the hooks received, and each camera's health (R-VIDEO-1, R-AUDIT-1).

A segment row is never deleted, not even by the retention purge: the purge
deletes the file and stamps ``purged_at``, so that coverage can still say a
hole in the footage was a purge and not a dead camera.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# open: started, not finished yet; the rest as proctor.coverage.SEGMENT_STATES.
SEGMENT_STATES = ("open", "valid", "invalid", "file_missing", "checksum_mismatch", "purged")
CAMERA_STATES = ("recording", "offline", "stale", "unknown")

_UNPURGED = text("purged_at IS NULL")
# SQLite only autoincrements an INTEGER PRIMARY KEY.
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Segment(SQLModel, table=True):
    """One recorded file of one camera (录像片段), with its size and SHA-256."""

    __table_args__ = (
        # One segment per camera and start: the finish hook finds its start hook's row,
        # and the coverage query reads a camera's time range off this index.
        UniqueConstraint("camera_id", "started_at", name="uq_segment_camera_start"),
        # The purge walks an institution's unpurged segments oldest first; purged rows
        # stay for coverage and would otherwise be walked again by every run.
        Index(
            "ix_segment_purge", "institution_id", "started_at", "id", sqlite_where=_UNPURGED, postgresql_where=_UNPURGED
        ),
    )
    # 17 million a season for 200 cameras: 64-bit on PostgreSQL.
    id: int | None = Field(default=None, sa_column=Column(_BIG_ID, primary_key=True, autoincrement=True))
    camera_id: int = Field(foreign_key="camera.id")
    institution_id: int = Field(foreign_key="institution.id")  # the camera's, kept for the purge
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # While open: by when the finish hook should have come (start + length + grace).
    expected_end: datetime = Field(sa_type=UTCDateTime)
    path: str = Field(default="", max_length=1000)
    size: int | None = Field(default=None, sa_column=Column("bytes", BigInteger, nullable=True))
    sha256: str | None = Field(default=None, max_length=64)
    state: str = Field(default="open", max_length=20)
    received_at: datetime = Field(sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CameraOffline(SQLModel, table=True):
    """A stretch a camera was reported offline (掉线): no signal, frozen or black picture."""

    __table_args__ = (Index("ix_cameraoffline_camera_start", "camera_id", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(foreign_key="camera.id")
    institution_id: int = Field(foreign_key="institution.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None while it lasts
    reason: str = Field(default="", max_length=40)
    detected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)


class HookReceipt(SQLModel, table=True):
    """One hook taken in; the unique key makes a replay change nothing (R-AUDIT-1).

    The key is the hook's own ``id`` when it has one (examday's recorder sends
    one), else the SHA-256 of the raw body.
    """

    id: int | None = Field(default=None, sa_column=Column(_BIG_ID, primary_key=True, autoincrement=True))
    dedupe_key: str = Field(max_length=80, unique=True)
    body_sha256: str = Field(max_length=64)
    event: str = Field(max_length=20)
    camera_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("camera.id"), nullable=True))
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=20)  # created | updated | unchanged


class CameraHealth(SQLModel, table=True):
    """A camera's last sign of life and the state the proctors see (R-VIDEO-1)."""

    camera_id: int = Field(foreign_key="camera.id", primary_key=True)
    state: str = Field(default="unknown", max_length=20)  # recording | offline | stale | unknown
    reason: str = Field(default="", max_length=40)
    last_hook_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The newest segment start or end reported: the recorder's heartbeat.
    last_segment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    segment_seconds: float | None = None
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
