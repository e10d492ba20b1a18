"""The app factory: composes every package's routes into one Litestar app."""

from __future__ import annotations

import logging
from pathlib import Path

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from examday import error_pages, glossary
from examday.accounts.services.accounts import Passwords
from examday.clock import Clock
from examday.events import make_event_bus
from examday.levels import install_template_filters
from examday.pages import ROUTES as PAGE_ROUTES
from examday.records.archive import use_store
from examday.security import (
    csrf_guard,
    input_error_handlers,
    install_log_redaction,
    install_template_callables,
    security_headers,
)
from examday.settings import Settings
from examday.web import EXCEPTION_HANDLERS, AuthMiddleware, provide_ctx, publish_committed
from storage.blobs import open_blob_store
from storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [ROOT / p / "templates" for p in ("examday", "kiosk", "proctor", "scoring")]


def _template_engine(engine: JinjaTemplateEngine) -> None:
    install_template_callables(engine)  # csp_nonce(): page scripts run only with it
    install_template_filters(engine)  # level_label: "3级", or an enterprise tier's name (R-LEVEL)
    glossary.install_template_filters(engine)  # term, zh, en, local_time: no bare code or ISO time
    error_pages.install_template_globals(engine)  # next_steps, previous_page: error.html's way on


def package_routers() -> list[Router]:
    """Each package's one Router; the domain packages sit above examday's core, so they are
    imported here, where the application is composed, and nowhere else in examday's core."""
    from examday.accounts.router import router as accounts
    from examday.plans.router import router as plans
    from examday.records.router import router as records
    from examday.registry.router import router as registry
    from kiosk.router import router as kiosk
    from proctor.router import router as proctor
    from scoring.router import router as scoring

    return [accounts, registry, plans, records, kiosk, proctor, scoring]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Litestar:
    settings = (settings or Settings.from_env()).resolved() if settings is None else settings
    engine = make_engine(settings.database_url, settings.db_connections)
    from examday.providers import register_all  # composes the packages, like package_routers()

    register_all()
    # The live feed's channels: in memory for one process, Redis when several serve one installation.
    events = make_event_bus(settings)
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "clock": clock or Clock(),
            "blobs": open_blob_store(settings),  # the data folder, or EXAMDAY_BLOB_URL=s3://…
            "passwords": Passwords(settings.password_time_cost, settings.password_memory_kib),
            "events": events,
        }
    )
    from proctor.feed import feed_lifespan, install_feed
    from proctor.services.video import video_lifespan

    install_feed(state)
    use_store(engine, state.blobs)  # the lock archives its documents without a store handed down (R-ARCH-1)
    logging.getLogger("examday").setLevel(logging.INFO)
    install_log_redaction()  # the access log prints paths and queries: no ID number may reach it (R-PRIV-1)
    return Litestar(
        route_handlers=[
            *PAGE_ROUTES,
            *package_routers(),
            create_static_files_router(
                path="/static", directories=[ROOT / "examday" / "static"], include_in_schema=False
            ),
        ],
        state=state,
        dependencies={"ctx": Provide(provide_ctx)},
        # A cross-site request is refused before anyone is authenticated for it.
        middleware=[csrf_guard, DefineMiddleware(AuthMiddleware)],
        before_send=[security_headers],  # on every answer, refusals and static files included
        after_response=publish_committed,  # the request's committed live events, once the answer is sent
        # Input the framework or the database cannot take is a refusal, not a 500.
        exception_handlers={**EXCEPTION_HANDLERS, **input_error_handlers()},
        template_config=TemplateConfig(
            directory=[d for d in TEMPLATE_DIRS if d.exists()],
            engine=JinjaTemplateEngine,
            engine_callback=_template_engine,
        ),
        openapi_config=OpenAPIConfig(title="examday", version="1.0.0", path="/schema"),
        plugins=[events.plugin],
        lifespan=[
            feed_lifespan,  # binds the bus to the loop; turns no-shows absent at the entry cutoff
            video_lifespan,  # marks a camera stale when it falls silent during a session
        ],
        on_shutdown=[lambda: engine.dispose()],
    )
