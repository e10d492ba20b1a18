"""Security headers and cross-site checks in a real Chromium: the pages work under
their Content-Security-Policy (no violation reported), the desk's fetch() and the login form
pass the cross-site check, and a page on another port of the same host (same-site, so the
SameSite=Lax cookie does go along) cannot sign the person out."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.kiosk.support import checkin_world

pytestmark = pytest.mark.browser
PASSWORD = "desk-pass-2026"
WATCH_CSP = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture
def desk(db, world, clock, settings):
    w = checkin_world(db, clock.now(), settings.secret_key, n=2)
    world.token("desk1", "kiosk", w.institution_id, password=PASSWORD)
    clock.advance(minutes=40)  # 08:40: entry open
    return w


def sign_in(page, live_server, path: str) -> None:
    page.goto(live_server.at(path))
    page.fill("input[name=username]", "desk1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_the_desk_works_under_its_csp_and_passes_the_cross_site_check(page, live_server, desk):
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, "/desk")
    csp = page.evaluate("() => fetch('/desk').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self' 'nonce-" in csp
    cand = desk.candidates[0]
    page.fill("#ticket", cand.ticket_number)
    page.fill("#id_number", cand.id_number)
    page.click("#checkin button[type=submit]")
    page.wait_for_selector("#answer.ok")
    assert "签到成功" in page.inner_text("#answer")
    assert page.evaluate("window.__csp") == []


class _Evil(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):
        body = (
            f'<form id="f" method="post" action="{self.target}/logout"></form>'
            '<script>document.getElementById("f").submit()</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_page_on_another_port_cannot_sign_the_desk_out(page, live_server, desk):
    sign_in(page, live_server, "/desk")
    _Evil.target = live_server.url
    evil = ThreadingHTTPServer(("127.0.0.1", 0), _Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with page.expect_response(lambda r: r.url.endswith("/logout")) as answer:
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        # A form post is a page: the refusal comes back as the error page, its code in a header too.
        assert answer.value.status == 403 and answer.value.headers["x-refusal-code"] == "csrf_refused"
    finally:
        evil.shutdown()
    page.goto(live_server.at("/desk"))
    assert page.url.endswith("/desk") and page.locator("#checkin").count() == 1  # still signed in
