"""Security headers on every answer: pages, the API, refusals, 404s, static files."""

from __future__ import annotations

import re

import pytest

from tests.support import bearer

# Nothing here depends on the database: SQLite only, even when PostgreSQL is configured.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_common(resp) -> None:
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, (resp.request.url, name, resp.headers)
    assert "camera=(self)" in resp.headers["permissions-policy"]
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


@SQLITE_ONLY
@pytest.mark.parametrize(
    "path, status",
    [
        ("/health", 200),
        ("/login", 200),
        ("/api/v1/me", 401),
        ("/no/such/page", 404),
        ("/static/examday.css", 200),
    ],
)
def test_every_answer_carries_the_headers(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert_common(r)


@SQLITE_ONLY
def test_personal_answers_are_not_cached_but_static_files_may_be(world, client):
    tok = world.token("office", "admin")
    assert client.get("/api/v1/me", headers=bearer(tok)).headers["cache-control"] == "no-store"
    assert client.get("/login").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/examday.css").headers.get("cache-control", "")


@SQLITE_ONLY
def test_a_page_with_a_script_gets_a_fresh_nonce_that_matches_its_csp(world, client):
    iid = world.institution()
    tok = world.token("desk", "kiosk", iid)
    seen = set()
    for _ in range(2):
        r = client.get("/desk", headers=bearer(tok))
        assert r.status_code == 200
        nonce = re.search(r'<script nonce="([^"]+)">', r.text).group(1)
        assert f"'nonce-{nonce}'" in r.headers["content-security-policy"]
        seen.add(nonce)
    assert len(seen) == 2
    # A page without a script allows no inline script at all.
    assert "nonce-" not in client.get("/login").headers["content-security-policy"]


def test_no_template_has_an_inline_script_without_the_nonce():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    for tpl in root.glob("*/templates/*.html"):
        for tag in re.findall(r"<script\b[^>]*>", tpl.read_text()):
            assert "src=" in tag or "csp_nonce()" in tag, (tpl, tag)
        assert not re.search(r"\son[a-z]+=\"", tpl.read_text()), f"{tpl}: inline event handler attribute"
