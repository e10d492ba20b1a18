"""Column types shared by every package's tables, and the time zone records are shown in.

:mod:`examday.clock` re-exports ``CST`` and ``iso`` for the packages above."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

CST = ZoneInfo("Asia/Shanghai")


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset, the form the contract shows people."""
    return None if dt is None else dt.astimezone(CST).isoformat()


class UTCDateTime(TypeDecorator):
    """Stores UTC, hands back aware UTC datetimes on SQLite and PostgreSQL alike.

    SQLite has no time zones; without this a datetime read back is naive and
    comparisons with the injected clock would fail or, worse, silently shift.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
