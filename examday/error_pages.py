"""Refusals on pages (issue #16): the HTML error page that answers a refused page request in the
refusal's shape. examday.web decides when a request is a page's and calls ``error_page``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.response import Template

# What a person can do next, by status, when the refusal itself does not say (its detail's
# ``next`` / ``next_en``).
_NEXT: dict[int, tuple[str, str]] = {
    400: ("请检查填写的内容后重试。", "Check what you entered and try again."),
    403: (
        "此页面或操作不属于您的角色或机构。如确需办理，请联系本机构考务办公室。",
        "This page or action is not for your role or institution; ask your exam office if you need it.",
    ),
    404: (
        "地址可能有误，或该对象已不存在。请从首页重新进入。",
        "The address may be wrong, or the item no longer exists: start again from your home page.",
    ),
    405: ("请从页面上的按钮或链接进入，不要直接输入地址。", "Use the page's buttons and links, not a typed address."),
    409: (
        "当前状态不允许此操作。请刷新页面查看最新状态，按页面提示办理。",
        "The current state does not allow this: reload the page to see where things stand.",
    ),
    422: ("请按提示修改填写的内容后重试。", "Correct what you entered as the message says and try again."),
    429: ("请求过于频繁，请稍等一分钟再试。", "Too many attempts: wait a minute and try again."),
    500: (
        "请稍后重试；如仍出现，请联系系统管理员。",
        "Try again shortly; if it happens again, tell the system administrator.",
    ),
    503: (
        "请稍后重试；如仍出现，请联系系统管理员。",
        "Try again shortly; if it happens again, tell the system administrator.",
    ),
}


def next_steps(refusal: Any, status: int | None = None) -> tuple[str, str]:
    """(Chinese, English): what the person can do next — the refusal's own ``detail.next`` /
    ``detail.next_en`` where it has them, else a line for its status."""
    detail = (refusal.get("detail") if isinstance(refusal, dict) else getattr(refusal, "detail", None)) or {}
    if status is None:
        status = refusal.get("status", 400) if isinstance(refusal, dict) else getattr(refusal, "status", 400)
    zh, en = _NEXT.get(int(status)) or _NEXT[500 if int(status) >= 500 else 400]
    if isinstance(detail.get("next"), str):
        zh = detail["next"]
    if isinstance(detail.get("next_en"), str):
        en = detail["next_en"]
    return zh, en


def previous_page(request: Request | None) -> str | None:
    """The page the person came from, when it was one of ours: its path and query only."""
    referer = request.headers.get("referer", "") if request is not None else ""
    if request is None or not referer:
        return None
    ref = urlsplit(referer)
    if ref.netloc != request.url.netloc or not ref.path.startswith("/") or ref.path == request.url.path:
        return None
    return ref.path + (f"?{ref.query}" if ref.query else "")


def error_page(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """A refusal on a page, in the refusal's shape (issue #16): Chinese first, English beneath,
    the reason's code and rule ID, what to do next, and a way back (the role's home page, the
    page before). It shows what the refusal says and nothing else: a 403 or 404 names no object,
    so another institution's batch reads as any missing one (R-PRIV-1). The code also leaves in
    the ``X-Refusal-Code`` header, for programs that post a page's form.

    A package's page that catches a refusal itself renders ``error.html`` with ``refusal`` (and
    ``actor``); the template works out the rest."""
    return Template(
        "error.html",
        context={"actor": request.scope.get("user"), "refusal": body, "status": status},
        status_code=status,
        headers={**(headers or {}), "X-Refusal-Code": str(body.get("code", ""))},
    )


def install_template_globals(engine: Any) -> None:
    engine.engine.globals["next_steps"] = next_steps
    engine.engine.globals["previous_page"] = previous_page
