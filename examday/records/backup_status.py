"""The office's line on backups (备份, issue #19, R-ARCH-1): when the last good backup was made,
and a warning once a day has passed without one — a clerk who loses the disk the day before
publicity ends should have been told the night before.

The backups themselves are storage's (``storage.backup``); this only reads the status file a
finished backup leaves in the data folder, so showing the page costs no database work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from examday.clock import CST, iso
from storage.backup import last_backup

STALE_AFTER = timedelta(hours=24)


def backup_status(data_dir: Path, now: datetime) -> dict[str, Any]:
    """``state``: ``good`` (a complete backup, still on disk, under 24 hours old), ``stale``
    (older), ``bad`` (the last one is missing or changed size) or ``never``."""
    last = last_backup(data_dir)
    if last is None:
        return {"state": "never", "at": None, "shown": None, "file": None, "hours": None}
    when, path, ok = last
    hours = max(0, int((now - when).total_seconds() // 3600))
    state = "bad" if not ok else ("stale" if now - when > STALE_AFTER else "good")
    return {
        "state": state,
        "at": iso(when),
        "shown": when.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
        "file": path.name,
        "hours": hours,
    }
