"""The routes of scoring (scoring), handed to ``examday/app.py`` as one Router.

The API's routes (``scoring.controllers``) sit on a Router of their own, whose
``before_request`` gives the batch a request is about the chance to lock itself
first (R-PUB-1: automatically on the first request after the publicity ends),
once per request. The pages do not: showing a page changes nothing, and the
office's page locks by command.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Router
from litestar.datastructures import State
from sqlmodel import Session

from scoring import (
    certificate_pages,
    controllers,
    office_pages,
    pages,
    report_controllers,  # the report to the centre (issue #17)
    review_controllers,
    review_pages,
)
from scoring.models import Objection
from scoring.services import lock as lock_service


def _autolock(state: State, batch_id: int | None, objection_id: int | None) -> None:
    with Session(state.engine, expire_on_commit=False) as db:
        if objection_id is not None:
            objection = db.get(Objection, objection_id)
            batch_id = objection.batch_id if objection is not None else None
        if batch_id is not None and lock_service.autolock_if_due(db, batch_id, state.clock.now()):
            # Its own transaction, committed before the request's: the lock stands even when the
            # request is then refused.
            db.commit()


async def _body_batch_id(request: Request) -> int | None:
    """The ``batch_id`` of a JSON body (a score entry names its batch there), if it has one."""
    try:
        body: Any = await request.json()
    except Exception:  # not JSON: the handler answers that as it always does
        return None
    value = body.get("batch_id") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def autolock_due(request: Request) -> None:
    """Lock the request's batch now if its publicity is over and nothing is open (R-PUB-1).

    The batch is the route's ``bid``, the batch of its objection ``oid``, or the body's
    ``batch_id``; a route that must not lock this way says ``opt={"autolock": False}``."""
    if request.route_handler.opt.get("autolock") is False:
        return
    params = request.path_params
    batch_id, objection_id = params.get("bid"), params.get("oid")
    if batch_id is None and objection_id is None and request.method == "POST":
        batch_id = await _body_batch_id(request)
    if batch_id is None and objection_id is None:
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_autolock, request.app.state, batch_id, objection_id)


api = Router(
    path="/",
    route_handlers=[*controllers.ROUTES, *review_controllers.ROUTES, *report_controllers.ROUTES],
    before_request=autolock_due,
)
router = Router(
    path="/", route_handlers=[api, *pages.ROUTES, *office_pages.ROUTES, *certificate_pages.ROUTES, *review_pages.ROUTES]
)
