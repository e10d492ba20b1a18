"""Registry rules, pure: filings (备案), scope (认定范围) and levels (等级), sites and staff.

One import for callers: filings (R-INST-2) live in ``filing_rules``, scope and
levels (R-INST-3, R-LEVEL) in ``scope_rules``, rooms (R-SITE-1, R-SEAT-1,
R-VIDEO-1) in ``site_rules`` and staff (R-STAFF-1..3, R-RECUSE-1) in
``staff_rules``; all are re-exported here.

Nothing here reads a database or a clock: ``today`` is always an argument.
"""

from __future__ import annotations

from examday.registry.filing_rules import (
    FILING_STATUSES,
    FILING_YEARS,
    RENEWAL_DAYS,
    Standing,
    add_years,
    days_left,
    filing_state,
    filing_violations,
    in_renewal_window,
    last_valid_day,
    renewal_violations,
    standing,
)
from examday.registry.scope_rules import (
    ENTERPRISE_TIERS,
    INSTITUTION_KINDS,
    KIND_ZH,
    LEVEL_NAMES,
    levels_text,
    parse_levels,
    scope_covers,
    scope_row_violations,
    stored_levels,
)
from examday.registry.site_rules import (
    MAX_THEORY_SEATS,
    ROOM_KINDS,
    room_violations,
    site_violations,
    staff_count_violations,
)
from examday.registry.staff_rules import (
    STAFF_ROLES,
    TITLES,
    conflict_violations,
    conflicts_with,
    examiner_qualified_for_level,
    staff_violations,
)
from examday.registry.violation import LEVELS, OCCUPATION_CODE, Violation, check, refusal

__all__ = [
    "ENTERPRISE_TIERS",
    "FILING_STATUSES",
    "FILING_YEARS",
    "INSTITUTION_KINDS",
    "KIND_ZH",
    "LEVELS",
    "LEVEL_NAMES",
    "MAX_THEORY_SEATS",
    "OCCUPATION_CODE",
    "RENEWAL_DAYS",
    "ROOM_KINDS",
    "STAFF_ROLES",
    "TITLES",
    "Standing",
    "Violation",
    "add_years",
    "check",
    "conflict_violations",
    "conflicts_with",
    "days_left",
    "examiner_qualified_for_level",
    "filing_state",
    "filing_violations",
    "in_renewal_window",
    "last_valid_day",
    "levels_text",
    "parse_levels",
    "refusal",
    "renewal_violations",
    "room_violations",
    "scope_covers",
    "scope_row_violations",
    "site_violations",
    "staff_count_violations",
    "staff_violations",
    "standing",
    "stored_levels",
]
