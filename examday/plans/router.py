"""The routes of examday.plans (plans, seats and tickets), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from examday.plans import candidate_pages, controllers, key_pages, pages, seating_controllers, ticket_pages

router = Router(
    path="/",
    route_handlers=[
        *controllers.ROUTES,
        *seating_controllers.ROUTES,
        *pages.ROUTES,
        *candidate_pages.ROUTES,
        *ticket_pages.ROUTES,
        *key_pages.ROUTES,
    ],
)
