"""Mainland China working-day calendar (工作日历, with 调休) — rule R-CAL.

Deadlines such as R-PLAN-1 (10 working days), R-PUB-1 and R-SUP-1 count
working days as the State Council's yearly notice defines them: public
holidays are off, and some weekends are adjusted working days that pay for
them. Sources, best first:

1. a ``YearNotice`` an admin entered (official);
2. the ``chinese_calendar`` package, for the years it carries (official);
3. ``holidays.China``: statutory holidays computed by rule, with no adjusted
   weekends for years whose notice is not out yet (provisional);
4. plain Monday to Friday (provisional).

A year answered by source 3 or 4 is *provisional*: callers show deadlines
on it as such, and nothing raises for lack of data.

A notice for year Y may list dates in late December of Y-1 (a Saturday
worked, or 31 December off, for the New Year holiday). No holiday block or
make-up day of year Y's own notice ever falls in December (the last block,
National Day, ends in October), so December's departures from Mon-Fri belong
to the next year's notice; the code relies on that split.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import accumulate

import chinese_calendar
import holidays as holidays_pkg

from examday.errors import Refusal

__all__ = ["DEFAULT_CALENDAR", "WorkCalendar", "YearNotice"]


def _as_date(value: object) -> date:
    # A datetime never equals a date, so one left in a set would be ignored.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


@dataclass(frozen=True)
class YearNotice:
    """One year's State Council holiday notice, as an admin enters it."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        off = frozenset(_as_date(d) for d in self.holidays)
        on = frozenset(_as_date(d) for d in self.workdays)
        object.__setattr__(self, "holidays", off)
        object.__setattr__(self, "workdays", on)
        # R-CAL: a typo'd year would silently shift deadlines, so refuse it.
        stray = sorted(d for d in off | on if not self._belongs(d))
        if stray:
            raise Refusal(
                "invalid_year_notice",
                f"{self.year}年放假通知中的日期须在{self.year}年内或{self.year - 1}年12月："
                + "、".join(d.isoformat() for d in stray),
                f"Dates in the {self.year} notice must fall in {self.year} or in "
                f"December {self.year - 1}: " + ", ".join(d.isoformat() for d in stray),
                "R-CAL",
                detail={"reason": "date_outside_year", "dates": [d.isoformat() for d in stray]},
            )
        both = sorted(off & on)
        if both:
            raise Refusal(
                "invalid_year_notice",
                "同一天不能既放假又上班：" + "、".join(d.isoformat() for d in both),
                "A day cannot be both a holiday and a working day: " + ", ".join(d.isoformat() for d in both),
                "R-CAL",
                detail={"reason": "holiday_and_workday", "dates": [d.isoformat() for d in both]},
            )

    def _belongs(self, d: date) -> bool:
        return d.year == self.year or (d.year == self.year - 1 and d.month == 12)


def _weekday_flags(year: int) -> list[bool]:
    start = date(year, 1, 1).toordinal()
    end = date(year, 12, 31).toordinal()
    return [date.fromordinal(o).weekday() < 5 for o in range(start, end + 1)]


def _chinese_calendar_flags(year: int) -> list[bool] | None:
    start = date(year, 1, 1).toordinal()
    end = date(year, 12, 31).toordinal()
    try:
        return [chinese_calendar.is_workday(date.fromordinal(o)) for o in range(start, end + 1)]
    # It raises NotImplementedError outside the years it carries; anything
    # else it raises also means "no official data", never a crashed deadline.
    except Exception:
        return None


def _holidays_china_flags(year: int) -> list[bool]:
    flags = _weekday_flags(year)
    start = date(year, 1, 1).toordinal()
    try:
        # The following year's data is asked for too: its New Year make-up
        # days can fall in this December.
        china = holidays_pkg.country_holidays("CN", years=(year, year + 1))  # holidays.China
        off = [d for d in china if d.year == year]
        on = [d for d in getattr(china, "weekend_workdays", ()) if d.year == year]
    # A provisional source failing (e.g. beyond its lunar tables) degrades to
    # Mon-Fri instead of breaking a deadline.
    except Exception:
        return flags
    for d in off:
        flags[d.toordinal() - start] = False
    for d in on:
        flags[d.toordinal() - start] = True
    return flags


@cache
def _package_year(year: int) -> tuple[tuple[bool, ...], bool]:
    """(working-day flags, provisional) from the installed packages."""
    official = _chinese_calendar_flags(year)
    if official is not None:
        return tuple(official), False
    return tuple(_holidays_china_flags(year)), True


@dataclass(frozen=True)
class _Year:
    start: int  # ordinal of 1 January
    flags: tuple[bool, ...]
    cum: tuple[int, ...]  # cum[i]: working days among days 0..i of the year

    @property
    def total(self) -> int:
        return self.cum[-1]

    def before(self, i: int) -> int:
        return self.cum[i - 1] if i else 0


class WorkCalendar:
    """Working days of mainland China (R-CAL); immutable, cached per year."""

    def __init__(self, notices: Iterable[YearNotice] = ()) -> None:
        by_year: dict[int, YearNotice] = {}
        for notice in notices:
            by_year[notice.year] = notice  # a later entry corrects an earlier one
        self._notices = by_year
        self._years: dict[int, _Year] = {}

    @property
    def notices(self) -> tuple[YearNotice, ...]:
        return tuple(self._notices[y] for y in sorted(self._notices))

    def with_notice(self, notice: YearNotice) -> WorkCalendar:
        """A calendar that also knows ``notice`` (replacing one for the same year)."""
        other = WorkCalendar([*self._notices.values(), notice])
        # Only the notice's year and the December before it can change.
        other._years = {y: v for y, v in self._years.items() if y not in (notice.year, notice.year - 1)}
        return other

    # -- per-year data -------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build(year)
        return cached

    def _build(self, year: int) -> _Year:
        own = self._notices.get(year)
        nxt = self._notices.get(year + 1)
        package = _package_year(year)[0]
        weekdays = _weekday_flags(year)
        start = date(year, 1, 1).toordinal()
        december = date(year, 12, 1).toordinal() - start

        if own is not None:
            # R-CAL: an entered notice outranks the packages for its year,
            # but this December still follows whoever knows next year's notice.
            flags = weekdays[:december] + list(package[december:])
        else:
            flags = list(package)
        if nxt is not None:
            flags[december:] = weekdays[december:]
        for notice in (own, nxt):
            if notice is None:
                continue
            for d in notice.holidays:
                if d.year == year:
                    flags[d.toordinal() - start] = False
            for d in notice.workdays:
                if d.year == year:
                    flags[d.toordinal() - start] = True
        return _Year(start, tuple(flags), tuple(accumulate(map(int, flags))))

    def _locate(self, d: date) -> tuple[_Year, int]:
        year = self._year(d.year)
        return year, d.toordinal() - year.start

    # -- queries -------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        year, i = self._locate(d)
        return year.flags[i]

    def is_provisional(self, year: int) -> bool:
        """True when no official notice is known for ``year`` (R-CAL)."""
        if year in self._notices:
            return False
        if not 1 <= year <= 9999:
            return True
        return _package_year(year)[1]

    def provisional_years_in(self, a: date, b: date) -> list[int]:
        lo, hi = sorted((a.year, b.year))
        return [y for y in range(lo, hi + 1) if self.is_provisional(y)]

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in the half-open interval (a, b]; negative when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        ya, ia = self._locate(a)
        yb, ib = self._locate(b)
        if a.year == b.year:
            return yb.cum[ib] - ya.cum[ia]
        middle = sum(self._year(y).total for y in range(a.year + 1, b.year))
        return (ya.total - ya.cum[ia]) + middle + yb.cum[ib]

    def add_working_days(self, d: date, n: int) -> date:
        """The nth working day after ``d`` (before it when n < 0); ``d`` when n == 0."""
        if n == 0:
            return _as_date(d)
        year, i = self._locate(d)
        y = d.year
        if n > 0:
            remaining = n
            after = year.total - year.cum[i]
            base = year.cum[i]
            while remaining > after:
                remaining -= after
                y += 1
                year = self._year(y)
                after, base = year.total, 0
            return date.fromordinal(year.start + bisect_left(year.cum, base + remaining))
        remaining = -n
        before = year.before(i)
        while remaining > before:
            remaining -= before
            y -= 1
            year = self._year(y)
            before = year.total
        return date.fromordinal(year.start + bisect_left(year.cum, before - remaining + 1))


DEFAULT_CALENDAR = WorkCalendar()
