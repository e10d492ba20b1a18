"""Hostile input at the edge: security headers on every answer, the pages' cross-site
request check, and ID numbers kept out of the access log.

- **Headers** (``security_headers``, a ``before_send`` hook, so 404s and static files get
  them too). The pages are server-rendered; their few inline scripts carry a per-request
  nonce (``{{ csp_nonce() }}`` in a template), so ``script-src`` needs no
  ``'unsafe-inline'``. Inline *styles* stay allowed: the pages and the dashboard's script
  set ``style`` attributes, and a style cannot run code. Answers with personal data must
  not sit in a shared or back-button cache, so everything but ``/static`` is ``no-store``
  unless the handler chose its own caching.
- **Cross-site requests** (``csrf_guard``). The session cookie is SameSite=Lax, which
  already keeps it off cross-site POSTs in today's browsers; this check does not rely
  on that. A cookie-authenticated unsafe request (or a sign-in, against login CSRF) is
  refused unless the browser says it came from our own origin: ``Sec-Fetch-Site``, else
  ``Origin``, else ``Referer`` against ``Host``. A request with none of them is not from
  a browser that could be tricked, so it passes. Bearer-token clients (kiosks, tablets,
  recorders) send no cookie to forge and are never checked. A cookie-authenticated
  WebSocket handshake from another origin is closed before it opens (cross-site
  WebSocket hijacking). Refusing changes nothing: the handler never runs.
- **Logs**: the access log prints each URL with its query, and a desk search box can be
  typed into, so ID-number-shaped runs are blanked there, and in SQLAlchemy's statement log
  should anyone turn it on (R-PRIV-1). Our own loggers are not filtered: they must simply never
  be handed an ID number (tests/integration/examday/test_security_logs.py greps a whole run).
- **Input the framework or the database cannot take** (found by fuzzing, tests/fuzz): an
  integer too large for a column, text that is not UTF-8 in a form field, a value PostgreSQL
  will not store, answer as refusals instead of reaching the crash handler.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.exceptions import WebSocketException
from litestar.types import ExceptionHandlersMap

from examday.errors import Refusal
from examday.web import SESSION_COOKIE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NONCE_KEY = "examday.csp_nonce"

PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()"
)
STATIC_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": PERMISSIONS_POLICY,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def content_security_policy(nonce: str | None) -> str:
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return (
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; "
        "connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def csp_nonce(context: Any) -> str:
    """Template callable: this request's script nonce, made on first use."""
    state = context["request"].scope.setdefault("state", {})
    nonce = state.get(NONCE_KEY)
    if nonce is None:
        nonce = state[NONCE_KEY] = secrets.token_urlsafe(16)
    return nonce


def install_template_callables(engine: Any) -> None:
    engine.register_template_callable("csp_nonce", csp_nonce)


async def security_headers(message: Any, scope: Any) -> None:
    """``before_send`` hook: every HTTP answer leaves with the headers above."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    path = scope.get("path", "")
    for name, value in STATIC_HEADERS.items():
        if name not in headers:
            headers[name] = value
    # The API browser pages under /schema load their viewer from a CDN; they carry no personal data.
    if not path.startswith("/schema") and "content-security-policy" not in headers:
        headers["content-security-policy"] = content_security_policy(scope.get("state", {}).get(NONCE_KEY))
    if not path.startswith("/static/") and "cache-control" not in headers:
        headers["cache-control"] = "no-store"
    if scope.get("scheme") == "https" and "strict-transport-security" not in headers:
        headers["strict-transport-security"] = "max-age=31536000"


# -- cross-site requests --------------------------------------------------------------------


def csrf_refused() -> Refusal:
    # R-STAFF-4: an action on an account is that person's own, never one another site made their browser send.
    return Refusal(
        "csrf_refused",
        "请求并非来自本系统页面，已拒绝（跨站请求）",
        "Refused: this request did not come from examday's own pages (cross-site request).",
        "R-STAFF-4",
        403,
    )


def _netloc(value: str, scheme: str | None = None) -> str:
    """host[:port], lower-case, without the scheme's default port."""
    value = value.strip().lower()
    if scheme is None:
        parts = urlsplit(value)
        scheme, value = parts.scheme, parts.netloc
    for default, port in (("http", ":80"), ("https", ":443"), ("ws", ":80"), ("wss", ":443")):
        if scheme == default and value.endswith(port):
            return value[: -len(port)]
    return value


def from_own_origin(headers: Any, scheme: str) -> bool:
    """Whether the browser says this request was sent by one of our own pages.

    Host and port are compared, not the scheme: behind a proxy that ends TLS the server sees
    plain HTTP while the page's origin is https (browsers that send Sec-Fetch-Site, which is
    all current ones, are judged by that first anyway)."""
    site = headers.get("sec-fetch-site")
    if site:
        return site in ("same-origin", "none")  # none: the person typed or bookmarked it
    origin, referer = headers.get("origin"), headers.get("referer")
    if not origin and not referer:
        return True  # neither header: not a browser, so not a forged browser request
    host = _netloc(headers.get("host", ""), "https" if scheme in ("https", "wss") else "http")
    if origin:
        return origin != "null" and bool(host) and _netloc(origin) == host
    return bool(host) and _netloc(referer) == host


def _bearer(headers: Any) -> bool:
    return headers.get("authorization", "").lower().startswith("bearer ")


def _has_session_cookie(headers: Any) -> bool:
    return any(part.strip().startswith(SESSION_COOKIE + "=") for part in headers.get("cookie", "").split(";"))


def needs_origin_check(scope: Any, headers: Any) -> bool:
    if _bearer(headers):
        return False
    if scope["type"] == "websocket":
        return _has_session_cookie(headers)
    if scope.get("method") not in UNSAFE_METHODS:
        return False
    return _has_session_cookie(headers) or scope.get("path") == "/login"


def csrf_guard(app: Any) -> Any:
    """Middleware factory: refuse a cross-site, cookie-authenticated unsafe request or WS handshake."""

    async def guard(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = Headers.from_scope(scope)
            if needs_origin_check(scope, headers) and not from_own_origin(headers, scope.get("scheme", "http")):
                if scope["type"] == "websocket":
                    raise WebSocketException(detail="csrf_refused", code=4403)
                raise csrf_refused()
        await app(scope, receive, send)

    return guard


# -- the access log -------------------------------------------------------------------------

ID_NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def redact(text: str) -> str:
    return ID_NUMBER_RUN.sub("<id-number>", text)


class RedactIdNumbers(logging.Filter):
    """Blanks ID-number-shaped runs in a record (R-PRIV-1).

    String arguments are redacted one by one, which keeps the arguments' shape for formatters
    that read them (uvicorn's access log does); anything else that would still show a number
    once formatted (an SQL row at DEBUG) is replaced by the redacted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the logging module's to report, not ours
            return True
        if ID_NUMBER_RUN.search(text):
            record.msg, record.args = redact(text), None
        return True


# The loggers whose lines carry request or row data: the access log (URL and query), uvicorn's
# own, and SQLAlchemy's statement log (parameters at INFO, rows at DEBUG) if anyone turns it on.
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "sqlalchemy.engine.Engine")


def install_log_redaction(names: tuple[str, ...] = REDACTED_LOGGERS) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactIdNumbers) for f in logger.filters):
            logger.addFilter(RedactIdNumbers())


# -- input the framework or the database cannot take ------------------------------------------
# Found by fuzzing (tests/fuzz): these reached the crash handler as 500s. Each is the client's
# input, not our fault, so each is answered as a refusal; the transaction is rolled back as for
# any refusal, so nothing changes.

INT64 = 2**63


def _out_of_range(request: Any, refusal: Refusal) -> Any:
    from examday.errors import not_found
    from examday.web import handle_refusal

    if any(isinstance(v, int) and not -INT64 <= v < INT64 for v in request.path_params.values()):
        return handle_refusal(request, not_found())  # no object has such an id
    return handle_refusal(request, refusal)


def handle_overflow(request: Any, exc: OverflowError) -> Any:
    """An integer no column can hold (SQLite refuses to bind it), or a date pushed past year 9999."""
    return _out_of_range(
        request,
        Refusal("number_out_of_range", "请求中的数值超出范围", "A number in the request is out of range.", None, 422),
    )


def handle_data_error(request: Any, exc: Exception) -> Any:
    """PostgreSQL refusing a value for its column (too long a text, too large a number)."""
    return _out_of_range(
        request,
        Refusal(
            "value_out_of_range",
            "请求中的数据超出允许的长度或范围",
            "A value in the request is too long or out of range.",
            None,
            422,
        ),
    )


def handle_undecodable(request: Any, exc: UnicodeDecodeError) -> Any:
    """A form field that is not UTF-8 text (the multipart parser decodes fields without a file name)."""
    from examday.web import handle_refusal

    return handle_refusal(
        request,
        Refusal(
            "invalid_encoding",
            "请求中的文本不是有效的 UTF-8 编码",
            "Text in the request is not valid UTF-8.",
            None,
            400,
        ),
    )


def input_error_handlers() -> ExceptionHandlersMap:
    from sqlalchemy.exc import DataError

    return {OverflowError: handle_overflow, DataError: handle_data_error, UnicodeDecodeError: handle_undecodable}
