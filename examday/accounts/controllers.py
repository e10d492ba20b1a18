"""HTTP for accounts: who am I, tokens, and the browser login for the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from examday.accounts.services import accounts as service
from examday.accounts.services import tokens
from examday.web import SESSION_COOKIE, Ctx, cookie_is_secure, requires_role, signed_in


def me_body(ctx: Ctx) -> dict[str, Any]:
    a = ctx.user
    return {
        "account_id": a.account_id,
        "username": a.username,
        "role": a.role,
        "institution_id": a.institution_id,
        "province": a.province,
        "staff_id": a.staff_id,
    }


@get("/api/v1/me", guards=[signed_in], sync_to_thread=False)
def me(ctx: Ctx) -> dict[str, Any]:
    return me_body(ctx)


@dataclass
class AccountIn:
    username: str
    role: str
    institution_id: int | None = None
    province: str | None = None
    staff_id: int | None = None
    password: str | None = None


@post("/api/v1/accounts", guards=[requires_role("admin")], sync_to_thread=True, status_code=201)
def add_account(ctx: Ctx, data: JSONBody[AccountIn]) -> dict[str, Any]:
    acc = service.create_account(
        ctx.db,
        ctx.user,
        ctx.now,
        ctx.state.passwords,
        data.username,
        data.role,
        data.institution_id,
        data.province,
        data.staff_id,
        data.password,
    )
    return {"id": acc.id, "username": acc.username, "role": acc.role, "institution_id": acc.institution_id}


@dataclass
class TokenIn:
    token: str


@post("/api/v1/tokens/revoke", guards=[signed_in], sync_to_thread=True, status_code=200)
def revoke(ctx: Ctx, data: JSONBody[TokenIn]) -> dict[str, str]:
    service.revoke_token(ctx.db, data.token, ctx.user, ctx.now)
    return {"status": "revoked"}


@get("/api/v1/me/tokens", guards=[signed_in], sync_to_thread=True)
def my_tokens(ctx: Ctx, all: FromQuery[bool] = False) -> list[dict[str, Any]]:
    """The caller's own live tokens (``?all=true``: expired and revoked too), never the token itself."""
    assert ctx.user.account_id is not None  # a request is authenticated as an account
    return tokens.list_tokens(ctx.db, ctx.user, ctx.user.account_id, ctx.now, all)


@get("/api/v1/accounts/{aid:int}/tokens", guards=[requires_role("admin")], sync_to_thread=True)
def account_tokens(ctx: Ctx, aid: FromPath[int], all: FromQuery[bool] = False) -> list[dict[str, Any]]:
    """An account's tokens, for its institution's admin or the installation administrator (R-STAFF-4)."""
    return tokens.list_tokens(ctx.db, ctx.user, aid, ctx.now, all)


@post("/api/v1/tokens/{tid:int}/revoke", guards=[signed_in], sync_to_thread=True, status_code=200)
def revoke_by_id(ctx: Ctx, tid: FromPath[int]) -> dict[str, Any]:
    """One of the caller's own tokens, or (an admin) one of its institution's accounts' (R-STAFF-4)."""
    return tokens.revoke_by_id(ctx.db, ctx.user, tid, ctx.now)


@dataclass
class PinIn:
    pin: str
    old_pin: str | None = None  # required once a PIN is set (R-SCORE-1)


@post("/api/v1/me/pin", guards=[requires_role("evaluator", "chief")], sync_to_thread=True, status_code=200)
def set_pin(ctx: Ctx, data: JSONBody[PinIn]) -> dict[str, str]:
    from examday.accounts.models import Account

    account = ctx.db.get(Account, ctx.user.account_id)
    assert account is not None  # the account this request was just authenticated as
    service.set_pin(ctx.db, ctx.state.passwords, account, data.pin, ctx.now, data.old_pin)
    return {"status": "set"}


@post("/api/v1/accounts/{aid:int}/pin-reset", guards=[requires_role("admin")], sync_to_thread=True, status_code=200)
def reset_pin(ctx: Ctx, aid: FromPath[int]) -> dict[str, Any]:
    from examday.accounts.services import pins

    acc = pins.reset_pin(ctx.db, ctx.user, ctx.now, aid)
    return {"id": acc.id, "username": acc.username, "pin_set": False}


@get("/login", sync_to_thread=False, include_in_schema=False)
def login_page(next: FromQuery[str] = "/") -> Template:
    return Template("login.html", context={"next": next if next.startswith("/") else "/", "error": None})


@dataclass
class LoginForm:
    username: str
    password: str
    next: str = "/"


@post("/login", sync_to_thread=True, include_in_schema=False)
def login_submit(
    ctx: Ctx, request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Response:
    from examday.errors import Refusal

    address = request.client.host if request.client else None
    try:
        token = service.login(ctx.db, ctx.state.passwords, data.username, data.password, ctx.now, address)
    except Refusal as r:
        # Answered, not raised: the request's transaction commits the failed attempt, which must
        # count towards the lock (R-STAFF-4).
        retry = r.detail.get("retry_after")
        return Template(
            "login.html",
            context={"next": data.next, "error": r},
            status_code=r.status,
            headers={"Retry-After": str(retry)} if retry else None,
        )
    target = data.next if data.next.startswith("/") and not data.next.startswith("//") else "/"
    resp = Redirect(target)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path="/",
        max_age=service.SESSION_HOURS * 3600,
        secure=cookie_is_secure(request, ctx.state.settings),
    )
    return resp


@post("/logout", sync_to_thread=True, include_in_schema=False)
def logout(ctx: Ctx, request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and ctx.actor is not None:
        service.revoke_token(ctx.db, token, ctx.actor, ctx.now)
    resp = Redirect("/login")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


ROUTES = [
    me,
    add_account,
    revoke,
    my_tokens,
    account_tokens,
    revoke_by_id,
    set_pin,
    reset_pin,
    login_page,
    login_submit,
    logout,
]
