"""The routes of scoring (scoring), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from scoring import controllers, office_pages, pages

router = Router(path="/", route_handlers=[*controllers.ROUTES, *pages.ROUTES, *office_pages.ROUTES])
