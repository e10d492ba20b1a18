"""What the lock makes final goes to the batch's archive (R-ARCH-1, R-SCORE-3): the score summary
(成绩汇总表) as a PDF and the seal (封存) as JSON, kept permanently; the results export (XLSX), an
electronic record; and the examiners' signed scoring records (评分记录: every score entry version
with its hash and signature, JSON) in their own class, kept at least 1 year (R-SCORE-2).

Called once by :mod:`scoring.services.lock` in the lock's own transaction, after the seal: the
files carry the seal, and a lock that rolls back archives nothing. Without a blob store for the
database (a command run outside the application) nothing is archived and nothing fails.
The lock holds the batch's results computed once (``scoring.results.computed_once``): the
summary and the export read the very results the seal covers, not a recomputation each.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from examday.actor import Actor
from examday.clock import CST
from examday.plans.models import Batch
from examday.plans.room_sheets import draw_table, render_pdf
from examday.plans.ticket_render import _fit, _Text
from examday.records import archive, paper_trail
from scoring import exports
from scoring.services.lock import seal_body, seal_entries, seal_of

_LANDSCAPE = (297.0, 210.0)
_PER_PAGE = 26


def _office(batch: Batch) -> Actor:
    # The export as the institution's own office reads it (full ID numbers): the archive is its record.
    return Actor(None, "system", "admin", batch.institution_id)


def summary_pdf(db: Session, batch: Batch, now: datetime) -> bytes:
    header, rows, notes = exports.summary(db, _office(batch), batch)
    n_parts = len(header) - 6
    widths = [12.0, 36.0, 24.0, 42.0, *([22.0] * n_parts), 20.0]
    widths.append(283.0 - sum(widths))
    labels = [(h.split(" ")[0], " ".join(h.split(" ")[1:])) for h in header]
    chunks = [rows[i : i + _PER_PAGE] for i in range(0, len(rows), _PER_PAGE)] or [[]]
    pages = []
    for n, chunk in enumerate(chunks, start=1):
        ops: list = [_Text(148.5, 12, _fit(notes[0][0], 270, 10)[0], 10, True, align="m")]
        bottom = draw_table(ops, 7, 17, widths, labels, chunk, 6.5, 8)
        if n == len(chunks):
            for i, line in enumerate(notes[1:]):
                ops.append(_Text(7, bottom + 6 + i * 5, _fit("  ".join(line), 283, 7.5)[0], 7.5))
        ops.append(_Text(290, 204, f"{n}/{len(chunks)}  {now.astimezone(CST):%Y-%m-%d %H:%M}", 7, gray=110, align="r"))
        pages.append(ops)
    return render_pdf(pages, now, _LANDSCAPE)


def archive_at_lock(db: Session, actor: Actor, now: datetime, batch: Batch) -> None:
    """Archive the score summary, the seal and the results export of the batch just locked."""
    blobs = archive.store_of(db)
    seal = seal_of(db, batch.id) if batch.id is not None else None
    if blobs is None or seal is None:
        return
    assert batch.id is not None
    iid, bid = batch.institution_id, batch.id
    seal_doc = {"batch_id": bid, "institution_id": iid, "exam_date": batch.exam_date.isoformat(), **seal_body(seal)}
    entries = seal_entries(db, batch)  # every entry version, signed; no personal data
    scoring = {"batch_id": bid, "institution_id": iid, "seal_digest": seal.digest, "entries": entries}
    files = (
        ("score_summary", f"成绩汇总表 batch {bid}.pdf", summary_pdf(db, batch, now), "application/pdf"),
        (
            "seal",
            f"封存 batch {bid}.json",
            json.dumps(seal_doc, ensure_ascii=False, indent=1, sort_keys=True).encode(),
            "application/json",
        ),
        (
            "results_export",
            exports.filename(batch, "xlsx"),
            exports.results_xlsx(db, _office(batch), bid),
            archive.XLSX,
        ),
        (
            "scoring_record",
            f"评分记录 batch {bid}.json",
            json.dumps(scoring, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode(),
            "application/json",
        ),
    )
    for kind, name, data, ctype in files:
        archive.archive(db, blobs, actor, kind, iid, bid, name, data, ctype, now, ref="lock")
    # R-DAY-3: every session has ended by the lock; a sign-in sheet nobody asked for yet is
    # produced now, so a batch whose archive nobody opened still has its sheets.
    paper_trail.archive_ended(db, blobs, now, batch)
