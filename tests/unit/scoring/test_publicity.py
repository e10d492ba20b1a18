"""Publicity window, lock and reporting deadline (R-PUB-1, R-PUB-2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scoring.publicity import can_lock, lock_allowed_from, lock_violations, publicity_window, reporting_deadline


class FakeCalendar:
    """Weekdays work, except holidays; some weekend days are adjusted working days (调休)."""

    def __init__(self, holidays: set[date], working_weekends: set[date]) -> None:
        self.holidays = holidays
        self.working_weekends = working_weekends

    def is_working_day(self, d: date) -> bool:
        if d in self.working_weekends:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, d: date, n: int) -> date:
        assert n >= 1
        while n:
            d += timedelta(days=1)
            n -= self.is_working_day(d)
        return d


def span(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


# A National-Day-like week: 1–8 October off, Sunday 28 September and Saturday 11 October worked.
NATIONAL_DAY = FakeCalendar(span(date(2025, 10, 1), date(2025, 10, 8)), {date(2025, 9, 28), date(2025, 10, 11)})
# A New-Year-like holiday whose adjusted working Saturday falls in the year before.
NEW_YEAR = FakeCalendar(span(date(2026, 1, 1), date(2026, 1, 3)), {date(2025, 12, 27)})


# R-PUB-1: 5 full working days, counting the first.
@pytest.mark.parametrize(
    "calendar, starts_on, first, ends_on",
    [
        (NATIONAL_DAY, date(2025, 9, 15), date(2025, 9, 15), date(2025, 9, 19)),  # plain Mon–Fri
        (NATIONAL_DAY, date(2025, 9, 17), date(2025, 9, 17), date(2025, 9, 23)),  # over a weekend
        (NATIONAL_DAY, date(2025, 9, 20), date(2025, 9, 22), date(2025, 9, 26)),  # starts on a Saturday
        (NATIONAL_DAY, date(2025, 9, 26), date(2025, 9, 26), date(2025, 10, 9)),  # 26, Sun 28, 29, 30, 9
        (NATIONAL_DAY, date(2025, 9, 27), date(2025, 9, 28), date(2025, 10, 10)),  # Sat → adjusted Sunday
        (NATIONAL_DAY, date(2025, 9, 28), date(2025, 9, 28), date(2025, 10, 10)),
        (NATIONAL_DAY, date(2025, 9, 30), date(2025, 9, 30), date(2025, 10, 13)),  # 30, 9, 10, Sat 11, 13
        (NATIONAL_DAY, date(2025, 10, 1), date(2025, 10, 9), date(2025, 10, 14)),  # holiday → after it
        (NATIONAL_DAY, date(2025, 10, 8), date(2025, 10, 9), date(2025, 10, 14)),
        (NATIONAL_DAY, date(2025, 10, 11), date(2025, 10, 11), date(2025, 10, 16)),
        (NEW_YEAR, date(2025, 12, 26), date(2025, 12, 26), date(2025, 12, 31)),  # 26, Sat 27, 29, 30, 31
        (NEW_YEAR, date(2025, 12, 27), date(2025, 12, 27), date(2026, 1, 5)),  # adjusted Sat in the year before
        (NEW_YEAR, date(2025, 12, 30), date(2025, 12, 30), date(2026, 1, 7)),  # 30, 31, 5, 6, 7
        (NEW_YEAR, date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 9)),
    ],
)
def test_publicity_window(calendar, starts_on, first, ends_on):
    assert publicity_window(starts_on, calendar) == (first, ends_on)


@pytest.mark.parametrize("calendar", [NATIONAL_DAY, NEW_YEAR])
def test_window_always_holds_exactly_five_working_days(calendar):
    day = date(2025, 9, 1)
    while day < date(2026, 1, 31):
        first, ends_on = publicity_window(day, calendar)
        inside = sorted(d for d in span(first, ends_on) if calendar.is_working_day(d))
        assert len(inside) == 5 and inside[0] == first and inside[-1] == ends_on
        assert first >= day and all(not calendar.is_working_day(d) for d in span(day, first) - {first})
        day += timedelta(days=1)


@pytest.mark.parametrize(
    "ends_on, lock_from",
    [
        (date(2025, 10, 9), date(2025, 10, 10)),
        (date(2025, 9, 26), date(2025, 9, 27)),  # Friday: the lock may come on Saturday
        (date(2025, 12, 31), date(2026, 1, 1)),
    ],
)
def test_lock_allowed_from_the_day_after(ends_on, lock_from):
    assert lock_allowed_from(ends_on) == lock_from


# R-PUB-1: no lock before the publicity is over, nor with an objection open.
@pytest.mark.parametrize(
    "today, ends_on, open_objections, expected",
    [
        (date(2025, 10, 10), date(2025, 10, 9), 0, None),
        (date(2025, 10, 20), date(2025, 10, 9), 0, None),
        (date(2025, 10, 9), date(2025, 10, 9), 0, "publicity_not_over"),  # last day is still publicity
        (date(2025, 9, 26), date(2025, 10, 9), 0, "publicity_not_over"),
        (date(2025, 10, 10), date(2025, 10, 9), 1, "objection_open"),
        (date(2025, 10, 10), date(2025, 10, 9), 3, "objection_open"),
        (date(2025, 10, 9), date(2025, 10, 9), 2, "publicity_not_over"),
        (date(2025, 10, 10), None, 0, "publicity_not_over"),
    ],
)
def test_can_lock(today, ends_on, open_objections, expected):
    violation = can_lock(today, ends_on, open_objections)
    assert (violation.code if violation else None) == expected
    if violation:
        assert violation.rule == "R-PUB-1"
        assert violation.message and violation.message_en


def test_lock_violations_lists_both():
    violations = lock_violations(date(2025, 10, 1), date(2025, 10, 9), 2)
    assert [v.code for v in violations] == ["publicity_not_over", "objection_open"]
    assert violations[0].detail == {"ends_on": "2025-10-09", "lock_from": "2025-10-10"}


@pytest.mark.parametrize("count", [-1, True, 1.0])
def test_objection_count_must_be_a_count(count):
    with pytest.raises(ValueError):
        can_lock(date(2025, 10, 10), date(2025, 10, 9), count)


# R-PUB-2: report within 30 working days from the certificate issue date.
@pytest.mark.parametrize(
    "calendar, issue_date, deadline",
    [
        # Sep: 2–5 (4), 8–12 (9), 15–19 (14), 22–26 (19), Sun 28 (20), 29–30 (22);
        # Oct: 9–10 (24), Sat 11 (25), 13–17 (30).
        (NATIONAL_DAY, date(2025, 9, 1), date(2025, 10, 17)),
        # Oct 9, 10, Sat 11 (3), 13–17 (8), 20–24 (13), 27–31 (18), Nov 3–7 (23), 10–14 (28), 17–18 (30).
        (NATIONAL_DAY, date(2025, 9, 30), date(2025, 11, 18)),
        (NATIONAL_DAY, date(2025, 10, 3), date(2025, 11, 18)),  # issued on a holiday: counting starts after it
        (NATIONAL_DAY, date(2025, 11, 3), date(2025, 12, 15)),  # six plain weeks
    ],
)
def test_reporting_deadline(calendar, issue_date, deadline):
    assert reporting_deadline(issue_date, calendar) == deadline
