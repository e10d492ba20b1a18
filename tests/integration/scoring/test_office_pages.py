"""The exam office's scoring page and the chief's results page: the same refusals as the
API, on the page (R-SCORE-3, R-PANEL-1, R-PUB-1); the whole walk is in
tests/browser/journeys/."""

from __future__ import annotations

from sqlmodel import Session

from scoring.services.lock import seal_of


def test_a_bad_rubric_or_panel_is_refused_on_the_page_with_every_reason(sw):
    url = f"/office/batches/{sw.batch_id}/scores"
    page = sw.client.post(f"{url}/rubric", data={"part": "skill", "items": "A1,准备,20\nA2,操作,50"}, headers=sw.admin)
    assert page.status_code == 422 and "R-SCORE-3" in page.text and 'data-code="rubric_invalid"' in page.text
    page = sw.client.post(f"{url}/rubric", data={"part": "skill", "items": "A1 准备 20"}, headers=sw.admin)
    assert page.status_code == 422 and "第1行应为 代码,名称,分值" in page.text and "Line 1" in page.text
    page = sw.client.post(
        f"{url}/panel",
        data={"part": "skill", "examiner": [str(x) for x in sw.examiners[:2]], "chief": str(sw.examiners[0])},
        headers=sw.admin,
    )
    assert page.status_code == 422 and "R-PANEL-1" in page.text and 'data-code="panel_rejected"' in page.text
    assert sw.client.get(f"/api/v1/batches/{sw.batch_id}/panels", headers=sw.admin).json() == []
    assert sw.client.get(f"/api/v1/batches/{sw.batch_id}/rubrics/skill", headers=sw.admin).json()["items"] == []


def test_the_forms_set_the_rubric_and_the_panel(sw):
    url = f"/office/batches/{sw.batch_id}/scores"
    r = sw.client.post(
        f"{url}/rubric",
        data={"part": "skill", "items": "A1，安全操作，40\nA2,接线工艺,35\nA3\t通电试验\t25"},
        headers=sw.admin,
        follow_redirects=False,
    )
    assert r.status_code in (302, 303) and r.headers["location"].endswith("done=rubric")
    r = sw.client.post(
        f"{url}/panel",
        data={"part": "skill", "examiner": [str(x) for x in sw.examiners[:3]], "chief": str(sw.examiners[1])},
        headers=sw.admin,
        follow_redirects=False,
    )
    assert r.status_code in (302, 303)
    panels = sw.client.get(f"/api/v1/batches/{sw.batch_id}/panels", headers=sw.admin).json()
    assert panels[0]["examiner_ids"] == sw.examiners[:3] and panels[0]["chief_id"] == sw.examiners[1]
    page = sw.client.get(f"{url}?done=panel", headers=sw.admin).text
    assert "考评组已组建" in page and "A2 接线工艺 35" in page and "主考 <small>chief</small>" in page


def test_only_the_office_opens_it_and_only_the_chief_the_results(sw):
    assert sw.client.get(f"/office/batches/{sw.batch_id}/scores", headers=sw.scorer(1)).status_code == 403
    assert sw.client.get(f"/evaluate/{sw.batch_id}/results", headers=sw.scorer(1)).status_code == 403
    chief = sw.client.get(f"/evaluate/{sw.batch_id}/results", headers=sw.scorer(0))
    assert chief.status_code == 200 and all(t in chief.text for t in sw.tickets)


def test_the_page_shows_a_due_lock_and_the_office_locks_by_command(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.advance(days=8)  # past the five working days (R-PUB-1)
    url = f"/office/batches/{sw.batch_id}/scores"
    page = sw.client.get(url, headers=sw.admin).text
    assert "公示期已结束" in page and sw.batch_status() == "publicity"  # looking locks nothing
    r = sw.client.post(f"{url}/lock", headers=sw.admin, follow_redirects=False)
    assert r.status_code in (302, 303) and sw.batch_status() == "locked"
    with Session(sw.engine) as db:
        assert seal_of(db, sw.batch_id).trigger == "command"
    page = sw.client.get(f"{url}?done=locked", headers=sw.admin).text
    assert "批次已锁定封存" in page and "公示成绩" not in page and 'data-status="locked"' in page


def test_publicity_before_every_score_is_in_is_refused_with_the_missing_parts(sw):
    page = sw.client.post(f"/office/batches/{sw.batch_id}/scores/publicity", headers=sw.admin)
    assert page.status_code == 409 and 'data-code="scores_not_final"' in page.text and "R-PUB-1" in page.text
    assert sw.tickets[0] in page.text and sw.batch_status() == "filed"
