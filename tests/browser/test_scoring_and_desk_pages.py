"""The scoring pages and the check-in desk in headless Chromium, at tablet (1024×768) and phone
(390×844) width: no page scrolls sideways (issue #16).

- The public publicity page (R-PUB-1, R-PRIV-1) fits a phone and says until when and where to object.
- The office's scores and certificates pages (R-CERT-1, R-FMT-CERT): the refusal before the
  centre's approval on the page, then the numbers, the issue date and the reporting deadline.
- The desk (R-DAY-1, R-ID-1): with one batch selected, a ticket of another of today's batches
  checks in there and the answer names that batch; after a refusal the ticket number stays and
  only what must be retyped is cleared.
"""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from examday.actor import SYSTEM
from examday.plans.tickets import issue_batch_tickets
from examday.registry.models import Institution, Room, Staff
from tests import builders
from tests.browser.conftest import tablet_context
from tests.integration.kiosk.support import EXAM_DAY, checkin_world, seat_everyone
from tests.integration.scoring.scoring_world import build
from tests.integration.scoring.test_exports import AFTER_END

pytestmark = pytest.mark.browser
PASSWORD = "pages-pass-2026"
WIDTHS = [(1024, 768), (390, 844)]


def no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide at {width[1]}"


def sign_in(page, live_server, path: str, username: str) -> None:
    page.goto(live_server.at(path))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + r"(\?.*)?$"))


@pytest.fixture
def locked(client, world, engine, clock):
    """A published, locked batch awaiting the centre's review; an affairs room to object at."""
    sw = build(client, world, engine, clock)
    sw.ready_for_publicity()
    sw.publish()
    with Session(engine) as db:
        db.add(Room(institution_id=sw.institution_id, code="A01", name="考务室", kind="affairs"))
        db.commit()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    world.token("office-web", "admin", sw.institution_id, password=PASSWORD)
    return sw


@pytest.mark.parametrize("size", WIDTHS)
def test_the_office_issues_certificates_on_its_page_and_nothing_scrolls_sideways(browser, live_server, locked, size):
    context = tablet_context(browser, size)
    page = context.new_page()
    try:
        public = context.new_page()  # R-PUB-1: no login; until when and where to object
        public.goto(live_server.at(f"/public/batches/{locked.batch_id}/publicity.html"))
        assert public.locator("#objection-notice").get_attribute("data-open") == "no"  # locked: closed
        assert "不再受理异议" in public.inner_text("#objection-notice")
        no_sideways_scroll(public)

        bid = locked.batch_id
        sign_in(page, live_server, f"/office/batches/{bid}/scores", "office-web")
        no_sideways_scroll(page)
        assert page.locator("#certificates-link").count() == 0  # not before the centre's approval
        # R-CERT-1: the page refuses as the API does, and keeps what was typed.
        page.goto(live_server.at(f"/office/batches/{bid}/certificates"))
        assert page.locator("input[name=kind][value=S]").is_checked()  # a training organisation: S
        page.fill("input[name=institution_code]", "0000")
        page.fill("input[name=site_serial]", "000012")
        page.click("#f-certificates button[type=submit]")
        assert page.get_attribute("#refusal", "data-code") == "review_pending"
        assert "评价中心尚未复核通过" in page.inner_text("#refusal")
        assert page.input_value("input[name=site_serial]") == "000012"
        no_sideways_scroll(page)

        locked.approve()
        page.goto(live_server.at(f"/office/batches/{bid}/scores"))
        page.click("#certificates-link")
        page.fill("input[name=institution_code]", "0000")
        page.fill("input[name=site_serial]", "000012")
        page.click("#f-certificates button[type=submit]")
        expect(page.locator("[role=status]")).to_contain_text("证书编号已生成")
        body = locked.client.get(f"/api/v1/batches/{bid}/certificates", headers=locked.admin).json()
        assert page.inner_text("#issue-date") == body["issue_date"]
        assert page.inner_text("#reporting-deadline") == body["reporting_deadline"]  # R-PUB-2
        shown = page.locator("#certificates td.cert-no").all_inner_texts()
        assert shown == [c["number"] for c in body["certificates"]] and shown
        no_sideways_scroll(page)
    finally:
        context.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_the_public_page_during_publicity_fits_a_phone_and_says_how_to_object(browser, live_server, sw, engine, size):
    sw.ready_for_publicity()
    window = sw.publish()
    with Session(engine) as db:
        db.add(Room(institution_id=sw.institution_id, code="A01", name="考务室", kind="affairs"))
        db.commit()
    context = tablet_context(browser, size)
    try:
        page = context.new_page()
        page.goto(live_server.at(f"/public/batches/{sw.batch_id}/publicity.html"))
        assert page.inner_text("#objection-until") == window["ends_on"]
        assert "考务室（A01）" in page.inner_text("#objection-place")
        no_sideways_scroll(page)
        # Each candidate's masked name on one line (it wrapped at 390 px).
        heights = page.locator("#results td.name").evaluate_all("els => els.map(e => e.getClientRects().length)")
        assert heights and all(h == 1 for h in heights)
    finally:
        context.close()


@pytest.fixture
def sw(client, world, engine, clock):
    return build(client, world, engine, clock)


@pytest.fixture
def two_batches(db, world, clock, settings):
    """Two batches of one institution open at the same door today: the second one's theory too."""
    w = checkin_world(db, clock.now(), settings.secret_key, n=2)
    inst = db.get(Institution, w.institution_id)
    proctors = db.exec(select(Staff).where(Staff.institution_id == inst.id)).all()
    second = builders.batch(db, inst, EXAM_DAY, w.rooms, list(proctors), level=3, start=time(9, 0))
    cands = builders.candidates(db, second, 2, now=clock.now())
    seat_everyone(db, second, w.rooms)
    issue_batch_tickets(db, SYSTEM, second, settings.secret_key, clock.now())
    db.commit()
    world.token("desk-web", "kiosk", w.institution_id, password=PASSWORD)
    clock.advance(minutes=40)  # 08:40: entry open for both
    return w, second.id, cands


@pytest.mark.parametrize("size", WIDTHS)
def test_the_desk_checks_in_a_ticket_of_another_batch_and_keeps_the_ticket_after_a_refusal(
    browser, live_server, two_batches, size
):
    w, other_bid, others = two_batches
    context = tablet_context(browser, size)
    try:
        page = context.new_page()
        sign_in(page, live_server, "/desk", "desk-web")
        page.select_option("#batch", str(w.batch_id))
        no_sideways_scroll(page)

        # R-ID-1: a wrong ID number — the ticket number stays, the ID number is to be typed again.
        mine = w.candidates[0]
        page.fill("#ticket", mine.ticket_number)
        page.fill("#id_number", w.candidates[1].id_number)
        page.click("#checkin button[type=submit]")
        page.wait_for_selector("#answer.no")
        assert page.locator("#answer code.code").first.inner_text() == "id_mismatch"
        assert page.input_value("#ticket") == mine.ticket_number and page.input_value("#id_number") == ""
        page.fill("#id_number", mine.id_number)  # only the ID number retyped
        page.click("#checkin button[type=submit]")
        page.wait_for_selector("#answer.ok")
        assert page.input_value("#ticket") == "" and page.locator("#answer .batch.other").count() == 0

        # A ticket of the other batch while this one is selected: checked in there, and said so.
        page.fill("#ticket", others[0].ticket_number)
        page.fill("#id_number", others[0].id_number)
        page.click("#checkin button[type=submit]")
        expect(page.locator("#answer .batch.other")).to_have_attribute("data-batch", str(other_bid))
        assert "签到成功" in page.inner_text("#answer") and "另一批次" in page.inner_text("#answer")
        assert "3级" in page.inner_text("#answer .batch")  # the other batch's level, in words
        no_sideways_scroll(page)

        # An unknown ticket number: kept (selected, to be corrected), the ID number kept too.
        page.fill("#ticket", "no-such-ticket")
        page.fill("#id_number", mine.id_number)
        page.click("#checkin button[type=submit]")
        expect(page.locator("#answer.no")).to_contain_text("invalid_ticket")
        assert page.input_value("#ticket") == "no-such-ticket" and page.input_value("#id_number") == mine.id_number
        assert not re.search(r"\d{4}-\d\d-\d\dT", page.inner_text("#answer"))  # no ISO time
    finally:
        context.close()


@pytest.fixture
def chief_day(client, world, engine, clock):
    """Scored but not published: one candidate's spread waits for the chief's arbitration."""
    from examday.accounts.models import Account

    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    for cand in sw.candidates[1:]:
        for i, t in enumerate((80, 82, 84)):
            assert sw.enter(i, cand, t).status_code == 201
    for i, t in enumerate((60, 85, 75)):  # a spread of 25: arbitration (R-PANEL-1)
        assert sw.enter(i, sw.candidates[0], t).status_code == 201
    assert sw.import_theory().status_code == 201  # a draft for the chief to countersign
    with Session(engine) as db:
        acc = db.exec(select(Account).where(Account.staff_id == sw.examiners[0])).one()
        acc.password_hash = world.app.state.passwords.hash(PASSWORD)
        db.add(acc)
        db.commit()
        username = acc.username
    return sw, username


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize("size", WIDTHS)
def test_the_chiefs_pages_in_words_at_both_widths(browser, live_server, chief_day, size):
    """Arbitration rounds as 第1轮, statuses and parts in words, China time; nothing scrolls sideways."""
    sw, username = chief_day
    context = tablet_context(browser, size)
    try:
        page = context.new_page()
        sign_in(page, live_server, "/evaluate", username)
        bid = sw.batch_id
        for path in (
            "/evaluate",
            f"/evaluate/{bid}/skill",
            f"/evaluate/{bid}/results",
            f"/evaluate/{bid}/arbitration",
            f"/evaluate/{bid}/theory-scores",
        ):
            page.goto(live_server.at(path))
            text = page.inner_text("main")
            assert not ISO_TIME.search(text), (path, ISO_TIME.search(text))
            assert not SNAKE.search(text), (path, SNAKE.search(text))
            assert "round 0" not in text, path  # the first round is 第1轮 · round 1
            no_sideways_scroll(page)
        page.goto(live_server.at(f"/evaluate/{bid}/arbitration"))
        item = page.locator("section.card", has_text=sw.tickets[0])
        assert "第1轮" in item.inner_text() and "分差超过允许范围" in item.inner_text()
        page.goto(live_server.at(f"/evaluate/{bid}/skill"))
        assert "仲裁中" in page.inner_text(f"tr[data-candidate='{sw.candidates[0]}']")
    finally:
        context.close()
