"""Time: stored in UTC, shown in China Standard Time; injectable for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from storage.types import CST as CST
from storage.types import iso as iso


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """The exam-day calendar date, in China."""
        return self.now().astimezone(CST).date()


class FixedClock(Clock):
    """A clock that stands still until moved; tests stand on any day with it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at.astimezone(UTC)

    def advance(self, **kw) -> None:
        self.at = self.at + timedelta(**kw)


def cst(dt: datetime) -> datetime:
    return dt.astimezone(CST)


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        # A time without offset on exam day means China time.
        dt = dt.replace(tzinfo=CST)
    return dt.astimezone(UTC)
