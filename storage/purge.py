"""The retention purge (到期清理): ``examday retention purge [--dry-run]``.

R-VIDEO-1, R-ARCH-1, R-SCORE-2: a record is deleted only once past its
class's period under its institution's profile (:mod:`storage.retention`
decides), never while a legal hold covers it (:mod:`storage.holds`), never
when permanent, and never because a disk is full: a disk running low raises
an alert and nothing more.

Streaming: an institution's unpurged records of each source (video
segments) are read oldest first in chunks, each chunk in its own short
transaction; memory is bounded by the chunk, not by the season. Only rows old
enough to be expired under the profile are read at all.

Crash safety, per chunk: (1) a ``PurgeIntent`` per record is committed;
(2) the files are deleted; (3) the rows are stamped purged, the intents
removed and one audit entry written, in one transaction. A crash after (1)
leaves intents that the next run settles first (:mod:`storage.purge_settle`):
it finishes the deletion, or — if a hold came meanwhile and the file is
still there — keeps the record.
A segment's file is a path here or an ``s3://`` object (:mod:`storage.video_files`):
objects are deleted through the S3 API a thousand to a request, only under
``EXAMDAY_VIDEO_S3_PREFIXES``, covered by the same intents.
Rows are never deleted (a purged segment keeps ``state = "purged"`` so a
coverage gap still says why), so the purge never leaves a file without its
row; a blob file that a crashed writer left without its row is found and
removed here too, after an hour's grace.

Audit (R-AUDIT-1): one entry per chunk and institution, listing the ids as
ranges — a season is some ten thousand meaningful entries, not 17 million.

What is due is found by :mod:`storage.purge_plan`.

Dependencies: storage/ sits below the other packages, but the purge must see
their records. The packages that own them register providers at start-up
(:mod:`storage.providers`): the retention sources (proctor's segments), what a
hold covers, the institutions' profiles and the audit sink, which writes into
the purge's own transaction so that step (3) stays one commit.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import providers, video_files
from storage.blobs import Blob, BlobStore, open_blob_store
from storage.blobs_s3 import is_s3
from storage.errors import Refusal
from storage.purge_plan import CHUNK, Chunk, Item, iter_plan
from storage.retention import (
    disk_alert,
)
from storage.retention_models import PurgeIntent
from storage.types import CST

log = logging.getLogger("examday.storage.purge")

UNLINK_THREADS = 8
ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)  # (kind, outcome) -> n
    alerts: list[dict[str, Any]] = field(default_factory=list)


# -- deleting -------------------------------------------------------------------------------------


# One segment file: "deleted", "absent", or why not (a name here so a test can cut the power).
_unlink = video_files.unlink_local

# A source record the purge keeps, by its state: the reason it says (issue #14, R-VIDEO-1).
KEPT = {"open": "kept_open"}
DELETABLE_STATES = ("valid",)


def _kept(c: Chunk, items: list[Item]) -> dict[str, list[Item]]:
    """The records of ``items`` whose files stay, by reason (R-VIDEO-1, issue #14): only a closed
    segment whose file matched its hash is deleted; an open one may still be written, and an
    unverified one names a file nobody vouched for."""
    out: dict[str, list[Item]] = {}
    if c.kind == "blob":
        return out
    for item in items:
        if item.state not in DELETABLE_STATES:
            out.setdefault(KEPT.get(item.state, "kept_not_verified"), []).append(item)
    return out


def _ranges(ids: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _write_intents(engine: Engine, kind: str, ids: list[int], now: datetime) -> None:
    with Session(engine) as db:
        have = set(
            db.exec(
                select(PurgeIntent.object_id).where(PurgeIntent.kind == kind, col(PurgeIntent.object_id).in_(ids))
            ).all()
        )
        rows = [{"kind": kind, "object_id": i, "run_at": now} for i in ids if i not in have]
        if rows:
            db.execute(insert(PurgeIntent), rows)
        db.commit()


def _purge_chunk(
    engine: Engine,
    blobs: BlobStore,
    c: Chunk,
    items: list[Item],
    now: datetime,
    action: str = "retention.purged",
    *,
    places: video_files.VideoPlaces,
) -> dict[str, list[Item]]:
    """Steps (1)–(3) of the module docstring for ``items`` of one chunk."""
    ids = [i.id for i in items]
    outcome = _kept(c, items)
    kept = {i.id for group in outcome.values() for i in group}
    deletable = [i for i in items if i.id not in kept]
    _write_intents(engine, c.kind, [i.id for i in deletable], now)
    if c.kind != "blob":  # a source's records are video files (storage.video_files)
        roots = list(places.dirs)
        local, remote = [i for i in deletable if not is_s3(i.path)], [i for i in deletable if is_s3(i.path)]
        # Deleting a file waits on the disk's journal: several at once keep the disk busy
        # instead of the purge waiting (about 8x here). Every one is covered by its intent.
        with ThreadPoolExecutor(max(1, UNLINK_THREADS)) as pool:
            results = list(pool.map(lambda item: _unlink(item.path, roots), local))
        # S3 objects go a thousand to a request (R-VIDEO-1: only under EXAMDAY_VIDEO_S3_PREFIXES).
        results += video_files.delete_objects([i.path for i in remote], places)
        for item, why in zip(local + remote, results):
            outcome.setdefault(why, []).append(item)
    else:
        with Session(engine) as db:
            # Content-addressed: a file another live row still names stays.
            shared = set(
                db.exec(
                    select(Blob.key).where(
                        col(Blob.key).in_([i.path for i in items]),
                        col(Blob.purged_at).is_(None),
                        col(Blob.id).not_in(ids),
                    )
                ).all()
            )
        for item in items:
            gone = item.path in shared or blobs.delete(item.path) or not blobs.exists(item.path)
            outcome.setdefault("deleted" if gone else "error", []).append(item)
    done = outcome.get("deleted", []) + outcome.get("absent", [])
    done_ids = [i.id for i in done]
    with Session(engine) as db:
        if done_ids and c.kind != "blob":
            providers.source(c.kind).mark_purged(db, done_ids, now)
        elif done_ids:
            db.exec(update(Blob).where(col(Blob.id).in_(done_ids)).values(purged_at=now))
        db.exec(delete(PurgeIntent).where(col(PurgeIntent.kind) == c.kind, col(PurgeIntent.object_id).in_(ids)))
        if done_ids:
            expiries = [i.decision.expires_on for i in done if i.decision and i.decision.expires_on]
            providers.audit()(
                db,
                action,
                c.kind,
                f"{min(done_ids)}..{max(done_ids)}",
                {
                    "count": len(done_ids),
                    "ids": _ranges(done_ids),
                    "profile": c.profile,
                    "files_already_absent": len(outcome.get("absent", [])),
                    "latest_expiry": max(expiries).isoformat() if expiries else None,
                },
                now,
                c.institution_id,
            )
        db.commit()
    return outcome


def disk_alerts(settings) -> list[dict[str, Any]]:
    """A disk running low is an alert for a person, never a reason to purge (R-VIDEO-1, R-ARCH-1):
    the data folder and the settings' video folders (EXAMDAY_VIDEO_DIRS)."""
    alerts = []
    data_dir = Path(settings.data_dir)
    for place in [data_dir, *settings.video_dirs]:
        if place != data_dir and place.is_relative_to(data_dir) and not place.exists():
            continue  # the data folder's own video folder, not made yet: the data folder's disk
        try:
            usage = shutil.disk_usage(place)
            free, total = usage.free, usage.total
        except OSError:
            free, total = 0, 0
        if disk_alert(free, total):
            alerts.append(
                {
                    "code": "disk_low",
                    "path": str(place),
                    "free_bytes": free,
                    "total_bytes": total,
                    "message": "存储空间不足：请扩容，系统不会提前删除录像或档案",
                    "message_en": "Disk space is low: add storage; records are never deleted early.",
                }
            )
    return alerts


# -- the command -----------------------------------------------------------------------------------


def run_purge(
    engine: Engine, settings, clock, dry_run: bool = False, out: TextIO | None = None, chunk: int = CHUNK
) -> int:
    """Delete (or, dry, list) what retention allows; exit code 0 (2 on a bad profile)."""
    from storage.purge_settle import remove_orphans, settle

    out = out or sys.stdout
    now, today = clock.now(), clock.now().astimezone(CST).date()
    blobs, places = open_blob_store(settings), video_files.VideoPlaces.from_settings(settings)
    report = Report(alerts=disk_alerts(settings))
    for a in report.alerts:
        log.warning("disk low at %s: %d of %d bytes free", a["path"], a["free_bytes"], a["total_bytes"])
        out.write(
            f"ALERT disk_low {a['path']}: {a['free_bytes']} of {a['total_bytes']} bytes free — "
            "add storage; nothing is purged early\n"
        )
    verb = "would purge" if dry_run else "purged"
    try:
        if dry_run:
            with Session(engine) as db:
                pending = len(db.exec(select(PurgeIntent.id)).all())
            if pending:
                out.write(f"{pending} deletions of an interrupted run would be settled first\n")
        else:
            settle(engine, blobs, today, now, out, report, places)
        for c in iter_plan(engine, today, chunk=chunk):
            report.counts[(c.kind, "held")] += c.held
            due = c.to_purge
            if not due:
                continue
            if dry_run:
                outcome = _kept(c, due)
                kept = {i.id for group in outcome.values() for i in group}
                done = [i for i in due if i.id not in kept]
            else:
                outcome = _purge_chunk(engine, blobs, c, due, now, places=places)
                done = outcome.get("deleted", []) + outcome.get("absent", [])
            for why, items in outcome.items():
                if why not in ("deleted", "absent"):
                    report.counts[(c.kind, why)] += len(items)
                    for item in items:
                        out.write(f"NOT purged {c.kind} {item.id} {item.label}: {_told(why, item)}\n")
            report.counts[(c.kind, "would purge" if dry_run else "purged")] += len(done)
            for item in done:
                out.write(f"{verb} {c.kind} {item.id} {item.label} (expired {item.decided.expires_on})\n")
        remove_orphans(engine, blobs, dry_run, out, report, now)
    except Refusal as r:
        out.write(f"{r.code}: {r.message} / {r.message_en}\n")
        return 2
    summary = ", ".join(f"{kind} {what}: {n}" for (kind, what), n in sorted(report.counts.items()) if n)
    out.write(f"retention purge{' (dry run)' if dry_run else ''} on {today}: {summary or 'nothing due'}\n")
    return 0


def _told(why: str, item: Item) -> str:
    if why.startswith("kept_"):
        return f"{why} (state {item.state}: the file is left in place)"
    return why


def preview(engine: Engine, today: date, institution_id: int | None = None, limit: int = 50) -> dict[str, Any]:
    """What a purge would delete now (``GET /api/v1/retention``): counts and the first ``limit``."""
    counts: Counter = Counter()
    first: list[dict[str, Any]] = []
    for c in iter_plan(engine, today, institution_id):
        counts[(c.kind, "held")] += c.held
        due = c.to_purge
        kept = {i.id for group in _kept(c, due).values() for i in group}
        counts[(c.kind, "kept")] += len(kept)
        for item in due:
            if item.id in kept:
                continue  # open or unverified: its file is not deleted (R-VIDEO-1)
            counts[(c.kind, "due")] += 1
            if len(first) < limit:
                first.append(
                    {
                        "kind": item.kind,
                        "id": item.id,
                        "label": item.label,
                        "created": item.created,
                        "expired_on": item.decided.expires_on,
                        "institution_id": c.institution_id,
                    }
                )
    return {
        "today": today.isoformat(),
        "due": {k: n for (k, what), n in counts.items() if what == "due"},
        "held": {k: n for (k, what), n in counts.items() if what == "held" and n},
        "kept": {k: n for (k, what), n in counts.items() if what == "kept" and n},
        "items": first,
    }
