"""The exam office's and the installation administrator's pages in Chromium at tablet (1024×768)
and phone (390×844) width (issue #16): no page scrolls sideways; the candidate search filters 90
rows as one types; the new-batch form adds and removes skill sittings; printing the tickets shows
the count and then the link."""

from __future__ import annotations

import pytest

from tests.browser.conftest import tablet_context
from tests.integration.examday.plans_world import csv_bytes, office, ready

pytestmark = pytest.mark.browser
SIZES = [(1024, 768), (390, 844)]


def signed_in(browser, live_server, token: str, size):
    context = tablet_context(browser, size)
    context.add_cookies([{"name": "examday_session", "value": token, "url": live_server.url}])
    return context, context.new_page()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{page.url} is {width} px wide at {inner}"


@pytest.mark.parametrize("size", SIZES, ids=["tablet", "phone"])
def test_the_office_pages_fit_the_screen_and_the_search_filters_90_rows(
    browser, live_server, world, client, clock, size
):
    o = office(world, clock)
    bid = ready(client, o, n=10)
    r = client.post(
        f"/api/v1/batches/{bid}/candidates",
        files={"file": ("b.csv", csv_bytes(80, start=500), "text/csv")},
        headers=o.headers,
    )
    assert r.status_code == 200, r.text
    client.post(
        f"/api/v1/batches/{bid}/eligibility", json={"candidate_ids": "all", "decision": "eligible"}, headers=o.headers
    )
    printed = ready(client, o, n=12)  # a second batch, seated, for the seating page and the tickets
    assert client.post(f"/api/v1/batches/{printed}/seating", headers=o.headers).status_code == 200
    root = world.token("root", "admin")
    context, page = signed_in(browser, live_server, o.token, size)
    try:
        page.goto(live_server.at(f"/office/batches/{bid}"))
        no_sideways_scroll(page)
        rows = page.locator("#candidate-table tbody tr[data-search]")
        assert rows.count() == 90
        first = rows.first.get_attribute("data-search").split()
        page.fill("#candidate-search", first[1])  # a name
        visible = [r for r in rows.all() if r.is_visible()]
        assert 1 <= len(visible) < 90 and all(first[1] in r.inner_text() for r in visible)
        page.fill("#candidate-search", first[0][-6:])  # the end of a ticket number
        assert sum(r.is_visible() for r in rows.all()) == 1
        page.fill("#candidate-search", "")
        assert sum(r.is_visible() for r in rows.all()) == 90
        cid = page.locator("#candidate-table a[href^='/office/candidates/']").first.get_attribute("href")
        for path in ("/office/batches", cid, f"/office/batches/{printed}/seating"):
            page.goto(live_server.at(path))
            no_sideways_scroll(page)
        # The form: a skill sitting added and removed.
        page.goto(live_server.at("/office/batches"))
        sittings = page.locator('#sessions .session-row[data-part="skill"]')
        assert sittings.count() == 1
        page.click("#add-sitting")
        page.click("#add-sitting")
        assert sittings.count() == 3
        no_sideways_scroll(page)
        sittings.nth(2).locator(".remove-sitting").click()
        assert sittings.count() == 2
        # Printing: the count, then the link.
        page.goto(live_server.at(f"/office/batches/{printed}/seating"))
        page.click("#print-tickets button")
        page.wait_for_selector("#pdf-link", timeout=90_000)
        assert "12 张准考证已生成" in page.inner_text("#printing")
        no_sideways_scroll(page)
    finally:
        context.close()
    context, page = signed_in(browser, live_server, root, size)
    try:
        for path in ("/admin/institutions", "/admin/calendar"):
            page.goto(live_server.at(path))
            no_sideways_scroll(page)
        page.goto(live_server.at("/admin/institutions"))
        page.locator("#institutions details summary").first.click()
        no_sideways_scroll(page)
    finally:
        context.close()
