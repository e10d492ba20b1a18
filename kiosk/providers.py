"""What kiosk hands to the rest of the application at start-up: reading who was admitted, and
admitting by hand."""

from __future__ import annotations

from examday.plans import admission, attendance
from kiosk.services.admission import KioskAdmissions
from kiosk.services.attendance import KioskAttendance


def register() -> None:
    attendance.provide(KioskAttendance())
    admission.provide(KioskAdmissions())
