"""What the retention purge finds due (R-VIDEO-1, R-ARCH-1, R-SCORE-2): each institution's
records old enough to be expired under its profile, read in chunks oldest first and decided by
:mod:`storage.retention` and the holds. :mod:`storage.purge` deletes what is decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import providers
from storage.blobs import Blob
from storage.errors import Refusal
from storage.holds import HoldMatcher, hold_matcher
from storage.providers import Record, RetentionSource
from storage.retention import PROFILES, Period, PurgeCandidate, PurgeDecision, RetentionClass, iter_purge_decisions
from storage.types import CST

CHUNK = 2000


@dataclass
class Item:
    kind: str  # a source's kind (segment) | blob
    id: int
    label: str
    path: str  # segment: the file; blob: the store key
    state: str
    created: date
    decision: PurgeDecision | None = None

    @property
    def decided(self) -> PurgeDecision:
        assert self.decision is not None, "every item of a chunk is decided before it is used"
        return self.decision


@dataclass
class Chunk:
    kind: str
    institution_id: int | None
    profile: str
    items: list[Item]
    held: int = 0

    @property
    def to_purge(self) -> list[Item]:
        return [i for i in self.items if i.decision is not None and i.decision.purge]


# -- what is due ----------------------------------------------------------------------------------


def _last_expired_day(years: int, today: date) -> date:
    """The newest creation day already past its period on ``today``."""
    d = Period(-years).after(today) + timedelta(days=3)
    while Period(years).after(d) >= today:
        d -= timedelta(days=1)
    return d


def _day_start(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), CST)  # start of the next day, China time


def _cst_day(t: datetime) -> date:
    return t.astimezone(CST).date()


def _institutions(engine: Engine, only: int | None = None) -> list[tuple[int | None, str]]:
    with Session(engine) as db:
        rows = [(i, p or "strict") for i, p in providers.profiles()(db, only)]
    return rows + ([(None, "strict")] if only is None else [])


def _source_chunks(
    engine: Engine, source: RetentionSource, iid: int, profile: str, today: date, holds: HoldMatcher, chunk: int
) -> Iterator[Chunk]:
    years = PROFILES[profile][source.retention_class]
    if years is None:
        return
    before = _day_start(_last_expired_day(years, today))
    for records in source.due(engine, iid, before, chunk):
        yield _record_chunk(source, records, iid, profile, today, holds)


def _record_chunk(
    source: RetentionSource, records: list[Record], iid: int, profile: str, today: date, holds: HoldMatcher
) -> Chunk:
    items, cands = [], []
    for r in records:
        items.append(Item(source.kind, r.id, r.label, r.path, r.state, _cst_day(r.start)))
        cands.append(
            PurgeCandidate(
                source.kind, str(r.id), source.retention_class, items[-1].created, holds.record_held(source.kind, r)
            )
        )
    return _decided(Chunk(source.kind, iid, profile, items), cands, profile, today)


def _blob_chunks(
    engine: Engine, iid: int | None, profile: str, today: date, holds: HoldMatcher, chunk: int
) -> Iterator[Chunk]:
    years = [y for y in PROFILES[profile].values() if y is not None]
    if not years:
        return
    before = _day_start(_last_expired_day(min(years), today))
    after = 0
    while True:
        with Session(engine) as db:
            q = (
                select(col(Blob.id), Blob.key, Blob.retention_class, Blob.created_at, Blob.label)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
                .where(
                    col(Blob.purged_at).is_(None),
                    col(Blob.id) > after,
                    Blob.created_at < before,
                    Blob.retention_class != RetentionClass.KEY_DOCUMENTS.value,
                )
                .order_by(col(Blob.id))
                .limit(chunk)
            )
            q = q.where(Blob.institution_id == iid) if iid is not None else q.where(col(Blob.institution_id).is_(None))
            rows = db.exec(q).all()
        if not rows:
            return
        after = rows[-1][0]
        yield _blob_chunk(rows, iid, profile, today, holds)


def _blob_chunk(rows, iid: int | None, profile: str, today: date, holds: HoldMatcher) -> Chunk:
    items, cands = [], []
    for bid, key, cls, created, label in rows:
        items.append(Item("blob", bid, f"{cls} {label or key}", key, cls, _cst_day(created)))
        cands.append(PurgeCandidate("blob", str(bid), cls, items[-1].created, holds.blob_held(bid)))
    return _decided(Chunk("blob", iid, profile, items), cands, profile, today)


def _decided(c: Chunk, cands: list[PurgeCandidate], profile: str, today: date) -> Chunk:
    for item, decision in zip(c.items, iter_purge_decisions(cands, profile, today)):
        item.decision = decision
        c.held += decision.reason == "legal_hold"
    return c


def iter_plan(engine: Engine, today: date, institution_id: int | None = None, chunk: int = CHUNK) -> Iterator[Chunk]:
    """Every chunk of records old enough to be due, decided, institution by institution."""
    for iid, profile in _institutions(engine, institution_id):
        if profile not in PROFILES:
            raise Refusal(
                "unknown_retention_profile",
                f"未知的保存期限配置：{profile}",
                f"Institution {iid} has an unknown retention profile {profile!r}.",
                "R-ARCH-1",
            )
        with Session(engine) as db:
            holds = hold_matcher(db, iid)
        if iid is not None:
            for source in providers.sources():
                yield from _source_chunks(engine, source, iid, profile, today, holds, chunk)
        yield from _blob_chunks(engine, iid, profile, today, holds, chunk)
