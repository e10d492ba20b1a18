"""What kiosk hands to the rest of the application at start-up: reading who was admitted."""

from __future__ import annotations

from examday.plans import attendance
from kiosk.services.attendance import KioskAttendance


def register() -> None:
    attendance.provide(KioskAttendance())
