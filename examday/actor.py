"""Who is acting: every action is attributable to one account (R-STAFF-4)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor", "centre")


@dataclass(frozen=True)
class Actor:
    account_id: int | None
    username: str
    role: str
    institution_id: int | None = None
    province: str | None = None
    staff_id: int | None = None

    @property
    def is_installation_admin(self) -> bool:
        return self.role == "admin" and self.institution_id is None


# The command line and background jobs act as this, so their changes are on the chain too.
SYSTEM = Actor(None, "system", "system")
