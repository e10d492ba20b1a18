"""HTTP routes of examday/registry."""
from __future__ import annotations

ROUTES: list = []
