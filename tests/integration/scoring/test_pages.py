"""The examiner's tablet pages and the chief's arbitration page (R-SCORE-1, R-PANEL-1)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from scoring.models import ScoreEntry
from tests.integration.scoring.scoring_world import PIN, build


@pytest.fixture
def ready(sw):
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    return sw


def form(total_items: dict[str, float], pin: str = PIN) -> dict[str, str]:
    data = {f"item-{i}": str(v) for i, v in enumerate(total_items.values())}
    data["pin"] = pin
    return data


def test_signed_out_browser_is_sent_to_the_login(client):
    r = client.get("/evaluate", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")


def test_worklist_shows_the_examiners_batches_and_candidates(ready):
    home = ready.client.get("/evaluate", headers=ready.scorer(1))
    assert home.status_code == 200 and f"/evaluate/{ready.batch_id}/skill" in home.text
    page = ready.client.get(f"/evaluate/{ready.batch_id}/skill", headers=ready.scorer(1))
    assert page.status_code == 200
    assert all(t in page.text for t in ready.tickets)
    assert ready.client.get("/evaluate", headers=ready.scorer(4)).text.count("/evaluate/") == 1  # just the PIN link


# R-SCORE-1: the page shows the examiner's own score, never a colleague's.
def test_page_never_shows_a_colleagues_entry(ready):
    ready.enter(2, ready.candidates[0], items={"A1": 33.3, "A2": 30, "A3": 20})
    page = ready.client.get(f"/evaluate/{ready.batch_id}/skill", headers=ready.scorer(1)).text
    entry = ready.client.get(f"/evaluate/{ready.batch_id}/skill/{ready.candidates[0]}", headers=ready.scorer(1)).text
    for text in (page, entry):
        assert "33.3" not in text and "83.3" not in text


def test_form_entry_is_accepted_and_signed(ready, engine):
    url = f"/evaluate/{ready.batch_id}/skill/{ready.candidates[0]}"
    assert 'name="item-0"' in ready.client.get(url, headers=ready.scorer(1)).text
    r = ready.client.post(url + "/sign", data=form({"A1": 38, "A2": 30.5, "A3": 20}), headers=ready.scorer(1))
    assert r.status_code == 200, r.text
    assert "评分已接受并签名" in r.text and "88.5" in r.text
    with Session(engine) as db:
        row = db.exec(select(ScoreEntry)).one()
        assert row.total_tenths == 885 and row.hash in r.text


def test_form_with_a_wrong_pin_is_refused_on_the_page(ready, engine):
    url = f"/evaluate/{ready.batch_id}/skill/{ready.candidates[0]}"
    r = ready.client.post(
        url + "/sign", data=form({"A1": 38, "A2": 30, "A3": 20}, pin="111111"), headers=ready.scorer(1)
    )
    assert r.status_code == 403 and "签名密码错误" in r.text
    assert 'value="38"' in r.text  # what was typed is kept for the next try
    with Session(engine) as db:
        assert db.exec(select(ScoreEntry)).first() is None


def test_pin_page_sets_the_pin(client, world, engine, clock):
    sw = build(client, world, engine, clock, pins=False)
    h = sw.scorer(1)
    assert "尚未设置签名密码" in client.get("/evaluate", headers=h).text
    r = client.post("/evaluate/pin/set", data={"pin": "1357", "pin_again": "1358"}, headers=h)
    assert r.status_code == 422 and "不一致" in r.text
    r = client.post("/evaluate/pin/set", data={"pin": "1357", "pin_again": "1357"}, headers=h)
    assert r.status_code == 200 and "签名密码已设置" in r.text
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    assert sw.enter(1, sw.candidates[0], 70, pin="1357").status_code == 201


# R-PANEL-1: the chief's arbitration view.
def test_chief_arbitrates_on_the_page(ready):
    for i, t in enumerate((55, 70, 80)):
        ready.enter(i, ready.candidates[0], t)
    page = ready.client.get(f"/evaluate/{ready.batch_id}/arbitration", headers=ready.scorer(0))
    assert page.status_code == 200 and "分差超过允许范围" in page.text and "55.0" in page.text
    assert ready.client.get(f"/evaluate/{ready.batch_id}/arbitration", headers=ready.scorer(1)).status_code == 403
    r = ready.client.post(
        f"/evaluate/{ready.batch_id}/arbitration/{ready.candidates[0]}/skill",
        data={"action": "rescore", "reason": "请复核"},
        headers=ready.scorer(0),
    )
    assert r.status_code == 200 and "没有待仲裁的评分" in r.text
    assert ready.part(ready.candidates[0])["status"] == "rescore"


def test_admin_is_not_a_scorer(ready):
    assert ready.client.get("/evaluate", headers=ready.admin).status_code == 403
