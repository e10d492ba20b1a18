"""The pure parts of examday/security.py: which requests count as our own, and log redaction."""

from __future__ import annotations

import logging

import pytest
from litestar.datastructures import Headers

from examday.security import RedactIdNumbers, from_own_origin, needs_origin_check, redact

HOST = {"host": "exam.local:8000"}


@pytest.mark.parametrize(
    "headers, scheme, own",
    [
        ({"sec-fetch-site": "same-origin", "origin": "http://evil.example"}, "http", True),  # the browser's word wins
        ({"sec-fetch-site": "none"}, "http", True),
        ({"sec-fetch-site": "same-site"}, "http", False),
        ({"sec-fetch-site": "cross-site"}, "http", False),
        ({"origin": "http://exam.local:8000"}, "http", True),
        ({"origin": "http://EXAM.local:8000"}, "http", True),
        ({"origin": "http://exam.local:8001"}, "http", False),
        ({"origin": "http://exam.local"}, "http", False),
        ({"origin": "null"}, "http", False),
        ({"referer": "http://exam.local:8000/office/rooms"}, "http", True),
        ({"referer": "http://evil.example/exam.local:8000"}, "http", False),
        ({}, "http", True),  # no browser headers at all
    ],
)
def test_from_own_origin(headers, scheme, own):
    assert from_own_origin(Headers({**HOST, **headers}), scheme) is own


def test_default_ports_are_the_same_origin():
    assert from_own_origin(Headers({"host": "exam.local", "origin": "https://exam.local:443"}), "https")
    assert from_own_origin(Headers({"host": "exam.local:443", "origin": "https://exam.local"}), "https")
    # The scheme is not compared: behind a TLS-terminating proxy the server itself sees plain HTTP.
    assert from_own_origin(Headers({"host": "exam.local", "origin": "https://exam.local"}), "http")


@pytest.mark.parametrize(
    "scope, headers, checked",
    [
        ({"type": "http", "method": "POST", "path": "/office/rooms/add"}, {"cookie": "examday_session=abc"}, True),
        ({"type": "http", "method": "DELETE", "path": "/x"}, {"cookie": "a=1; examday_session=abc"}, True),
        ({"type": "http", "method": "GET", "path": "/office"}, {"cookie": "examday_session=abc"}, False),
        (
            {"type": "http", "method": "POST", "path": "/api/v1/checkins"},
            {"authorization": "Bearer t", "cookie": "examday_session=abc"},
            False,
        ),
        ({"type": "http", "method": "POST", "path": "/api/v1/checkins"}, {}, False),
        ({"type": "http", "method": "POST", "path": "/login"}, {}, True),  # login CSRF
        ({"type": "websocket", "path": "/ws/batches/1"}, {"cookie": "examday_session=abc"}, True),
        ({"type": "websocket", "path": "/ws/batches/1"}, {"authorization": "Bearer t"}, False),
    ],
)
def test_which_requests_are_checked(scope, headers, checked):
    assert needs_origin_check(scope, Headers(headers)) is checked


def test_redact_blanks_id_number_runs_only():
    assert redact("GET /search?q=11010519491231002X HTTP/1.1") == "GET /search?q=<id-number> HTTP/1.1"
    assert redact("q=11010519491231002x&x=1") == "q=<id-number>&x=1"
    assert (
        redact("ticket 000100001, nonce 9f3a11010519491231002Xab") == "ticket 000100001, nonce 9f3a11010519491231002Xab"
    )
    assert redact("1101051949123100291") == "1101051949123100291"  # 19 digits: not an ID number


def test_the_filter_keeps_the_access_logs_argument_shape_and_redacts_rows():
    f = RedactIdNumbers()
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/s?q=11010519491231002X", "1.1", 200),
        None,
    )
    assert f.filter(access) and isinstance(access.args, tuple) and len(access.args) == 5
    assert "<id-number>" in access.getMessage() and "11010519491231002X" not in access.getMessage()
    row = logging.LogRecord(
        "sqlalchemy.engine.Engine", logging.DEBUG, "", 0, "Row %r", ((1, "王伟", "11010519491231002X"),), None
    )
    assert f.filter(row) and "11010519491231002X" not in row.getMessage() and "王伟" in row.getMessage()
