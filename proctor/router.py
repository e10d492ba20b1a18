"""The routes of proctor (the live rooms, video and supervision), handed to ``examday/app.py`` as one Router."""

from __future__ import annotations

from litestar import Router

from proctor import (
    controllers,
    feed,
    pages,
    record_pages,
    recorder_keys_controllers,
    supervision_pages,
    video_controllers,
)

router = Router(
    path="/",
    route_handlers=[
        *controllers.ROUTES,
        *video_controllers.ROUTES,
        *recorder_keys_controllers.ROUTES,
        *feed.ROUTES,
        *pages.ROUTES,
        *record_pages.ROUTES,
        *supervision_pages.ROUTES,
    ],
)
