"""HTTP routes of examday/plans."""
from __future__ import annotations

ROUTES: list = []
