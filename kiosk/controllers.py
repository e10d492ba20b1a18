"""HTTP routes of `kiosk/`."""
from __future__ import annotations

ROUTES: list = []
