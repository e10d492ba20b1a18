"""Long work in the background, readable by every server process (后台任务, issue #16).

Printing 2,000 tickets takes about 45 seconds: a page must not hang on it with nothing shown.
The work runs in a thread of the process that took the request; what it has done so far, and its
output when finished, are written to ``<data_dir>/jobs/`` — ``<id>.json`` (replaced atomically at
each step) and ``<id>.out`` beside it — so that when several ``examday serve`` processes share one
address (issue #18), whichever answers the progress page's next refresh reads the same job.

A job names the account that started it and its batch; it is read back only by that account for
that batch (R-PRIV-1), and its files are 0600 in a 0700 folder, as the rest of the data folder.
A finished job is deleted an hour after it finished; a job not heard from for ten minutes died
with its process and is shown as failed (and deleted an hour later). Times come from the
application's clock (:mod:`examday.clock`). The jobs need no table, so no migration.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from examday.clock import Clock, parse_iso
from storage.modes import PRIVATE_FILE, private_dir

KEEP = timedelta(hours=1)
STALE = timedelta(minutes=10)
FOLDER = "jobs"
_ID = re.compile(r"[A-Za-z0-9_-]{16}")
_WRITE_EVERY = 0.25  # seconds between progress writes: a refresh a second needs no more


@dataclass
class Job:
    id: str
    kind: str
    batch_id: int
    account_id: int | None
    total: int
    started_at: str
    updated_at: str
    done: int = 0
    state: str = "running"  # running, done, failed
    finished_at: str | None = None
    filename: str | None = None
    media_type: str | None = None

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(self.done * 100 / self.total))

    @property
    def finished(self) -> bool:
        return self.state != "running"

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def ready(self) -> bool:
        return self.state == "done"


def folder(data_dir: Path) -> Path:
    return private_dir(Path(data_dir) / FOLDER)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _save(where: Path, job: Job) -> None:
    _write_private(where / f"{job.id}.json", json.dumps(asdict(job)).encode())


def _load(where: Path, job_id: str) -> Job | None:
    if not _ID.fullmatch(job_id):  # the id comes from a URL: never a path of its own
        return None
    try:
        return Job(**json.loads((where / f"{job_id}.json").read_bytes()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def expire(data_dir: Path, now: datetime) -> int:
    """Delete the jobs finished (or last heard from) more than ``KEEP`` ago, with their output;
    the number deleted."""
    where = folder(data_dir)
    gone = 0
    for path in where.glob("*.json"):
        job = _load(where, path.stem)
        last = job.finished_at or job.updated_at if job else None
        if job is not None and last is not None and now - parse_iso(last) <= KEEP:
            continue
        for p in (path, path.with_suffix(".out")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        gone += 1
    for tmp in where.glob(".*.tmp"):  # a write cut short when its process stopped
        # Its age by the file's own time: no job names it, so the application's clock has no say.
        with contextlib.suppress(FileNotFoundError):
            if time.time() - tmp.stat().st_mtime > KEEP.total_seconds():
                tmp.unlink()
    return gone


def start(
    data_dir: Path,
    clock: Clock,
    kind: str,
    batch_id: int,
    account_id: int | None,
    total: int,
    work: Callable[[Callable[[int], None]], bytes],
    *,
    filename: str,
    media_type: str,
) -> Job:
    """Run ``work(progress)`` in a thread and return its job at once. ``work`` calls ``progress(n)``
    with the count done and returns the output's bytes; it needs nothing of the request (the
    request's database session is closed by then)."""
    expire(data_dir, clock.now())
    where = folder(data_dir)
    at = clock.now().isoformat()
    job = Job(
        id=secrets.token_urlsafe(12),
        kind=kind,
        batch_id=batch_id,
        account_id=account_id,
        total=total,
        started_at=at,
        updated_at=at,
        filename=filename,
        media_type=media_type,
    )
    _save(where, job)
    last_write = [time.monotonic()]

    def progress(n: int) -> None:
        job.done = n
        if time.monotonic() - last_write[0] >= _WRITE_EVERY:
            job.updated_at = clock.now().isoformat()
            _save(where, job)
            last_write[0] = time.monotonic()

    def run() -> None:
        try:
            _write_private(where / f"{job.id}.out", work(progress))
            job.state, job.done = "done", job.total
        except Exception:
            job.state = "failed"
        job.finished_at = job.updated_at = clock.now().isoformat()
        _save(where, job)

    threading.Thread(target=run, name=f"{kind}-{batch_id}", daemon=True).start()
    return job


def find(data_dir: Path, now: datetime, job_id: str, batch_id: int, account_id: int | None) -> Job | None:
    """The job, if it is this account's for this batch (R-PRIV-1), else None."""
    expire(data_dir, now)
    job = _load(folder(data_dir), job_id)
    if job is None or job.batch_id != batch_id or job.account_id != account_id:
        return None
    if not job.finished and now - parse_iso(job.updated_at) > STALE:
        job.state = "failed"  # its process stopped mid-way; the page says so rather than waiting
    return job


def output(data_dir: Path, job: Job) -> bytes | None:
    if not job.ready:
        return None
    try:
        return (folder(data_dir) / f"{job.id}.out").read_bytes()
    except FileNotFoundError:
        return None
