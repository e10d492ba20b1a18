"""Old backups go by a simple policy (issue #19): the newest backup of each of the last 14 days,
and the first backup of each of the last 12 months; the newest backup always stays. Days and
months are China time's (UTC+8), the day an institution lives by. Only ``examday-backup-*``
archives rotate: a pre-upgrade backup is kept until someone deletes it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from storage.backup import PREFIX

CHINA = timezone(timedelta(hours=8))
_NAME = re.compile(re.escape(PREFIX) + r"(\d{8}T\d{6}Z)\.tar\.gz$")


def made_at(path: Path) -> datetime | None:
    m = _NAME.match(path.name)
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if m else None


def _months_back(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, 1)


def to_delete(paths: list[Path], now: datetime, daily: int = 14, monthly: int = 12) -> list[Path]:
    """The backups the policy no longer keeps, oldest first."""
    dated = sorted(((t, p) for p in paths if (t := made_at(p)) is not None), key=lambda tp: tp[0])
    if not dated:
        return []
    today = now.astimezone(CHINA).date()
    keep: set[Path] = {dated[-1][1]}
    newest_of_day: dict[date, Path] = {}
    first_of_month: dict[date, Path] = {}
    for t, p in dated:
        day = t.astimezone(CHINA).date()
        newest_of_day[day] = p  # sorted: the last one wins
        first_of_month.setdefault(day.replace(day=1), p)
    keep |= {p for d, p in newest_of_day.items() if (today - d).days < daily}
    oldest_month = _months_back(today, monthly - 1)
    keep |= {p for m, p in first_of_month.items() if m >= oldest_month}
    return [p for _, p in dated if p not in keep]


def rotate(folder: Path, now: datetime | None = None, daily: int = 14, monthly: int = 12) -> list[Path]:
    """Delete what the policy no longer keeps in ``folder``; the deleted paths."""
    gone = to_delete(sorted(Path(folder).glob(PREFIX + "*.tar.gz")), now or datetime.now(UTC), daily, monthly)
    for p in gone:
        p.unlink(missing_ok=True)
    return gone
