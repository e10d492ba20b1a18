"""The routes of examday.registry (the registry), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from examday.registry import admin_pages, controllers, pages, standing_controllers

router = Router(
    path="/",
    route_handlers=[*controllers.ROUTES, *pages.ROUTES, *standing_controllers.ROUTES, *admin_pages.ROUTES],
)
