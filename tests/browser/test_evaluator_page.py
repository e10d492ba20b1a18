"""The examiner's tablet page in headless Chromium: sign in, set the PIN, enter
a score, see it accepted (R-SCORE-1, R-SCORE-2, R-STAFF-4)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from scoring.models import ScoreEntry
from tests.integration.scoring.scoring_world import build

pytestmark = pytest.mark.browser
PASSWORD = "tablet-pass-2026"


@pytest.fixture
def scoring(client, world, engine, clock):
    sw = build(client, world, engine, clock)
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    # A colleague has scored the first candidate already: the page must not show it.
    assert sw.enter(2, sw.candidates[0], items={"A1": 33.3, "A2": 30, "A3": 20}).status_code == 201
    from examday.accounts.models import Account

    with Session(engine) as db:  # examiners[1] acts under one account only (R-STAFF-4): a password, no PIN yet
        acc = db.exec(select(Account).where(Account.staff_id == sw.examiners[1])).one()
        acc.password_hash = world.app.state.passwords.hash(PASSWORD)
        acc.pin_hash = None
        db.add(acc)
        db.commit()
    return sw


def sign_in(page, live_server) -> None:
    page.goto(live_server.at("/evaluate"))
    assert "/login" in page.url
    page.fill("input[name=username]", "examiner1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/evaluate$"))


def test_examiner_signs_in_enters_a_score_and_sees_it_accepted(page, live_server, scoring, engine):
    sw = scoring
    sign_in(page, live_server)
    # No PIN yet: the page says so and leads to the PIN form.
    assert page.locator("[role=alert]").first.is_visible()
    page.click("a[href='/evaluate/pin']")
    page.fill("input[name=pin]", "2468")
    page.fill("input[name=pin_again]", "2468")
    page.click("button[type=submit]")
    assert page.locator("[role=status]").inner_text().startswith("签名密码已设置")
    page.goto(live_server.at("/evaluate"))
    page.click(f"a[href='/evaluate/{sw.batch_id}/skill']")
    row = page.locator(f"tr[data-candidate='{sw.candidates[0]}']")
    assert sw.tickets[0] in row.inner_text()
    row.locator("a").click()
    assert "33.3" not in page.content()  # R-SCORE-1: the colleague's entry is not on the page
    page.fill("#item-0", "36.5")
    page.fill("#item-1", "30")
    page.fill("#item-2", "21")
    page.fill("#pin", "2468")
    page.click("#submit")
    accepted = page.locator("#accepted")
    accepted.wait_for()
    assert "评分已接受并签名" in accepted.inner_text()
    assert page.locator("#accepted-total").inner_text() == "87.5"
    # The tablet window holds the page without sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    with Session(engine) as db:
        row = db.exec(select(ScoreEntry).where(ScoreEntry.examiner_staff_id == sw.examiners[1])).one()
        assert row.total_tenths == 875 and row.hash in accepted.inner_text()


def test_wrong_pin_is_refused_in_the_browser(page, live_server, scoring, world, engine):
    sw = scoring
    sign_in(page, live_server)
    page.goto(live_server.at("/evaluate/pin"))
    page.fill("input[name=pin]", "1357")
    page.fill("input[name=pin_again]", "1357")
    page.click("button[type=submit]")
    page.goto(live_server.at(f"/evaluate/{sw.batch_id}/skill/{sw.candidates[1]}"))
    for i, v in enumerate(("30", "30", "20")):
        page.fill(f"#item-{i}", v)
    page.fill("#pin", "9999")
    page.click("#submit")
    assert "签名密码错误" in page.locator("#refusal").inner_text()
    assert page.input_value("#item-0") == "30"
    with Session(engine) as db:
        assert db.exec(select(ScoreEntry).where(ScoreEntry.examiner_staff_id == sw.examiners[1])).first() is None
