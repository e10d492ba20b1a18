"""Filing rules (备案), pure: a filing is valid 3 years and renewed in the 90 days before it expires.

R-INST-2: an expired, suspended or revoked filing stops plans and exams; a
renewal is a new 3-year filing that follows on without a gap. Nothing here
reads a database or a clock: ``today`` is always an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from examday.registry.violation import Violation, get

FILING_STATUSES = ("active", "suspended", "revoked")
FILING_YEARS = 3
RENEWAL_DAYS = 90


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year + years, day=28)


def last_valid_day(valid_from: date) -> date:
    """R-INST-2: the last day of a 3-year filing. ``valid_until`` is a day of validity (days_left
    counts it), so a filing from 2025-03-01 ends on 2028-02-29, not 2028-03-01."""
    try:
        anniversary = valid_from.replace(year=valid_from.year + FILING_YEARS)
    except ValueError:  # from 29 February: three years run to 1 March
        anniversary = date(valid_from.year + FILING_YEARS, 3, 1)
    return anniversary - timedelta(days=1)


# -- filings (R-INST-2) --------------------------------------------------------


def filing_state(filing_status: str, valid_from: date, valid_until: date, today: date) -> str:
    """active | suspended | revoked | expired | not_yet_valid.

    Revocation outranks everything; an expired filing is expired whether or
    not it was suspended, since nothing can be reinstated on it.
    """
    if filing_status == "revoked":
        return "revoked"
    if today > valid_until:
        return "expired"
    if filing_status == "suspended":
        return "suspended"
    if today < valid_from:
        return "not_yet_valid"
    return "active"


def days_left(valid_until: date, today: date) -> int:
    """Days the filing is still valid, today included (1 on its last day, 0 once expired)."""
    return max(0, (valid_until - today).days + 1)


def in_renewal_window(valid_until: date, today: date) -> bool:
    """R-INST-2: renewal may be applied for within the 90 days before expiry (有效期满前90日内)."""
    return 1 <= (valid_until - today).days + 1 <= RENEWAL_DAYS


def filing_violations(
    number: str | None, valid_from: date | None, valid_until: date | None, status: str | None = "active"
) -> list[Violation]:
    out: list[Violation] = []
    if not (number or "").strip():
        out.append(
            Violation("filing_number_required", "R-INST-2", "须填写备案编号", "The filing (备案) number is required.")
        )
    if status not in FILING_STATUSES:
        out.append(
            Violation(
                "invalid_filing_status",
                "R-INST-2",
                "备案状态须为有效、暂停或撤销",
                "A filing's status is active, suspended or revoked.",
                {"status": status},
            )
        )
    if valid_from is None or valid_until is None:
        out.append(
            Violation(
                "filing_period_required",
                "R-INST-2",
                "须填写备案有效期起止日期",
                "The filing's valid_from and valid_until dates are required.",
            )
        )
        return out
    if valid_until < valid_from:
        out.append(
            Violation(
                "filing_period_invalid",
                "R-INST-2",
                "备案有效期截止日期早于起始日期",
                "The filing ends before it starts.",
            )
        )
    # R-INST-2: a filing is valid for 3 years, never longer.
    elif valid_until > last_valid_day(valid_from):
        out.append(
            Violation(
                "filing_too_long",
                "R-INST-2",
                "备案有效期最长3年",
                "A filing is valid for at most 3 years.",
                {"latest_valid_until": last_valid_day(valid_from).isoformat()},
            )
        )
    return out


@dataclass(frozen=True)
class Standing:
    """Where an institution stands today: its governing filing and what follows it."""

    state: str  # filing_state of the governing filing, or "none"
    filing: Any
    next_filing: Any
    days_left: int
    renewal_window: bool  # inside the window and not yet renewed: warn the admin

    @property
    def may_run_exams(self) -> bool:
        # R-INST-2: expired, suspended or revoked institutions file no plans and run no exams.
        return self.state == "active"


def standing(filings: Sequence[Any], today: date) -> Standing:
    """The filing that governs today: the latest one already started, else the earliest."""
    if not filings:
        return Standing("none", None, None, 0, False)
    ordered = sorted(filings, key=lambda f: (get(f, "valid_from"), get(f, "id") or 0))
    started = [f for f in ordered if get(f, "valid_from") <= today]
    current = started[-1] if started else ordered[0]
    later = [f for f in ordered if get(f, "valid_from") > get(current, "valid_from")]
    nxt = later[0] if later else None
    state = filing_state(get(current, "status"), get(current, "valid_from"), get(current, "valid_until"), today)
    until = get(current, "valid_until")
    warn = nxt is None and state in ("active", "suspended") and in_renewal_window(until, today)
    return Standing(state, current, nxt, days_left(until, today), warn)


def renewal_violations(
    current: Standing, today: date, number: str | None, valid_from: date | None, valid_until: date | None
) -> list[Violation]:
    """R-INST-2: a renewal is a new 3-year filing, applied for inside the window, with no gap."""
    if current.filing is None:
        return [
            Violation(
                "no_filing",
                "R-INST-2",
                "该机构没有可延续的备案",
                "This institution has no filing to renew.",
                status=409,
            )
        ]
    if current.state in ("revoked", "suspended"):
        return [
            Violation(
                f"filing_{current.state}",
                "R-INST-2",
                "备案已被撤销，不能延续" if current.state == "revoked" else "暂停评价活动期间不能延续备案",
                f"A {current.state} filing cannot be renewed.",
                status=409,
            )
        ]
    if current.next_filing is not None:
        return [
            Violation("already_renewed", "R-INST-2", "备案已延续", "This filing has already been renewed.", status=409)
        ]
    until = get(current.filing, "valid_until")
    if not in_renewal_window(until, today):
        opens = until - timedelta(days=RENEWAL_DAYS - 1)
        return [
            Violation(
                "outside_renewal_window",
                "R-INST-2",
                f"只能在备案有效期满前90日内申请延续（{opens.isoformat()}至{until.isoformat()}）",
                f"A filing is renewed only within the 90 days before it expires "
                f"({opens.isoformat()} to {until.isoformat()}).",
                {"opens": opens.isoformat(), "valid_until": until.isoformat()},
                409,
            )
        ]
    out = filing_violations(number, valid_from, valid_until, "active")
    if (
        valid_from is not None
        and valid_until is not None
        and (valid_from > until + timedelta(days=1) or valid_until <= until)
    ):
        out.append(
            Violation(
                "renewal_not_continuous",
                "R-INST-2",
                "延续后的有效期须紧接原有效期并晚于原截止日期",
                "The renewed filing must follow on from the current one without a gap and end after it.",
                {"current_valid_until": until.isoformat()},
            )
        )
    return out
