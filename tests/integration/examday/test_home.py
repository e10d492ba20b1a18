"""The home page shows today's work first (issue #16): the exam office today's batches with the
live rooms, coverage, the desk and the batch page; the installation administrator the
institutions with their filing state and the holiday notices; each role its pages."""

from __future__ import annotations

import io

from examday.demo.seed import seed_demo
from tests.support import bearer

HTML = {"Accept": "text/html"}


def test_the_office_home_lists_todays_batches_with_their_live_links(app, engine, settings, clock, world, client):
    made = seed_demo(engine, settings, clock, io.StringIO())
    assert made is not None
    office = world.token("office2", "admin", 1)
    text = client.get("/", headers={**bearer(office), **HTML}).text
    for bid in made["today"]:
        assert f'id="today-batch-{bid}"' in text
        for href in (f"/proctor/batches/{bid}", f"/office/batches/{bid}/coverage", "/desk", f"/office/batches/{bid}"):
            assert f'href="{href}"' in text, href
    assert f'id="today-batch-{made["older"]}"' not in text  # the locked batch of days ago is not today's work
    assert "已报送" in text and "4级 中级工" in text  # words, not codes: status and level


def test_another_institutions_office_sees_none_of_its_batches(app, engine, settings, clock, world, client):
    made = seed_demo(engine, settings, clock, io.StringIO())
    assert made is not None
    other = world.institution(uscc="91510000100000000X", name="四川评价中心", province="四川")
    office = world.token("office-sc", "admin", other)
    text = client.get("/", headers={**bearer(office), **HTML}).text
    assert "today-batch-" not in text and "今天没有考试" in text


def test_the_installation_administrator_sees_institutions_filing_and_notices(
    app, engine, settings, clock, world, client
):
    seed_demo(engine, settings, clock, io.StringIO())
    root = world.token("root2", "admin")
    text = client.get("/", headers={**bearer(root), **HTML}).text
    assert "长春示范职业技能评价中心" in text and "有效" in text  # the demo's filing is active
    assert 'href="/admin/institutions"' in text and 'href="/admin/calendar"' in text
    assert "系统管理员" in text


def test_each_role_home_links_its_pages(world, client):
    iid = world.institution()
    for role, href in [("kiosk", "/desk"), ("proctor", "/proctor"), ("supervisor", "/proctor"), ("chief", "/evaluate")]:
        tok = world.token(f"{role}-h", role, iid)
        assert f'href="{href}"' in client.get("/", headers={**bearer(tok), **HTML}).text, role


def test_the_centres_home_links_its_reviews_and_the_reports_received(world, client):
    """Issue #17: the centre's dashboard of reports is reached from its home, beside its reviews."""
    tok = world.token("centre-h", "centre", None, province="吉林")
    page = client.get("/", headers={**bearer(tok), **HTML}).text
    assert 'href="/centre/reviews"' in page and 'href="/centre/reports"' in page
