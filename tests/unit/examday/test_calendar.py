"""R-CAL: the working-day calendar, its sources and its provisional years.

Facts for 2026 and earlier come from the official notices carried by the
installed chinese_calendar package (it carries 2004-2026). The 2027 notice
below is invented test data, not the real notice.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from examday.calendar import DEFAULT_CALENDAR, WorkCalendar, YearNotice
from examday.errors import Refusal

D = date.fromisoformat


def _span(first: str, last: str) -> frozenset[date]:
    a, b = D(first), D(last)
    return frozenset(a + timedelta(i) for i in range((b - a).days + 1))


# Hypothetical notice for 2027, including a December 2026 Saturday worked
# and 31 December 2026 off for the New Year holiday.
NOTICE_2027 = YearNotice(
    year=2027,
    holidays=_span("2026-12-31", "2027-01-03")
    | _span("2027-02-05", "2027-02-13")
    | {D("2027-04-05")}
    | _span("2027-05-01", "2027-05-05")
    | {D("2027-06-09")}
    | {D("2027-09-15")}
    | _span("2027-10-01", "2027-10-07"),
    workdays=frozenset(
        D(s) for s in ("2026-12-26", "2027-01-31", "2027-02-20", "2027-05-08", "2027-09-26", "2027-10-09")
    ),
)
WITH_2027 = WorkCalendar([NOTICE_2027])


# R-CAL: official 2026 data, adjusted weekends (调休) included.
@pytest.mark.parametrize(
    "day, working",
    [
        ("2026-10-10", True),  # Saturday worked for National Day
        ("2026-09-20", True),  # Sunday worked for National Day
        ("2026-10-01", False),
        ("2026-10-02", False),
        ("2026-10-03", False),
        ("2026-10-04", False),
        ("2026-10-05", False),
        ("2026-10-06", False),
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-11", False),  # an ordinary Sunday
        ("2026-09-25", False),  # Mid-Autumn, a Friday
        ("2026-09-19", False),  # ordinary Saturday
        ("2026-01-01", False),
        ("2026-01-02", False),
        ("2026-01-04", True),  # Sunday worked for New Year
        ("2026-02-14", True),  # Saturday worked for Spring Festival
        ("2026-02-16", False),
        ("2026-02-23", False),  # Monday, still Spring Festival
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday worked
        ("2026-05-05", False),
        ("2026-05-09", True),  # Saturday worked for Labour Day
        ("2026-06-19", False),  # Dragon Boat
        ("2026-07-15", True),  # ordinary Wednesday
        ("2025-12-31", True),
        ("2011-12-31", True),  # Saturday worked, listed in the 2012 notice
        ("2006-12-30", True),  # Saturday and Sunday worked for New Year 2007
        ("2006-12-31", True),
        ("2022-12-31", False),
    ],
)
def test_official_days(day, working):
    assert DEFAULT_CALENDAR.is_working_day(D(day)) is working


# R-CAL: which years count as provisional.
@pytest.mark.parametrize(
    "year, provisional",
    [
        (2026, False),
        (2025, False),
        (2004, False),
        (2003, True),  # before chinese_calendar's data
        (2027, True),  # chinese_calendar 1.11 stops at 2026
        (2030, True),
        (1900, True),
        (2200, True),
        (0, True),
        (10000, True),
    ],
)
def test_is_provisional(year, provisional):
    assert DEFAULT_CALENDAR.is_provisional(year) is provisional


# R-CAL: years without official data answer anyway, never raise.
@pytest.mark.parametrize(
    "day, working",
    [
        ("2027-10-01", False),  # statutory holiday from holidays.China
        ("2027-01-01", False),
        ("2027-10-09", False),  # no adjusted weekends are known yet
        ("2027-03-10", True),
        ("2027-12-31", True),
        ("2003-10-01", False),
        ("2003-02-08", True),  # holidays.China knows this Saturday was worked
        ("1900-01-01", True),  # Monday; nothing known, Mon-Fri
        ("1900-01-06", False),
        ("1900-12-31", True),
        ("2200-01-01", True),  # Wednesday
        ("2200-06-07", False),  # Saturday
        ("2200-12-31", True),
        ("2150-02-16", True),  # Monday, beyond holidays.China's lunar tables
    ],
)
def test_provisional_days_answer(day, working):
    assert DEFAULT_CALENDAR.is_working_day(D(day)) is working


# R-CAL and R-PLAN-1: counting across holidays and adjusted weekends.
@pytest.mark.parametrize(
    "start, n, expected",
    [
        ("2026-09-29", 5, "2026-10-12"),  # 9-30, 10-8, 10-9, 10-10 (Sat), 10-12
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-01", 1, "2026-10-08"),  # starting on a holiday
        ("2026-10-08", -1, "2026-09-30"),
        ("2026-10-01", -1, "2026-09-30"),
        ("2026-10-12", -5, "2026-09-29"),
        ("2026-10-15", -10, "2026-09-24"),  # filing deadline, skips Mid-Autumn
        ("2026-09-18", 1, "2026-09-20"),  # Friday to the Sunday worked
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2025-12-31", 1, "2026-01-04"),  # across the year end
        ("2026-01-04", -1, "2025-12-31"),
        ("2026-07-15", 0, "2026-07-15"),
        ("2026-10-03", 0, "2026-10-03"),  # n == 0 returns d even on a holiday
        ("2026-01-05", 248, "2027-01-05"),  # into a provisional year: 246 + 1-4, 1-5
        ("1900-01-01", 1, "1900-01-02"),
        ("2200-12-31", 1, "2201-01-01"),
        ("2200-12-31", -2, "2200-12-29"),
    ],
)
def test_add_working_days(start, n, expected):
    assert DEFAULT_CALENDAR.add_working_days(D(start), n) == D(expected)


# R-CAL: (a, b] half-open, negative when b < a.
@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("2026-09-29", "2026-10-12", 5),
        ("2026-10-12", "2026-09-29", -5),
        ("2026-09-30", "2026-10-07", 0),
        ("2026-09-29", "2026-09-30", 1),
        ("2026-09-30", "2026-09-30", 0),
        ("2025-12-31", "2026-01-05", 2),
        ("2025-12-31", "2026-12-31", 248),
        ("2026-10-02", "2026-10-10", 3),
        ("1900-01-01", "1900-01-08", 5),
        ("2199-12-31", "2200-12-31", 261),
    ],
)
def test_working_days_between(a, b, expected):
    assert DEFAULT_CALENDAR.working_days_between(D(a), D(b)) == expected


def test_add_and_count_agree_with_a_day_by_day_walk():
    # R-CAL: the per-year prefix sums give the same answers as stepping.
    cal = WITH_2027
    for start in (D("2025-11-20"), D("2026-09-27"), D("2026-12-26"), D("2027-02-04")):
        for n in range(-40, 41):
            d, left = start, abs(n)
            while left:
                d += timedelta(1 if n > 0 else -1)
                left -= cal.is_working_day(d)
            assert cal.add_working_days(start, n) == d
        for k in range(0, 60, 7):
            end = start + timedelta(k)
            walked = sum(cal.is_working_day(start + timedelta(i)) for i in range(1, k + 1))
            assert cal.working_days_between(start, end) == walked
            assert cal.working_days_between(end, start) == -walked


# R-CAL: an entered notice makes its year official and changes answers,
# including a December 2026 date listed in the 2027 notice.
@pytest.mark.parametrize(
    "day, before, after",
    [
        ("2026-12-26", False, True),  # Saturday worked, from the 2027 notice
        ("2026-12-31", True, False),  # holiday, from the 2027 notice
        ("2026-12-30", True, True),
        ("2027-01-31", False, True),
        ("2027-02-11", True, False),
        ("2027-02-12", True, False),
        ("2027-02-20", False, True),
        ("2027-05-05", True, False),
        ("2027-05-08", False, True),
        ("2027-09-26", False, True),
        ("2027-10-06", True, False),
        ("2027-10-09", False, True),
        ("2027-10-01", False, False),
        ("2027-07-14", True, True),
        ("2026-10-10", True, True),  # 2026 itself is untouched
    ],
)
def test_notice_changes_answers(day, before, after):
    assert DEFAULT_CALENDAR.is_working_day(D(day)) is before
    assert WITH_2027.is_working_day(D(day)) is after
    assert DEFAULT_CALENDAR.with_notice(NOTICE_2027).is_working_day(D(day)) is after


@pytest.mark.parametrize(
    "start, n, before, after",
    [
        ("2027-09-30", 1, "2027-10-06", "2027-10-08"),
        ("2026-12-24", 2, "2026-12-28", "2026-12-26"),
        ("2026-12-30", 1, "2026-12-31", "2027-01-04"),
        ("2027-10-08", -1, "2027-10-07", "2027-09-30"),
    ],
)
def test_notice_changes_deadlines(start, n, before, after):
    assert DEFAULT_CALENDAR.add_working_days(D(start), n) == D(before)
    assert WITH_2027.add_working_days(D(start), n) == D(after)


@pytest.mark.parametrize(
    "a, b, before, after",
    [
        ("2026-12-20", "2026-12-27", 5, 6),
        ("2027-09-30", "2027-10-09", 3, 2),
    ],
)
def test_notice_changes_counts(a, b, before, after):
    assert DEFAULT_CALENDAR.working_days_between(D(a), D(b)) == before
    assert WITH_2027.working_days_between(D(a), D(b)) == after


@pytest.mark.parametrize(
    "a, b, default, with_2027",
    [
        ("2025-06-01", "2028-01-01", [2027, 2028], [2028]),
        ("2028-01-01", "2025-06-01", [2027, 2028], [2028]),
        ("2026-01-01", "2026-12-31", [], []),
        ("2027-03-01", "2027-03-02", [2027], []),
        ("2003-12-30", "2004-01-05", [2003], [2003]),
    ],
)
def test_provisional_years_in(a, b, default, with_2027):
    # R-CAL: deadlines on these years are shown as provisional.
    assert DEFAULT_CALENDAR.provisional_years_in(D(a), D(b)) == default
    assert WITH_2027.provisional_years_in(D(a), D(b)) == with_2027


def test_with_notice_leaves_the_original_alone():
    before = DEFAULT_CALENDAR.is_working_day(D("2026-12-26"))
    cal = DEFAULT_CALENDAR.with_notice(NOTICE_2027)
    assert not cal.is_provisional(2027)
    assert DEFAULT_CALENDAR.is_provisional(2027)
    assert DEFAULT_CALENDAR.is_working_day(D("2026-12-26")) is before is False
    assert cal.notices == (NOTICE_2027,)


def test_with_notice_replaces_the_same_year_and_clears_its_cache():
    # R-CAL: an admin correcting a notice sees the corrected answers at once.
    first = WITH_2027
    assert first.is_working_day(D("2027-10-09")) is True
    assert first.is_working_day(D("2026-12-26")) is True
    corrected = first.with_notice(YearNotice(2027, NOTICE_2027.holidays, frozenset()))
    assert corrected.is_working_day(D("2027-10-09")) is False
    assert corrected.is_working_day(D("2026-12-26")) is False
    assert len(corrected.notices) == 1


@pytest.mark.parametrize(
    "day, working",
    [
        ("2011-10-04", True),  # the admin's notice outranks the package
        ("2011-10-03", False),
        ("2011-10-01", False),  # a Saturday stays off
        ("2011-12-31", True),  # still known from the package's 2012 data
        ("2012-01-23", False),  # 2012 untouched
    ],
)
def test_entered_notice_outranks_package(day, working):
    # R-CAL: priority is entered notice > chinese_calendar; the deliberately
    # incomplete notice shows whose answer wins.
    cal = WorkCalendar([YearNotice(2011, frozenset({D("2011-10-03")}), frozenset())])
    assert cal.is_working_day(D(day)) is working
    assert not cal.is_provisional(2011)


@pytest.mark.parametrize(
    "holidays, workdays, reason",
    [
        ({D("2026-06-01")}, set(), "date_outside_year"),
        (set(), {D("2026-11-28")}, "date_outside_year"),  # only December of Y-1
        ({D("2028-01-01")}, set(), "date_outside_year"),
        ({D("2027-10-09")}, {D("2027-10-09")}, "holiday_and_workday"),
    ],
)
def test_year_notice_refuses_bad_dates(holidays, workdays, reason):
    # R-CAL
    with pytest.raises(Refusal) as caught:
        YearNotice(2027, frozenset(holidays), frozenset(workdays))
    assert caught.value.code == "invalid_year_notice"
    assert caught.value.rule == "R-CAL"
    assert caught.value.status == 422
    assert caught.value.detail["reason"] == reason


def test_year_notice_accepts_any_iterable_of_dates():
    from datetime import datetime

    n = YearNotice(2027, [D("2027-10-01")], {datetime(2026, 12, 26, 9, 0)})  # type: ignore[arg-type]
    assert n.holidays == frozenset({D("2027-10-01")})
    assert n.workdays == frozenset({D("2026-12-26")})
    assert WorkCalendar([n]).is_working_day(D("2026-12-26")) is True


@pytest.mark.parametrize("year", [1900, 1901, 1949, 1950, 2003, 2099, 2100, 2101, 2199, 2200])
def test_every_year_in_range_answers(year):
    # R-CAL: nothing crashes for lack of data.
    cal = WorkCalendar()
    first, last = date(year, 1, 1), date(year, 12, 31)
    count = cal.working_days_between(first - timedelta(1), last)
    assert 200 <= count <= 262
    assert cal.add_working_days(first, 10) > first
    assert cal.add_working_days(last, -10) < last
    assert isinstance(cal.is_provisional(year), bool)
