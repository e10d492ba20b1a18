"""Tables owned by `scoring/`."""
from __future__ import annotations
