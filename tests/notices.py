"""Entering a holiday notice (R-CAL) in tests: the year as the calendar knows it now, with days
moved, POSTed by the installation administrator (the only one who may, R-CAL)."""

from __future__ import annotations

from datetime import date, timedelta

from examday.calendar import DEFAULT_CALENDAR
from tests.support import bearer


def notice_of(year: int, holidays: tuple[date, ...] = (), workdays: tuple[date, ...] = ()) -> dict:
    """The year's notice as the packages know it, plus ``holidays`` off and ``workdays`` worked.

    An entered notice replaces the packages for its year, so it lists every holiday, not only the change.
    """
    off, on = set(holidays), set(workdays)
    d = date(year, 1, 1)
    while d.year == year:
        working = DEFAULT_CALENDAR.is_working_day(d)
        if d.weekday() < 5 and not working:
            off.add(d)
        elif d.weekday() >= 5 and working:
            on.add(d)
        d += timedelta(days=1)
    on -= set(holidays)
    off -= set(workdays)
    return {"year": year, "holidays": sorted(x.isoformat() for x in off), "workdays": sorted(x.isoformat() for x in on)}


def enter_notice(client, world, notice: dict, username: str = "root") -> None:
    """POST the notice as the installation administrator ``username`` (an account made here)."""
    r = client.post("/api/v1/calendar/notices", headers=bearer(world.token(username, "admin")), json=notice)
    assert r.status_code == 201, r.text
