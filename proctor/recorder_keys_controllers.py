"""HTTP routes of an institution's recorder keys (录像机密钥; R-AUDIT-1, issue #14).

The institution's exam office (or the installation administrator) issues, lists,
rotates and revokes them; :mod:`proctor.services.recorder_keys` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody

from examday.web import Ctx, requires_role
from proctor.services import recorder_keys

office = [requires_role("admin")]


@dataclass
class KeyIn:
    label: str = ""  # which recorder or site it is for


@post("/api/v1/institutions/{iid:int}/recorder-keys", guards=office, sync_to_thread=True, status_code=201)
def issue_key(ctx: Ctx, iid: FromPath[int], data: JSONBody[KeyIn | None] = None) -> dict[str, Any]:
    """201 the key with its ``secret``, shown this once."""
    label = data.label if data else ""
    return recorder_keys.issue(ctx.db, ctx.user, ctx.now, iid, label, ctx.state.settings.secret_key)


@get("/api/v1/institutions/{iid:int}/recorder-keys", guards=office, sync_to_thread=True)
def list_keys(ctx: Ctx, iid: FromPath[int]) -> dict[str, Any]:
    return recorder_keys.list_keys(ctx.db, ctx.user, ctx.now, iid)


@post(
    "/api/v1/institutions/{iid:int}/recorder-keys/{kid:str}/rotate",
    guards=office,
    sync_to_thread=True,
    status_code=201,
)
def rotate_key(ctx: Ctx, iid: FromPath[int], kid: FromPath[str]) -> dict[str, Any]:
    """201 the new key with its ``secret``; the old one (``replaces``) expires after the overlap."""
    return recorder_keys.rotate(ctx.db, ctx.user, ctx.now, iid, kid, ctx.state.settings.secret_key)


@delete("/api/v1/institutions/{iid:int}/recorder-keys/{kid:str}", guards=office, sync_to_thread=True, status_code=200)
def revoke_key(ctx: Ctx, iid: FromPath[int], kid: FromPath[str]) -> dict[str, Any]:
    return recorder_keys.revoke(ctx.db, ctx.user, ctx.now, iid, kid)


ROUTES = [issue_key, list_keys, rotate_key, revoke_key]
