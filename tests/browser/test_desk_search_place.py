"""The desk's lost-ticket search in Chromium (issue #16, R-SEAT-1): once a candidate's current
sitting is a skill sitting, the hit shows the skill room, the sitting and the workstation (工位),
in words and China time, at tablet and phone width; before theory, the theory room and seat."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import tablet_context
from tests.browser.test_scoring_and_desk_pages import PASSWORD, WIDTHS, no_sideways_scroll, sign_in
from tests.integration.kiosk.skill_world import at, skill_world

pytestmark = pytest.mark.browser


@pytest.fixture
def sw(db, world, clock, settings):
    made = skill_world(db, clock.now(), settings.secret_key)
    world.token("desk-place", "kiosk", made.institution_id, password=PASSWORD)
    return made


def search(page, name: str) -> str:
    page.fill("#q", name)
    page.press("#q", "Enter")
    page.wait_for_selector("#results li .place")
    return page.inner_text("#results")


@pytest.mark.parametrize("size", WIDTHS)
def test_the_search_shows_the_skill_room_sitting_and_workstation(browser, live_server, sw, clock, size):
    first = sw.of_sitting(0)[0]
    _, station = sw.station[first.id]
    theory = sw.rooms[sw.theory_room[first.id]]
    context = tablet_context(browser, size)
    try:
        page = context.new_page()
        clock.at = at(8, 40)
        sign_in(page, live_server, "/desk", "desk-place")
        text = search(page, first.name)
        assert f"考场 {theory.code}" in text and "号座位" in text and "工位" not in text
        clock.at = at(10, 45)  # theory is over: the first sitting's entry is open
        page.reload()
        text = search(page, first.name)
        assert f"S01 · 第1场（共3场）11:00 · {station} 号工位" in text, text
        assert f"Room S01, sitting 1 of 3 at 11:00, workstation {station}" in text
        assert not re.search(r"\d{4}-\d\d-\d\dT", text)  # no ISO time
        no_sideways_scroll(page)
    finally:
        context.close()
