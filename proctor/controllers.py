"""HTTP routes of `proctor/`."""
from __future__ import annotations

ROUTES: list = []
