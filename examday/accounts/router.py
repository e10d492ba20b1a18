"""The routes of examday.accounts (accounts and sign-in), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from examday.accounts import controllers

router = Router(path="/", route_handlers=[*controllers.ROUTES])
