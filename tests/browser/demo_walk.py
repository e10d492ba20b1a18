"""The demo's day walked page by page, as every role of the demo (issue #16): one walk for the
whole test session, shared by the checks that read the pages — ``test_visible_text.py`` (no bare
code or ISO time, no sideways scroll, refusals as pages) and ``test_guide_words.py`` (the guide's
quoted words are on the pages).

The demo's seed (two filed batches today, a locked one before) is served live and its morning
played on (kiosks, cameras); each role signs in on the login page's service and opens every GET
page the app has (the route handlers outside the OpenAPI document, path parameters filled with the
demo's ids). Each page that answers is rendered in Chromium at 1024×768 and 390×844 and kept as a
``Seen``: its visible text (``inner_text`` of the body, with and without the English lines), its
whole text (``textContent`` without scripts and styles: what shows after a tap, in a closed
``<details>`` or an ``<option>``), its widths, whether it links the favicon and shows a refusal.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from examday.clock import CST, FixedClock
from examday.demo.seed import DEMO_PASSWORD, seed_demo
from examday.plans.models import Candidate
from examday.settings import Settings
from tests.browser.conftest import tablet_context
from tests.conftest import empty_database
from tests.e2e.live import live
from tests.support import fast_settings

# The demo's people (examday/demo/seed.py ACCOUNTS, DEMO_STAFF); None: not signed in.
ROLES = {
    "anonymous": None,
    "office": "office",  # the exam office: admin of the demo institution
    "installation-admin": "root",  # admin of no institution
    "centre": "centre-jl",
    "proctor": "proctor1",
    "supervisor": "supervisor1",
    "evaluator": "evaluator1",
    "chief": "chief1",
    "kiosk": "kiosk1",
}
WIDTHS = {"tablet": (1024, 768), "phone": (390, 844)}
AT = datetime(2026, 11, 26, 9, 40, tzinfo=CST)  # the demo's morning: played on to 20 min into theory

# Run in the page: hide (display:none takes an element out of the rendered text) and show again.
HIDE = """(sel) => { for (const e of document.querySelectorAll(sel)) { e.dataset.vtHidden = e.style.display || '-'; e.style.display = 'none'; } }"""
SHOW = """() => { for (const e of document.querySelectorAll('[data-vt-hidden]')) { e.style.display = e.dataset.vtHidden === '-' ? '' : e.dataset.vtHidden; delete e.dataset.vtHidden; } }"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
WHOLE = """() => { const c = document.body.cloneNode(true); for (const e of c.querySelectorAll('script, style, template')) e.remove(); return c.textContent; }"""


def read(pg) -> dict[str, str]:
    """The rendered text of the body without the refusal's codes (``all``), and without the English
    lines and the user name as well (``zh``)."""
    pg.evaluate(HIDE, "code.code")
    every = pg.inner_text("body")
    pg.evaluate(HIDE, "small, [lang=en], .username")
    zh = pg.inner_text("body")
    pg.evaluate(SHOW)
    return {"all": every, "zh": zh}


@dataclass
class Seen:
    role: str
    url: str
    status: int
    text: dict[str, Any] = field(default_factory=dict)
    widths: dict[str, tuple[int, int]] = field(default_factory=dict)
    icon: bool = False  # links the favicon
    refusal: bool = False  # shows the refusal's block (#refusal)
    whole: str = ""  # the text of the body, shown or not (a tap's panel, an <option>), scripts aside


def page_paths(app) -> list[str]:
    """Every GET page: the route handlers the OpenAPI document leaves out (static files and the
    document's own pages aside)."""
    out = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.include_in_schema or "GET" not in getattr(handler, "http_methods", ()):
                continue
            if not route.path.startswith(("/schema", "/static")):
                out.add(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
    return sorted(out)


def fill(path: str, ids: dict[str, list[Any]]) -> list[str]:
    """The path with each parameter given each of the demo's values (all combinations)."""
    urls = [path]
    for name in re.findall(r"\{(\w+)\}", path):
        values = ids.get(name)
        if not values:
            return []  # a parameter the demo has no value for: reported as unvisited
        urls = [u.replace(f"{{{name}}}", str(v)) for u in urls for v in values]
    return urls


def _sign_in(url: str, username: str | None) -> dict[str, str]:
    if username is None:
        return {}
    with httpx.Client(base_url=url, follow_redirects=False, timeout=120) as http:
        r = http.post(
            "/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"}, headers={"Origin": url}
        )
        assert r.status_code in (302, 303), (username, r.status_code, r.text[:300])
        return dict(http.cookies)


def _play_the_morning(app, settings: Settings, clock: FixedClock, url: str, until: datetime) -> None:
    """The demo's moving day up to ``until``: candidates at the kiosks (some late, some refused,
    some absent after the cutoff), cameras reporting segments, one falling silent — so that the
    desk, the live rooms and the coverage show what a real morning shows."""
    from examday.demo.live import DemoDay
    from proctor.services.video import check_stale

    sim = DemoDay(settings, url, engine=app.state.engine, now=clock.now(), segment_seconds=120, out=io.StringIO())
    try:
        while clock.now() < until:
            clock.advance(seconds=20)
            sim.run_due(clock.now())
            check_stale(app.state, clock.now())
    finally:
        sim.client.close()


def _print_job(url: str, bid: int) -> list[str]:
    """The office prints today's first batch's tickets: the job's page is a page of the day."""
    cookies = _sign_in(url, ROLES["office"])
    with httpx.Client(base_url=url, cookies=cookies, follow_redirects=False, timeout=120) as http:
        r = http.post(f"/office/batches/{bid}/tickets/print", headers={"Origin": url, "Accept": "text/html"})
    found = re.search(r"/tickets/print/([^/?#]+)$", r.headers.get("location", ""))
    return [found.group(1)] if r.status_code == 303 and found else []


@pytest.fixture(scope="session")
def walk(tmp_path_factory, browser) -> dict[str, Any]:
    from examday.app import create_app

    folder = tmp_path_factory.mktemp("visible-text")
    settings = fast_settings(empty_database("sqlite", folder, None), folder / "data")
    clock = FixedClock(AT)
    app = create_app(settings, clock)
    made = seed_demo(app.state.engine, settings, clock, io.StringIO())
    assert made is not None
    today, older = made["today"][0], made["older"]
    with Session(app.state.engine) as db:
        cids = [
            db.exec(select(Candidate.id).where(Candidate.batch_id == b).order_by(col(Candidate.id))).first()
            for b in (today, older)
        ]
    ids: dict[str, list[Any]] = {"bid": [today, older], "part": ["theory", "skill"], "cid": cids, "iid": [1]}
    paths = page_paths(app)
    unfilled = [p for p in paths if not fill(p, ids)]
    seen: list[Seen] = []
    with live(app) as url:
        _play_the_morning(app, settings, clock, url, made["start"] + timedelta(minutes=20))
        ids["job_id"] = _print_job(url, today)
        unfilled = [p for p in paths if not fill(p, ids)]
        for role, username in ROLES.items():
            cookies = _sign_in(url, username)
            refused_once: set[int] = set()
            todo: list[tuple[str, int]] = []
            with httpx.Client(base_url=url, cookies=cookies, headers={"Accept": "text/html"}, timeout=120) as http:
                for path in paths:
                    for u in fill(path, ids):
                        if path == "/login" and username is not None:
                            continue
                        if username == "root" and path in (
                            "/office",
                            "/office/batches",
                            "/office/rooms",
                            "/office/staff",
                        ):
                            todo.append((f"{u}?iid=1", http.get(f"{u}?iid=1").status_code))
                        r = http.get(u, follow_redirects=False)
                        if r.status_code in (301, 302, 303, 307):
                            continue  # to /login (signed out) or on to another page, read there
                        if not r.headers.get("content-type", "").startswith("text/html"):
                            continue  # a PDF or a spreadsheet the page links to: not a page
                        if r.status_code >= 400:
                            if r.status_code in refused_once:
                                continue
                            refused_once.add(r.status_code)
                        todo.append((u, r.status_code))
            for name, size in WIDTHS.items():
                context = tablet_context(browser, size)
                context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
                pg = context.new_page()
                try:
                    for u, status in todo:
                        pg.goto(url + u, wait_until="load")
                        if u.startswith(("/proctor/", "/desk")):
                            pg.wait_for_timeout(700)  # the live pages draw from their feed
                        item = next((s for s in seen if s.role == role and s.url == u), None)
                        if item is None:
                            item = Seen(role, u, status)
                            seen.append(item)
                        if name == "tablet":
                            item.text = read(pg)
                            item.icon = pg.locator("link[rel~=icon]").count() > 0
                            item.refusal = pg.locator("#refusal").count() > 0
                            item.whole = pg.evaluate(WHOLE)
                        scroll, inner = pg.evaluate(WIDTH)
                        item.widths[name] = (scroll, inner)
                finally:
                    context.close()
    return {"seen": seen, "paths": paths, "unfilled": unfilled}
