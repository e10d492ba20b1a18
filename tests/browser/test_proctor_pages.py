"""The proctor's and the supervisor's pages in headless Chromium at tablet (1024×768) and phone
(390×844) width (issue #16): the live page in words, the exam-room record produced and confirmed
by clicking (R-DAY-3, R-STAFF-4), the supervisor's findings and report deadline (R-SUP-1) and the
coverage page (R-VIDEO-1) — none scrolls sideways."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_dashboard import PASSWORD, rooms, sign_in  # noqa: F401  (rooms is a fixture)

pytestmark = pytest.mark.browser
SIZES = [(1024, 768), (390, 844)]


def fits(page) -> None:
    # A click that navigates returns before the new document exists; measure the page once loaded.
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def visible_text(page) -> str:
    return page.inner_text("main")


@pytest.mark.parametrize("page_size", SIZES)
def test_the_proctor_reads_the_room_in_words_and_confirms_the_record(page, live_server, rooms, clock, page_size):  # noqa: F811
    rw = rooms
    sign_in(page, live_server, rw)
    fits(page)
    bar = page.inner_text("#session")
    assert "理论知识考试 09:00–10:30" in bar and "技能操作考核" in bar and "theory" not in bar
    page.locator(".seat").first.click()  # the panel with its forms
    fits(page)
    page.click("#p-close")

    clock.advance(minutes=115)  # 10:35: the theory session is over
    page.click("#records-link")
    page.wait_for_url(re.compile(r"/records"))
    fits(page)
    page.click(f'#pairs a[data-session="{rw.session_id}"][data-room="T01"]')
    assert "未生成" in page.inner_text("#record-status")
    page.fill("#f-produce textarea[name=remarks]", "考场秩序良好")
    page.click("#f-produce button")
    assert "考场记录表已生成" in page.inner_text("#notice")
    fits(page)
    page.click("#f-confirm button")
    assert "已确认" in page.inner_text("#notice") and page.locator("#confirmations li").count() == 1
    text = visible_text(page)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}", text) and "confirming" not in text
    fits(page)


@pytest.mark.parametrize("page_size", SIZES)
def test_the_supervisor_notes_a_finding_and_sees_the_deadline(page, live_server, rooms, world, page_size):  # noqa: F811
    rw = rooms
    world.token("tablet-sup", "supervisor", rw.institution_id, password=PASSWORD)
    page.goto(live_server.at(f"/proctor/batches/{rw.batch_id}"))
    page.fill("input[name=username]", "tablet-sup")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live[data-state=live]")
    page.click("#supervision-link")
    page.wait_for_url(re.compile(r"/supervision"))
    fits(page)
    assert re.match(r"\d{4}-\d{2}-\d{2}$", page.inner_text("#deadline-date"))
    page.select_option("#f-note select[name=area]", "rooms_equipment")
    page.fill("#f-note textarea[name=text]", "T02 后方摄像头角度偏，已告知考务办公室")
    page.click("#f-note button")
    listed = page.inner_text("#finding-list")
    assert "考场与设备" in listed and "T02 后方摄像头角度偏" in listed and "rooms_equipment" not in listed
    fits(page)
    page.goto(live_server.at(f"/office/batches/{rw.batch_id}/coverage"))
    fits(page)
    assert "no_hook_received" not in visible_text(page)
