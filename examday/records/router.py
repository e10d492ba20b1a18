"""The routes of holds and retention, handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from examday.records import controllers

router = Router(path="/", route_handlers=[*controllers.ROUTES])
