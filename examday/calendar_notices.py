"""Entered holiday notices (国务院办公厅关于部分节假日安排的通知) — rule R-CAL.

The calendar packages lag the State Council: the notice for year Y comes out
around November of Y-1, and until a package release carries it, Y is
provisional. An admin types the notice in here; from then on Y is official
for every deadline this installation computes.

Every derived date is computed on read from ``load_calendar``, never stored
for enforcement: the last filing day (R-PLAN-1), the publicity window, its
objection deadline and the lock (R-PUB-1), the supervision deadline (R-SUP-1)
and the reporting deadline (R-PUB-2). A notice entered today moves them all.
It is called on every such read, so the calendar is cached per process. The cache key is read from the database (each row's ``stamp``, a
fresh random value on every write), so another server process, or another
database in the same process, never gets a stale calendar.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from examday import audit
from examday.access import can_enter_calendar_notice
from examday.actor import Actor
from examday.calendar import DEFAULT_CALENDAR, WorkCalendar, YearNotice
from examday.clock import iso
from examday.errors import Refusal, conflict, forbidden
from storage.types import UTCDateTime

MIN_YEAR, MAX_YEAR = 2000, 2100


class CalendarNotice(SQLModel, table=True):
    """One year's holiday notice as entered by an admin (R-CAL)."""

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    holidays: list = Field(default_factory=list, sa_type=JSON)  # ["YYYY-MM-DD", ...]
    workdays: list = Field(default_factory=list, sa_type=JSON)  # adjusted working weekends (调休上班)
    entered_by: str = Field(max_length=80)
    entered_by_account: int | None = None
    entered_at: datetime = Field(sa_type=UTCDateTime)
    stamp: str = Field(max_length=32)


_lock = threading.Lock()
_cache: dict[tuple, WorkCalendar] = {}
_CACHE_SIZE = 8


def _cache_key(db: Session) -> tuple:
    rows = db.exec(select(CalendarNotice.year, CalendarNotice.stamp).order_by(col(CalendarNotice.year))).all()
    return tuple((y, s) for y, s in rows)


def _notice_of(row: CalendarNotice) -> YearNotice:
    return YearNotice(
        row.year,
        frozenset(date.fromisoformat(d) for d in row.holidays),
        frozenset(date.fromisoformat(d) for d in row.workdays),
    )


def load_calendar(db: Session) -> WorkCalendar:
    """The working-day calendar: the packages' data plus every entered notice (R-CAL)."""
    key = _cache_key(db)
    if not key:
        return DEFAULT_CALENDAR
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = db.exec(select(CalendarNotice)).all()
    calendar = WorkCalendar(_notice_of(r) for r in rows)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = calendar
    return calendar


def _dates(values: Iterable[Any], what: str) -> list[date]:
    out = []
    for v in values or ():
        if isinstance(v, datetime):
            v = v.date()
        if isinstance(v, date):
            out.append(v)
            continue
        try:
            out.append(date.fromisoformat(str(v).strip()))
        except ValueError:
            raise Refusal(
                "invalid_date",
                f"日期格式应为 YYYY-MM-DD：{v}",
                f"A date is written YYYY-MM-DD: {v!r}.",
                "R-CAL",
                422,
                {"field": what, "value": str(v)},
            ) from None
    return sorted(set(out))


def enter_notice(
    db: Session, actor: Actor, year: int, holidays: Iterable[Any], workdays: Iterable[Any], now: datetime
) -> CalendarNotice:
    """Enter (or correct) a year's official notice; audited. The caller commits."""
    if not can_enter_calendar_notice(actor):
        raise forbidden("Only the installation administrator enters the State Council's holiday notice.")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refusal(
            "invalid_year",
            f"年份须在{MIN_YEAR}至{MAX_YEAR}之间",
            f"The year must be {MIN_YEAR}-{MAX_YEAR}.",
            "R-CAL",
            422,
            {"year": year},
        )
    off, on = _dates(holidays, "holidays"), _dates(workdays, "workdays")
    if not off:
        raise Refusal(
            "holidays_required",
            "放假通知须至少包含一个放假日期",
            "A holiday notice lists at least one day off.",
            "R-CAL",
        )
    YearNotice(year, frozenset(off), frozenset(on))  # R-CAL: refuses stray years and contradictions
    off_text, on_text = [d.isoformat() for d in off], [d.isoformat() for d in on]
    row = db.exec(select(CalendarNotice).where(CalendarNotice.year == year)).first()
    before = None if row is None else {"holidays": list(row.holidays), "workdays": list(row.workdays)}
    if row is None:
        row = CalendarNotice(
            year=year,
            holidays=off_text,
            workdays=on_text,
            entered_by=actor.username,
            entered_by_account=actor.account_id,
            entered_at=now,
            stamp="",
        )
    else:
        row.holidays, row.workdays = off_text, on_text
        row.entered_by, row.entered_by_account, row.entered_at = actor.username, actor.account_id, now
    # A new stamp is the version bump: every process's cached calendar misses from now on.
    row.stamp = secrets.token_hex(16)
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # another admin entered the same year a moment ago
        db.rollback()
        raise conflict(
            "notice_entered_concurrently",
            f"{year}年放假通知刚被他人录入，请刷新后重试",
            f"The {year} notice was just entered by someone else; reload and try again.",
            "R-CAL",
        ) from None
    audit.record(
        db,
        actor,
        "calendar.notice" if before is None else "calendar.notice_correct",
        "calendar_notice",
        year,
        audit.diff_of(before, {"holidays": off_text, "workdays": on_text}),
        now,
        actor.institution_id,
    )
    return row


def year_view(db: Session, year: int) -> dict[str, Any]:
    """What the calendar says about ``year``: provisional or not, days off on weekdays, weekend workdays."""
    if not 1 <= year <= 9998:
        raise Refusal("invalid_year", "年份无效", "No such year.", "R-CAL", 422, {"year": year})
    cal = load_calendar(db)
    start, end = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    holidays, workdays = [], []
    for o in range(start, end + 1):
        d = date.fromordinal(o)
        working = cal.is_working_day(d)
        if d.weekday() < 5 and not working:
            holidays.append(d.isoformat())
        elif d.weekday() >= 5 and working:
            workdays.append(d.isoformat())
    row = db.exec(select(CalendarNotice).where(CalendarNotice.year == year)).first()
    return {
        "year": year,
        "provisional": cal.is_provisional(year),
        "source": "entered" if row is not None else ("provisional" if cal.is_provisional(year) else "package"),
        "holidays": holidays,
        "workdays": workdays,
        "notice": None
        if row is None
        else {
            "holidays": list(row.holidays),
            "workdays": list(row.workdays),
            "entered_by": row.entered_by,
            "entered_at": iso(row.entered_at),
        },
    }
