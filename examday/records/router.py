"""The routes of holds, retention and the archive, handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from examday.records import controllers, pages

router = Router(path="/", route_handlers=[*controllers.ROUTES, *pages.ROUTES])
