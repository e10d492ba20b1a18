"""HTTP routes of the report to the centre (数据上报, R-PUB-2, R-AUDIT-1, issue #17): thin
translations to ``scoring.report_package``, ``scoring.report_receive``, ``scoring.report_push``
and ``examday.checkpoints``.

On the institution's installation:
``GET /api/v1/batches/{bid}/report.zip`` — the signed package (office, province's centre, admin);
``GET /api/v1/batches/{bid}/report-push`` — the push's state beside the R-PUB-2 deadline;
``GET /api/v1/audit/proof?since=SEQ&institution=ID`` — the institution's chain's links from SEQ on,
for a checkpoint holder (``chain=installation``: the installation's chain, for checkpoints before #18).

On the centre's installation:
``POST /api/v1/centre/reports`` — a package (the raw ZIP as the body), verified and kept;
``POST /api/v1/centre/institution-keys`` — register an institution's public keys (and rotations);
``GET /api/v1/centre/institution-keys?uscc=`` — the keys registered;
``POST /api/v1/centre/report-tokens`` ``{uscc}`` — issue the institution's report token;
``GET /api/v1/centre/checkpoints?uscc=`` — the checkpoints held, for ``audit verify --checkpoints``;
``GET /api/v1/centre/received-reports`` — what was received or refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, RawBody

from examday import access, checkpoints
from examday.errors import Refusal, forbidden
from examday.records import archive
from examday.web import Ctx, credentials, requires_role, signed_in
from scoring import centre_pages, exports, report_keys, report_package, report_push, report_receive

CENTRE = [requires_role("centre", "admin")]


@get("/api/v1/batches/{bid:int}/report.zip", guards=[signed_in], sync_to_thread=True)
def report_zip(ctx: Ctx, bid: FromPath[int]) -> Response:
    name, data = report_package.package_for(ctx.db, ctx.user, bid, ctx.now)
    return Response(content=data, media_type="application/zip", headers=exports.disposition(name))


@get("/api/v1/batches/{bid:int}/report-push", guards=[signed_in], sync_to_thread=True)
def report_push_state(ctx: Ctx, bid: FromPath[int]) -> dict[str, Any]:
    return report_push.state_for(ctx.db, ctx.user, bid, ctx.now)


@get("/api/v1/audit/proof", guards=CENTRE, sync_to_thread=True)
def audit_proof(
    ctx: Ctx, since: FromQuery[int] = 0, institution: FromQuery[int | None] = None, chain: FromQuery[str | None] = None
) -> dict[str, Any]:
    """Only hashes (R-PRIV-1), of one institution's chain (issue #18): its office, its province's
    centre, the installation administrator; ``chain=installation`` for checkpoints signed before."""
    which = access.audit_chain_for(ctx.db, ctx.user, institution, chain == checkpoints.INSTALLATION_CHAIN)
    return checkpoints.proof(ctx.db, since, chain=which)


@post("/api/v1/centre/reports", sync_to_thread=True, status_code=201, opt={"autolock": False})
def post_report(ctx: Ctx, request: Request, body: RawBody) -> dict[str, Any]:
    data = bytes(body)
    token_for = report_keys.token_uscc(ctx.db, credentials(request)) if ctx.actor is None else None
    if ctx.actor is None and token_for is None:
        ctx.user  # noqa: B018 — 401: neither an account nor a report token
    via = "token" if token_for is not None else "api"
    try:
        return report_receive.receive(ctx.db, ctx.actor, token_for, ctx.now, data, archive.store_of(ctx.db), via)
    except Refusal as refusal:
        if refusal.status != 403:
            ctx.db.rollback()  # a refusal changes nothing; its record goes in on its own afterwards
            report_receive.keep_refusal(ctx.state.engine, refusal, data, ctx.now, ctx.actor, via)
        raise


@dataclass
class KeysIn:
    uscc: str
    province: str
    name: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    revoked_kids: list[str] = field(default_factory=list)  # as the ticket-keys listing names them


@post("/api/v1/centre/institution-keys", guards=CENTRE, sync_to_thread=True, status_code=201)
def post_keys(ctx: Ctx, data: JSONBody[KeysIn]) -> dict[str, Any]:
    return report_keys.register_keys(
        ctx.db, ctx.user, ctx.now, data.uscc, data.name, data.province, data.keys, data.revoked_kids
    )


@get("/api/v1/centre/institution-keys", guards=CENTRE, sync_to_thread=True)
def get_keys(ctx: Ctx, uscc: FromQuery[str]) -> dict[str, Any]:
    return report_keys.keys_of(ctx.db, ctx.user, uscc)


@dataclass
class TokenIn:
    uscc: str


@post("/api/v1/centre/report-tokens", guards=CENTRE, sync_to_thread=True, status_code=201)
def post_report_token(ctx: Ctx, data: JSONBody[TokenIn]) -> dict[str, Any]:
    return report_keys.issue_token(ctx.db, ctx.user, ctx.now, data.uscc)


@get("/api/v1/centre/checkpoints", guards=CENTRE, sync_to_thread=True)
def get_checkpoints(ctx: Ctx, uscc: FromQuery[str]) -> list[dict[str, Any]]:
    return report_receive.held_checkpoints(ctx.db, ctx.user, uscc)


@get("/api/v1/centre/received-reports", guards=CENTRE, sync_to_thread=True)
def get_received(ctx: Ctx) -> list[dict[str, Any]]:
    if ctx.user.role not in ("centre", "admin") or (ctx.user.role == "admin" and not ctx.user.is_installation_admin):
        raise forbidden("Only the centre reads the reports it received.")
    return report_receive.received_list(ctx.db, ctx.user)


ROUTES: list = [
    report_zip,
    report_push_state,
    audit_proof,
    post_report,
    post_keys,
    get_keys,
    post_report_token,
    get_checkpoints,
    get_received,
    *centre_pages.ROUTES,  # the centre's dashboard (pages, outside the OpenAPI document)
]
