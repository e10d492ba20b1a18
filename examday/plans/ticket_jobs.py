"""Printing a batch's tickets in the background (issue #16): 90 tickets take about two seconds to
draw and 2,000 about 45, too long for a page to hang on with nothing shown.

The office's page issues any missing tickets and records the printing in its own request (as the
API's ``tickets.pdf`` does), commits, then hands the drawing to a thread here; the page it goes to
shows how many are drawn and, when done, a link to the PDF. Jobs live in this process's memory —
the drawing needs no database — and are forgotten an hour after they finish. A job is read back
only by the account that started it, for the batch it was started for (R-PRIV-1).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from examday.plans.ticket_render import TicketView, render_tickets_pdf

KEEP_SECONDS = 3600


@dataclass
class TicketJob:
    id: str
    batch_id: int
    account_id: int | None
    total: int
    done: int = 0
    pdf: bytes | None = None
    failed: bool = False
    finished_at: float | None = None
    started_at: float = field(default_factory=time.monotonic)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(self.done * 100 / self.total))


_jobs: dict[str, TicketJob] = {}
_lock = threading.Lock()


def _forget_old() -> None:
    now = time.monotonic()
    with _lock:
        for key in [k for k, j in _jobs.items() if j.finished_at and now - j.finished_at > KEEP_SECONDS]:
            del _jobs[key]


def start(batch_id: int, account_id: int | None, views: list[TicketView], created_at: datetime) -> TicketJob:
    """Draw the tickets in a thread; the job is returned at once."""
    _forget_old()
    job = TicketJob(id=secrets.token_urlsafe(12), batch_id=batch_id, account_id=account_id, total=len(views))

    def tick(n: int) -> None:
        job.done = n

    def run() -> None:
        try:
            job.pdf = render_tickets_pdf(views, created_at=created_at, progress=tick)
        except Exception:
            job.failed = True
        finally:
            job.finished_at = time.monotonic()

    with _lock:
        _jobs[job.id] = job
    threading.Thread(target=run, name=f"tickets-{batch_id}", daemon=True).start()
    return job


def find(job_id: str, batch_id: int, account_id: int | None) -> TicketJob | None:
    with _lock:
        job = _jobs.get(job_id)
    if job is None or job.batch_id != batch_id or job.account_id != account_id:
        return None
    return job
