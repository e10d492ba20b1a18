"""Issue #19: old backups rotate — the newest of each of the last 14 days, the first of each of the
last 12 months, the newest always; pre-upgrade backups never rotate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.backup import backup_name
from storage.backup_rotation import rotate, to_delete


def nightly(start: datetime, days: int, folder: Path) -> list[Path]:
    paths = []
    for d in range(days):
        for hour in (18, 19):  # two a day (China's 02:30 and 03:30): only the later one stays
            p = folder / backup_name(start + timedelta(days=d, hours=hour, minutes=30))
            p.write_bytes(b"x")
            paths.append(p)
    return paths


def test_daily_for_14_days_and_monthly_for_12_months(tmp_path):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    nightly(start, 500, tmp_path)
    (tmp_path / "examday-pre-upgrade-20250101T000000Z.tar.gz").write_bytes(b"x")
    now = start + timedelta(days=499, hours=20)
    rotate(tmp_path, now)
    kept = sorted(p.name for p in tmp_path.glob("examday-backup-*"))
    china = timedelta(hours=8)
    days = sorted({(datetime.strptime(n[15:31], "%Y%m%dT%H%M%SZ") + china).date() for n in kept})
    recent = [d for d in days if (now + china).date() - d < timedelta(days=14)]
    assert len(recent) == 14 and len(kept) == 14 + 12  # 16 May: the 1st is not among the last 14 days
    months = {(d.year, d.month) for d in days}
    assert len(months) == 12
    # Each month's first backup is kept: made at 02:30 China time on the 1st.
    firsts = [n for n in kept if (datetime.strptime(n[15:31], "%Y%m%dT%H%M%SZ") + china).day == 1]
    assert len(firsts) == 12 and firsts[0].startswith("examday-backup-20250531T18")  # 1 June, China time
    assert (tmp_path / "examday-pre-upgrade-20250101T000000Z.tar.gz").exists()


def test_the_newest_backup_always_stays(tmp_path):
    old = tmp_path / backup_name(datetime(2020, 1, 1, tzinfo=UTC))
    old.write_bytes(b"x")
    assert to_delete([old], datetime(2026, 1, 1, tzinfo=UTC)) == []
