"""Every page the OpenAPI document leaves out, and the live feed, read as every role with another
institution's ids (issue #14; R-PRIV-1, R-DAY-3).

The pages (`/office…`, `/proctor…`, `/evaluate…`, `/desk`) render the same data as the API but
are not in the OpenAPI document, so test_route_by_role.py does not reach them. Each GET page is
opened with B's ids in its path (and ``?iid=`` B where the page takes one) as every caller of
test_route_by_role.py; an answer carrying B's markers (name, USCC, candidates' names or ticket
numbers) to anyone but the installation administrator is a leak. The installation
administrator's own answer must carry them where the page shows B at all, so that the check
cannot pass by asking for nothing. A new GET page fails test_every_page_is_classified until
PAGES has a row for it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.security.page_forms import (
    CENTRE_FORMS,
    CENTRE_POSTS,
    OWN_POSTS,
    PUBLIC_POSTS,
    page_files,
    page_form,
    page_url,
)
from tests.security.walk import ACTORS, ROOT
from tests.security.world import Ids

# Pages public by design, and why.
PUBLIC = {
    "/login": "the sign-in form",
    "/public/batches/{bid}/publicity.html": "the publicity (公示) is public by law (R-PUB-1); names and ID numbers masked",
}
# path -> (uses the scored batch, the installation administrator's answer shows B)
PAGES: dict[str, tuple[bool, bool]] = {
    "/": (False, False),
    "/admin/calendar": (False, False),  # the installation's holiday notices: nothing of any institution
    "/admin/institutions": (False, True),  # the installation administrator's list of every institution
    # The centre's dashboard of the packages received (issue #17): no institution registers keys in
    # the security world, so nothing of B, even for root.
    "/centre/reports": (False, False),
    "/centre/reports.xlsx": (False, False),
    "/centre/reviews": (False, False),  # B's batches are not locked: nothing of B to review, even for root
    "/desk": (False, False),
    "/evaluate": (False, False),
    "/evaluate/pin": (False, False),
    "/evaluate/{bid}": (True, False),  # scorers' pages: the installation administrator is not one
    "/evaluate/{bid}/arbitration": (True, False),
    "/evaluate/{bid}/results": (True, False),
    "/evaluate/{bid}/theory-scores": (True, False),
    "/evaluate/{bid}/{part}": (True, False),
    "/evaluate/{bid}/{part}/{cid}": (True, False),
    "/office": (False, True),
    "/office/batches": (False, True),
    "/office/batches/{bid}": (False, True),
    "/office/batches/{bid}/archive": (False, False),  # documents by kind and room code: no marker of B
    "/office/batches/{bid}/certificates": (True, False),  # B's scored batch is not locked: no numbers to show
    "/office/batches/{bid}/coverage": (False, False),  # cameras and intervals: no marker of B
    "/office/batches/{bid}/scores": (True, True),
    "/office/batches/{bid}/seating": (False, False),  # seat charts as images: no marker in the HTML
    "/office/batches/{bid}/tickets/print/{job_id}": (False, False),  # a print job: its starter's only
    "/office/batches/{bid}/candidates/import/{job_id}": (False, False),  # an import job: its starter's only
    "/office/batches/{bid}/tickets/print/{job_id}/tickets.pdf": (False, False),
    "/office/candidates/{cid}": (True, True),  # one candidate's photo and ticket (issue #16)
    "/office/keys": (False, True),  # the institution's signing keys (issue #16); names the institution
    "/office/rooms": (False, True),
    "/office/staff": (False, False),  # B's staff carry no marker of B; the page names the institution
    "/proctor": (False, False),
    "/proctor/batches/{bid}": (False, True),
    "/proctor/batches/{bid}/records": (False, True),  # names the institution; a record only when chosen
    "/proctor/batches/{bid}/supervision": (False, True),  # names the institution (R-SUP-1)
}


def get_pages(app) -> set[str]:
    """The GET pages outside the OpenAPI document (the document itself and static files aside)."""
    out = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.include_in_schema or "GET" not in getattr(handler, "http_methods", ()):
                continue
            path = route.path
            for name in ("bid", "cid", "part", "iid", "job_id"):
                path = path.replace(f"{{{name}:int}}", f"{{{name}}}").replace(f"{{{name}:str}}", f"{{{name}}}")
            if not path.startswith(("/schema", "/static")):
                out.add(path)
    return out


def url(path: str, ids: Ids, scored: bool) -> str:
    filled = path.format(
        bid=ids.scored_bid if scored else ids.bid, cid=ids.scored_cid, part="skill", job_id="no-such-job"
    )
    return filled + (
        f"?iid={ids.iid}"
        if path in ("/office", "/office/batches", "/office/keys", "/office/rooms", "/office/staff")
        else ""
    )


@pytest.fixture(scope="module")
def pages(route_world, walk) -> dict[str, Any]:
    app, w = route_world
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(PAGES.keys() & get_pages(app)):
        scored = PAGES[path][0]
        for actor in (*ACTORS, ROOT):
            headers = {**w.headers(actor), "Accept": "text/html"}
            resp = w.client.get(url(path, w.b, scored), headers=headers, follow_redirects=False)
            found = [m for m in w.b_markers if m in resp.text]
            answers[(path, actor)] = {"status": resp.status_code, "found": found, "url": url(path, w.b, scored)}
        if "{bid}" in path and not scored:  # the proctor of T01, on A's batch: nothing of room T02
            resp = w.client.get(url(path, w.a_room, False), headers={**w.headers("proctor"), "Accept": "text/html"})
            found = [m for m in w.room_markers if m in resp.text]
            answers[(path, "room")] = {"status": resp.status_code, "found": found, "url": url(path, w.a_room, False)}
    return {"app": app, "answers": answers}


def test_every_page_is_classified(pages):
    found = get_pages(pages["app"])
    unclassified = sorted(found - PAGES.keys() - PUBLIC.keys())
    stale = sorted((PAGES.keys() | PUBLIC.keys()) - found)
    assert not unclassified, f"GET pages with no row in tests/security/test_pages_by_role.py: {unclassified}"
    assert not stale, f"rows for pages that are gone: {stale}"


def test_the_installation_administrator_sees_b_on_the_pages_that_show_it(pages):
    """Not vacuous: where a page shows B at all, the one who may see everything sees B's markers."""
    blind = [
        f"{a['url']} → {a['status']}"
        for (path, actor), a in pages["answers"].items()
        if actor == ROOT and PAGES[path][1] and not a["found"]
    ]
    assert not blind, "pages that show nothing of B even to the installation administrator:\n" + "\n".join(blind)


@pytest.mark.parametrize("path", sorted(p for p in PAGES if "{bid}" in p and not PAGES[p][0]))
def test_no_page_shows_a_proctor_another_room(pages, path):
    """R-DAY-3: the proctor of T01 reads nothing of T02's candidates on a page of their own batch."""
    a = pages["answers"].get((path, "room"))
    assert a is not None, f"{path} is no longer served: remove its row"
    assert a["status"] < 500, f"{a['url']} as the proctor → {a['status']}"
    assert not (200 <= a["status"] < 300 and a["found"]), f"{a['url']} as the proctor → {a['status']} with {a['found']}"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", sorted(PAGES))
def test_no_page_shows_b(pages, path, actor):
    a = pages["answers"].get((path, actor))
    assert a is not None, f"{path} is no longer served: remove its row"
    assert a["status"] < 500, f"{a['url']} as {actor} → {a['status']}"
    assert not (200 <= a["status"] < 300 and a["found"]), f"{a['url']} as {actor} → {a['status']} with {a['found']}"


@pytest.fixture(scope="module")
def feeds(route_world, pages) -> dict[str, dict[str, Any]]:
    """The first message of the live feed of B's batch, per caller; and of A's batch for the
    proctor of T01 (``room``)."""
    _, w = route_world
    out = {}
    for actor, ids in [*((a, w.b) for a in (*ACTORS, ROOT)), ("room", w.a_room)]:
        headers = w.headers("proctor" if actor == "room" else actor)
        with w.client.websocket_connect(f"/ws/batches/{ids.bid}", headers=headers) as ws:
            out[actor] = ws.receive_json(timeout=30)
    return out


def test_the_feed_of_b_opens_for_the_installation_administrator(feeds):
    """Not vacuous: the feed of B's batch exists and opens for the one who may see all."""
    assert feeds[ROOT]["type"] == "snapshot" and {r["room_code"] for r in feeds[ROOT]["rooms"]} >= {"T01", "T02"}


@pytest.mark.parametrize("actor", ACTORS)
def test_no_feed_of_b(feeds, actor):
    """WS /ws/batches/{bid} (CONTRACT.md "Live rooms") with B's batch: an error, never a snapshot."""
    assert feeds[actor]["type"] == "error", feeds[actor]


def test_the_feed_shows_a_proctor_only_their_room(feeds):
    """R-DAY-3: the proctor of T01 gets a snapshot of T01 alone."""
    assert feeds["room"]["type"] == "snapshot"
    assert {r["room_code"] for r in feeds["room"]["rooms"]} == {"T01"}, feeds["room"]


def post_pages(app) -> set[str]:
    out = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not handler.include_in_schema and "POST" in getattr(handler, "http_methods", ()):
                out.add(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
    return out


@pytest.fixture(scope="module")
def posts(route_world, feeds) -> dict[str, Any]:
    """Every form post with B's ids, as every caller; the installation administrator last."""
    app, w = route_world
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    paths = sorted(post_pages(app) - PUBLIC_POSTS.keys())
    for actor in (*ACTORS, ROOT):
        for path in paths:
            files = page_files(path)
            resp = w.client.post(
                page_url(path, w.b),
                data=page_form(w.b),
                files=files,
                headers={**w.headers(actor), "Accept": "text/html"},
                follow_redirects=False,
            )
            code = resp.json().get("code") if "json" in resp.headers.get("content-type", "") else None
            found = [m for m in w.b_markers if m in resp.text]
            where = resp.headers.get("location", "")
            answers[(path, actor)] = {
                "status": resp.status_code,
                "code": code,
                "found": found,
                "url": page_url(path, w.b),
                "done": 200 <= resp.status_code < 300 or (300 <= resp.status_code < 400 and "/login" not in where),
            }
    return {"paths": paths, "answers": answers}


def test_the_form_posts_reach_the_decision(posts):
    """Not vacuous: the form passes the pages' parsing for the installation administrator."""
    bad = [
        f"{p} → {a['status']}"
        for (p, actor), a in posts["answers"].items()
        if actor == ROOT and a["code"] == "invalid_input"
    ]
    assert not bad, bad


@pytest.mark.parametrize("actor", ACTORS)
def test_no_form_post_acts_on_b(posts, actor):
    """A form post naming B's batch, candidate or objection is refused, and the page it shows
    again with the reason shows nothing of B (R-PRIV-1)."""
    leaks = []
    for path in posts["paths"]:
        a = posts["answers"][(path, actor)]
        done = a["done"] and path not in OWN_POSTS  # 303 to the page's flash, or the page in place
        if a["status"] >= 500 or done or a["found"]:
            leaks.append(f"POST {a['url']} → {a['status']} {a['found']}")
    assert not leaks, f"{actor}:\n" + "\n".join(leaks)


@pytest.mark.parametrize("path", sorted(CENTRE_POSTS))
def test_another_provinces_centre_cannot_review_b(posts, path):
    """R-CERT-1: the centre of 吉林 is refused B's (四川) batch before anything else is looked at —
    forbidden, not the batch's state — while the installation administrator gets past the access
    decision to the batch's own state (not locked yet)."""
    assert path in posts["paths"], f"{path} is no longer served: remove it from CENTRE_POSTS"
    assert posts["answers"][(path, "centre")]["status"] == 403
    assert posts["answers"][(path, ROOT)]["status"] == 409


@pytest.mark.parametrize("path", sorted(CENTRE_FORMS))
def test_the_centres_forms_reach_their_service(posts, path):
    """R-PUB-2 (issue #17): the centre of 吉林 may not register B's (四川) keys (forbidden, by
    examday.access.can_act_as_centre_for); the installation administrator passes the access decision
    and is refused for the file's own fault; a file that is no package is refused as one."""
    assert path in posts["paths"], f"{path} is no longer served: remove it from CENTRE_FORMS"
    _, centre, root = CENTRE_FORMS[path]
    assert posts["answers"][(path, "centre")]["status"] == centre
    assert posts["answers"][(path, ROOT)]["status"] == root
