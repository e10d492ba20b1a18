"""Tables owned by `proctor/`."""
from __future__ import annotations
