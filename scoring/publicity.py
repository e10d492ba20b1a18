"""Score publicity, the lock, and the reporting deadline (成绩公示).

Rules enforced here:

- R-PUB-1 — scores are published for at least 5 working days; the batch locks
  only after that, and not while an objection (异议) is open.
- R-PUB-2 — score and certificate data are reported to the evaluation centre
  within 30 working days from the certificate issue date.

Working days come from a calendar object (R-CAL), passed in. It needs two
methods, which ``examday.calendar.WorkCalendar`` provides:

- ``is_working_day(d) -> bool``
- ``add_working_days(d, n) -> date``: the n-th working day strictly after
  ``d`` (n ≥ 1), so Friday + 1 is the next Monday unless that is a holiday,
  and a holiday + 1 is the first working day after it.

The window, precisely:

- the first day is ``starts_on`` if it is a working day, else the next
  working day; the service passes the first *full* day of publicity (if
  scores go up in the afternoon, that is the next day);
- ``ends_on`` is the 5th working day counting the first (first + 4);
- the lock is allowed from the calendar day after ``ends_on``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from scoring.panel_rules import Violation

PUBLICITY_WORKING_DAYS = 5
REPORTING_WORKING_DAYS = 30


class WorkingDays(Protocol):
    def is_working_day(self, d: date) -> bool: ...

    def add_working_days(self, d: date, n: int) -> date: ...


def publicity_window(starts_on: date, calendar: WorkingDays) -> tuple[date, date]:
    """(first day, last day) of the publicity, both working days (R-PUB-1)."""
    first = starts_on if calendar.is_working_day(starts_on) else calendar.add_working_days(starts_on, 1)
    # R-PUB-1: 5 full working days, the first one included.
    ends_on = calendar.add_working_days(first, PUBLICITY_WORKING_DAYS - 1)
    return first, ends_on


def lock_allowed_from(ends_on: date) -> date:
    """The first day the batch may lock: the day after publicity ends, working or not."""
    return ends_on + timedelta(days=1)


def lock_violations(today: date, ends_on: date | None, open_objections: int) -> list[Violation]:
    """Every reason the batch may not lock today; empty when it may."""
    if isinstance(open_objections, bool) or not isinstance(open_objections, int) or open_objections < 0:
        raise ValueError("open_objections must be a count")
    out: list[Violation] = []
    # R-PUB-1: the last day of publicity is still publicity.
    if ends_on is None:
        out.append(
            Violation(
                "publicity_not_over",
                "R-PUB-1",
                "成绩尚未公示，不能锁定",
                "Scores have not been published yet; the batch cannot lock.",
            )
        )
    elif today < lock_allowed_from(ends_on):
        out.append(
            Violation(
                "publicity_not_over",
                "R-PUB-1",
                f"成绩公示至{ends_on.isoformat()}，{lock_allowed_from(ends_on).isoformat()}起方可锁定",
                f"Publicity runs until {ends_on.isoformat()}; the batch can lock from "
                f"{lock_allowed_from(ends_on).isoformat()}.",
                detail={"ends_on": ends_on.isoformat(), "lock_from": lock_allowed_from(ends_on).isoformat()},
            )
        )
    # R-PUB-1: publicity exists so that objections are heard; one still open blocks the lock.
    if open_objections:
        out.append(
            Violation(
                "objection_open",
                "R-PUB-1",
                f"尚有{open_objections}项异议未处理，不能锁定",
                f"{open_objections} objection(s) still open; the batch cannot lock.",
                detail={"open_objections": open_objections},
            )
        )
    return out


def can_lock(today: date, ends_on: date | None, open_objections: int) -> Violation | None:
    """The first reason the batch may not lock today, or None when it may.

    Publicity comes before objections: it is the reason that cannot be
    cleared by acting today.
    """
    violations = lock_violations(today, ends_on, open_objections)
    return violations[0] if violations else None


def reporting_deadline(issue_date: date, calendar: WorkingDays) -> date:
    """R-PUB-2: the last day to report to the centre, 30 working days after issue."""
    return calendar.add_working_days(issue_date, REPORTING_WORKING_DAYS)
