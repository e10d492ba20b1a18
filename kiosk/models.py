"""Tables owned by `kiosk/`."""
from __future__ import annotations
