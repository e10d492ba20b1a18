"""HTTP routes of `scoring/`."""
from __future__ import annotations

ROUTES: list = []
