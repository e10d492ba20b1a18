"""Legal holds (保全): records under dispute are kept whatever their age.

R-VIDEO-1, R-ARCH-1, R-SCORE-2 set how long records are kept at least; a
record that an open incident, an objection or an inquiry may need must
outlive its period. A hold is placed by hand, or by the incident and
objection services through :func:`examday.records.holds.place_hold`
(``source`` names them), and is released only by hand, with a reason: an
objection settled does not by itself free the evidence it was about. Both are on the audit chain (R-AUDIT-1).

What a hold covers:

* ``institution`` — everything of the institution (an inquiry);
* ``batch`` / ``session`` — the video of every camera of the batch's (or the
  session's) rooms over the session windows, with the coverage margin;
* ``camera`` — all of a camera's video; ``segment`` / ``blob`` — one record.

This module keeps the table and the matching; placing, releasing and listing
holds need an actor, permissions and the audit chain, and are
:mod:`examday.records.holds`. storage/ sits below the exam tables: what a
hold on a batch, a camera or a segment covers is answered by the package that
owns it (a :class:`storage.providers.HoldTarget` registered at start-up); a
blob is storage's own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, Session, SQLModel, col, select

from storage import providers
from storage.blobs import Blob
from storage.errors import not_found
from storage.providers import Record
from storage.types import UTCDateTime

# The wire's names, in the order refusals list them; "blob" is storage's own.
HOLD_OBJECT_TYPES = ("institution", "batch", "session", "camera", "segment", "blob")
MANUAL = "manual"


class LegalHold(SQLModel, table=True):
    """A legal hold (保全) on one object; released only by hand, with a reason."""

    __table_args__ = (Index("ix_legalhold_object", "object_type", "object_id"),)
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    object_type: str = Field(max_length=20)
    object_id: str = Field(max_length=40)
    reason: str = Field(max_length=500)
    source: str = Field(default=MANUAL, max_length=60)  # manual | incident:ID | objection:ID
    placed_at: datetime = Field(sa_type=UTCDateTime)
    placed_by: int | None = None  # account id
    placed_by_name: str = Field(default="", max_length=100)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: int | None = None
    release_reason: str | None = Field(default=None, max_length=500)


def object_institution(db: Session, object_type: str, object_id: int) -> int | None:
    """The institution the object belongs to (None: an installation-wide blob), or 404."""
    if object_type == "blob":
        blob = db.get(Blob, object_id)
        if blob is not None:
            return blob.institution_id
        raise not_found(object_type)
    target = providers.hold_target(object_type)
    try:
        return target.institution_of(db, object_id)
    except LookupError:
        raise not_found(object_type) from None


@dataclass
class HoldMatcher:
    """The holds in force over one institution, asked once per record by the purge.

    Holds are few and records many: every hold is resolved once into id sets
    and per-channel (camera) time windows, so a question costs a set lookup.
    """

    everything: bool = False
    record_ids: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # kind -> ids
    channels: set[int] = field(default_factory=set)
    windows: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))

    def record_held(self, kind: str, r: Record) -> bool:
        if self.everything or r.id in self.record_ids.get(kind, ()) or r.channel in self.channels:
            return True
        return any(ws < r.end and r.start < we for ws, we in self.windows.get(r.channel, ()))

    def blob_held(self, blob_id: int) -> bool:
        return self.everything or blob_id in self.record_ids.get("blob", ())

    def __bool__(self) -> bool:
        return bool(self.everything or any(self.record_ids.values()) or self.channels or self.windows)


def hold_matcher(db: Session, institution_id: int | None) -> HoldMatcher:
    """Resolve the holds in force on ``institution_id``'s records (None: installation-wide blobs)."""
    m = HoldMatcher()
    holds = db.exec(
        select(LegalHold).where(
            col(LegalHold.released_at).is_(None),
            LegalHold.institution_id == institution_id
            if institution_id is not None
            else col(LegalHold.institution_id).is_(None),
        )
    ).all()
    for h in holds:
        if h.object_type == "blob":
            m.record_ids["blob"].add(int(h.object_id))
        else:
            providers.hold_target(h.object_type).cover(db, int(h.object_id), m)
    return m
