"""Settling what a crash left behind (R-VIDEO-1, R-ARCH-1), run first by every purge.

* Intents (:class:`storage.retention_models.PurgeIntent`) of a purge that
  stopped between committing them and stamping the rows: each record is
  decided again and its deletion finished — or, if a hold came meanwhile and
  its file is still there, the intent is dropped and the record kept. A row
  never goes on claiming a file that is gone.
* Blob files that no row names, left by a writer that crashed between the
  file and its row (or a half-written temp file), older than an hour's grace.
"""

from __future__ import annotations

import time as systime
from datetime import date, datetime
from typing import TextIO

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import providers, video_files
from storage.blobs import Blob, BlobStore
from storage.holds import hold_matcher
from storage.purge import ORPHAN_GRACE, Report, _purge_chunk
from storage.purge_plan import Item, _blob_chunk, _record_chunk
from storage.retention_models import PurgeIntent
from storage.video_files import VideoPlaces


def settle(
    engine: Engine,
    blobs: BlobStore,
    today: date,
    now: datetime,
    out: TextIO,
    report: Report,
    places: VideoPlaces,
) -> None:
    """Finish or undo what an interrupted run left between its steps (1) and (3).

    Each pending record is decided again — a hold may have come since, or the
    profile changed: if it is still due, or its file is already gone, the
    deletion is finished (the row must not claim a file that is not there);
    otherwise the intent is dropped and the record kept.
    """
    with Session(engine) as db:
        pending = db.exec(select(PurgeIntent.kind, PurgeIntent.object_id).order_by(col(PurgeIntent.id))).all()
    groups: dict[tuple[str, int | None], list[int]] = {}
    with Session(engine) as db:
        owners = _source_owners(db, pending)
        for kind, oid in pending:
            if kind == "blob":
                row = db.get(Blob, oid)
                live, iid = row is not None and row.purged_at is None, row.institution_id if row else None
            else:
                live, iid = oid in owners[kind], owners[kind].get(oid)
            if not live:  # step (3) had committed: only the note is left
                db.exec(delete(PurgeIntent).where(col(PurgeIntent.kind) == kind, col(PurgeIntent.object_id) == oid))
                continue
            groups.setdefault((kind, iid), []).append(oid)
        db.commit()
    for (kind, iid), ids in groups.items():
        with Session(engine) as db:
            found = providers.profiles()(db, iid) if iid is not None else []
            profile = (found[0][1] if found else None) or "strict"
            holds = hold_matcher(db, iid)
            if kind != "blob":
                assert iid is not None  # a source's records always belong to an institution
                source = providers.source(kind)
                c = _record_chunk(source, source.records(db, iid, ids), iid, profile, today, holds)
            else:
                rows = db.exec(
                    select(col(Blob.id), Blob.key, Blob.retention_class, Blob.created_at, Blob.label)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
                    .where(col(Blob.id).in_(ids))
                    .order_by(col(Blob.id))
                ).all()
                c = _blob_chunk(rows, iid, profile, today, holds)
        finish = [i for i in c.items if i.decided.purge or not _file_there(blobs, i, places)]
        keep = [i.id for i in c.items if i not in finish]
        if finish:
            outcome = _purge_chunk(engine, blobs, c, finish, now, "retention.purge_settled", places=places)
            for item in outcome.get("deleted", []) + outcome.get("absent", []):
                report.counts[(kind, "settled")] += 1
                out.write(f"settled {kind} {item.id} {item.label} (interrupted run)\n")
        if keep:
            with Session(engine) as db:
                db.exec(delete(PurgeIntent).where(col(PurgeIntent.kind) == kind, col(PurgeIntent.object_id).in_(keep)))
                db.commit()
            report.counts[(kind, "kept_after_interruption")] += len(keep)
            for i in c.items:
                if i.id in keep:
                    out.write(f"kept {kind} {i.id} {i.label}: {i.decided.reason} (interrupted run undone)\n")


def _source_owners(db: Session, pending) -> dict[str, dict[int, int]]:
    """For each source kind among ``pending``, its records still unpurged, with their institution."""
    wanted: dict[str, list[int]] = {}
    for kind, oid in pending:
        if kind != "blob":
            wanted.setdefault(kind, []).append(oid)
    owners: dict[str, dict[int, int]] = {}
    for kind, ids in wanted.items():
        owners[kind] = {}
        for i in range(0, len(ids), 1000):  # a bounded IN list on either database
            owners[kind].update(providers.source(kind).unpurged(db, ids[i : i + 1000]))
    return owners


def _file_there(blobs: BlobStore, item: Item, places: VideoPlaces) -> bool:
    if item.kind == "blob":
        return blobs.exists(item.path)
    return video_files.exists(item.path, places.s3)  # a path here or an s3:// object


def remove_orphans(engine: Engine, blobs: BlobStore, dry_run: bool, out: TextIO, report: Report, now: datetime) -> None:
    """Blob files no row names (a writer crashed between file and row), older than the grace,
    in the data folder or the S3 prefix alike."""
    # File times come from the real clock, whatever clock the purge is judged by.
    cutoff = systime.time() - ORPHAN_GRACE.total_seconds()
    found: list[str] = []

    def flush(batch: list[str]) -> None:
        with Session(engine) as db:
            known = set(db.exec(select(Blob.key).where(col(Blob.key).in_(batch))).all())
        for key in batch:
            if key not in known:
                found.append(key)
                if not dry_run:
                    blobs.delete(key)

    batch: list[str] = []
    for key in blobs.stale_files(cutoff):
        if key.rsplit("/", 1)[-1].startswith(".tmp-"):  # a local write that never finished
            found.append(key)
            if not dry_run:
                blobs.delete(key)
            continue
        batch.append(key)
        if len(batch) >= 500:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if not found:
        return
    verb = "would remove" if dry_run else "removed"
    for key in found:
        out.write(f"{verb} orphan file {key} (no record names it)\n")
    report.counts[("file", "orphan")] += len(found)
    if not dry_run:
        with Session(engine) as db:
            providers.audit()(
                db,
                "retention.orphans_removed",
                "blob_file",
                len(found),
                {"count": len(found), "keys": found[:1000]},
                now,
                None,
            )
            db.commit()
