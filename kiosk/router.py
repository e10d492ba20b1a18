"""The routes of kiosk (check-in), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from kiosk import controllers, pages

router = Router(path="/", route_handlers=[*controllers.ROUTES, *pages.ROUTES])
