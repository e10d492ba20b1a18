"""Every page of the demo, as every role of the demo, read as a person reads it (issue #16).

The demo's day (``examday demo``'s seed: two filed batches today, a locked one before) is served
live; each role signs in on the login page's service and opens every GET page the app has (the
route handlers outside the OpenAPI document, path parameters filled with the demo's ids: today's
first batch and the locked one, both parts, a candidate). A page that answers is rendered in
Chromium and its visible text (Playwright's ``inner_text`` of the body) is read:

- no bare code: a snake_case word anywhere, or — in the Chinese text, outside the English lines
  beneath (``<small>``, ``[lang=en]``) and the user name — a code of the glossary or an enum
  value (``theory``, ``recording``, ``proctor`` …) as a lowercase word;
- no ISO time (``2026-12-06T11:25``): times are China time, in words or ``09:05``.

Refusal codes belong in the refusal's own block, in ``<code class="code">``: those elements are
left out. Each refused page is read once per role and status (the one error page).

The same walk opens each page at 1024×768 (tablet) and 390×844 (phone); a page that scrolls
sideways fails (wide tables scroll in their own container, ``.table-wrap``).

Both tests report every offending page at once.
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
from examday.glossary import TERMS
from examday.plans.models import Candidate
from examday.registry.site_rules import ROOM_KINDS
from examday.settings import Settings
from tests.browser.conftest import tablet_context
from tests.conftest import empty_database
from tests.e2e.live import live

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

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/])")
ROLE_CODES = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor", "centre", "staff", "examiner")


def _codes() -> set[str]:
    """Codes and enum values a person must never read bare: the glossary's, the roles, room kinds."""
    out = {c for group in TERMS.values() for c in group if re.fullmatch(r"[a-z][a-z0-9_]*", c) and len(c) > 1}
    return out | set(ROLE_CODES) | set(ROOM_KINDS)


CODES = _codes()
CODE_WORD = re.compile(
    r"(?<![\w./@:-])(" + "|".join(sorted(map(re.escape, CODES), key=len, reverse=True)) + r")(?![\w@/])"
)

# Run in the page: hide (display:none takes an element out of the rendered text) and show again.
HIDE = """(sel) => { for (const e of document.querySelectorAll(sel)) { e.dataset.vtHidden = e.style.display || '-'; e.style.display = 'none'; } }"""
SHOW = """() => { for (const e of document.querySelectorAll('[data-vt-hidden]')) { e.style.display = e.dataset.vtHidden === '-' ? '' : e.dataset.vtHidden; delete e.dataset.vtHidden; } }"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


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


@pytest.fixture(scope="module")
def walk(tmp_path_factory, browser) -> dict[str, Any]:
    from examday.app import create_app

    folder = tmp_path_factory.mktemp("visible-text")
    settings = Settings(
        database_url=empty_database("sqlite", folder, None),
        data_dir=folder / "data",
        hook_secret="visible-hook-secret",
        secret_key="visible-secret",
        password_time_cost=1,
        password_memory_kib=1024,
    ).resolved()
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
                        scroll, inner = pg.evaluate(WIDTH)
                        item.widths[name] = (scroll, inner)
                finally:
                    context.close()
    return {"seen": seen, "paths": paths, "unfilled": unfilled}


def _around(text: str, m: re.Match[str]) -> str:
    start, end = max(0, m.start() - 18), min(len(text), m.end() + 18)
    return " ".join(text[start:end].split())


ENGLISH_BEFORE = re.compile(r"[A-Za-z]{2,}[ (\"'-]*$")


def _in_english(text: str, m: re.Match[str]) -> bool:
    """The word is part of an English phrase ("Exam organisation", "The batch is invalid",
    "Employer (enterprise)") — an English line where <small> cannot be (an <option>) — rather
    than a code standing alone beside Chinese, a number or a comma ("理论考场 theory",
    "应到 expected 0", "proctor,staff")."""
    return ENGLISH_BEFORE.search(text[max(0, m.start() - 40) : m.start()]) is not None


def offences(text: dict[str, str]) -> list[str]:
    """Each offending string with the words around it, once."""
    every, zh = text.get("all", ""), text.get("zh", "")
    found = [f"ISO time {m.group(0)!r} in «{_around(every, m)}»" for m in ISO_TIME.finditer(every)]
    found += [f"code {m.group(0)!r} in «{_around(every, m)}»" for m in SNAKE.finditer(every)]
    found += [f"code {m.group(0)!r} in «{_around(zh, m)}»" for m in CODE_WORD.finditer(zh) if not _in_english(zh, m)]
    return sorted(set(found))


def test_every_page_is_reached(walk):
    """Not vacuous: every page path was filled with the demo's ids, and most answered someone."""
    assert not walk["unfilled"], f"pages the walk has no ids for (add them to ids): {walk['unfilled']}"
    answered = {s.url for s in walk["seen"] if s.status == 200}
    assert len(answered) >= len(walk["paths"]) // 2, sorted(answered)


def test_every_page_has_the_favicon(walk):
    missing = sorted({s.url for s in walk["seen"] if not s.icon})
    assert not missing, f"pages without the favicon: {missing}"


def test_every_refusal_on_a_page_is_a_page(walk):
    """A refused page (403, 404, 409 …) shows the refusal's block — Chinese, English, code, rule,
    what to do next, a way back — never raw JSON (issue #16)."""
    raw = sorted(f"{s.url} as {s.role} ({s.status})" for s in walk["seen"] if s.status >= 400 and not s.refusal)
    assert not raw, "refusals not shown as a page:\n" + "\n".join(raw)
    assert any(s.status == 403 for s in walk["seen"]) and any(s.status == 404 for s in walk["seen"])


def test_no_bare_code_or_iso_time_in_visible_text(walk):
    bad = []
    for s in walk["seen"]:
        if found := offences(s.text):
            bad.append(f"{s.url} as {s.role} ({s.status}):\n    " + "\n    ".join(found))
    assert not bad, f"{len(bad)} pages show codes or ISO times:\n" + "\n".join(bad)


def test_no_page_scrolls_sideways(walk):
    bad = []
    for s in walk["seen"]:
        for name, (scroll, inner) in s.widths.items():
            if scroll > inner:
                bad.append(f"{s.url} as {s.role} at {name} ({inner} px): {scroll} px wide")
    assert not bad, f"{len(bad)} pages scroll sideways:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "text, bad",
    [
        ("理论 theory 11:45–13:15", True),  # the issue's session buttons
        ("T01-C1 recording", True),  # camera chips
        ("人员 proctor,staff", True),
        ("覆盖 no_hook_received", True),
        ("签到 2026-12-06T11:25:21.343086+08:00", True),
        ("考务组织 · Exam organisation", False),  # an English line in an <option>
        ("已报送 2026-12-06 09:05", False),
    ],
)
def test_the_check_catches_the_issues_examples(text, bad):
    """The detector itself: the bare codes and ISO times issue #16 found, and no English phrase."""
    assert bool(offences({"all": text, "zh": text})) is bad, offences({"all": text, "zh": text})
