"""The centre's review page (复核, R-CERT-1; R-PUB-2): the same service as the API, on a page.

A centre reviews only its own province's locked batches: another province's centre neither
sees the batch on its page nor acts on it, the institution's own office cannot approve itself,
and a refusal is shown on the page in its status and changes nothing. The walk through the
pages is in tests/browser/journeys/.
"""

from __future__ import annotations

import pytest

from tests.integration.scoring.test_exports import AFTER_END, CERT
from tests.support import bearer

PAGE = "/centre/reviews"


@pytest.fixture
def locked(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.centre = bearer(sw.world.token("centre-jl", "centre", None, province="吉林省"))
    return sw


def _state(sw) -> str:
    return sw.client.get(f"/api/v1/batches/{sw.batch_id}/review", headers=sw.admin).json()["state"]


def _post(sw, headers, tail: str, **form):
    return sw.client.post(f"{PAGE}/{sw.batch_id}/{tail}", data=form, headers=headers, follow_redirects=False)


def test_r_cert_1_the_page_lists_the_provinces_locked_batches_only(locked, world):
    page = locked.client.get(PAGE, headers=locked.centre)
    assert page.status_code == 200
    assert f'id="batch-{locked.batch_id}"' in page.text and 'data-state="awaiting"' in page.text
    assert "封存摘要" in page.text and f"/office/batches/{locked.batch_id}/archive" in page.text
    other = bearer(world.token("centre-sc", "centre", province="四川"))
    assert f'id="batch-{locked.batch_id}"' not in locked.client.get(PAGE, headers=other).text
    # The institution's own office reaches the page but has nothing of its own to review there.
    assert f'id="batch-{locked.batch_id}"' not in locked.client.get(PAGE, headers=locked.admin).text
    assert locked.client.get(PAGE, headers=locked.scorer(0)).status_code == 403


def test_r_cert_1_another_province_and_the_office_are_refused_on_the_page(locked, world):
    other = bearer(world.token("centre-sc", "centre", province="四川"))
    for headers in (other, locked.admin):
        r = _post(locked, headers, "review", decision="approve")
        assert r.status_code == 403 and 'data-code="forbidden"' in r.text, r.text
        assert locked.tickets[0] not in r.text
    assert _state(locked) == "awaiting"


def test_r_cert_1_a_return_without_reasons_is_refused_then_returned_then_approved(locked):
    r = _post(locked, locked.centre, "review", decision="return", reasons="  \n ")
    assert r.status_code == 422 and 'data-code="review_reasons_required"' in r.text and "R-CERT-1" in r.text
    assert _state(locked) == "awaiting"
    r = _post(locked, locked.centre, "review", decision="return", reasons="签到表缺页\n督导报告未附")
    assert r.status_code == 303 and r.headers["location"].startswith(f"{PAGE}?done=return")
    body = locked.client.get(f"/api/v1/batches/{locked.batch_id}/review", headers=locked.admin).json()
    assert body["state"] == "returned" and body["reviews"][-1]["reasons"] == ["签到表缺页", "督导报告未附"]
    page = locked.client.get(f"{PAGE}?done=return", headers=locked.centre).text
    assert "已退回" in page and "督导报告未附" in page
    assert _post(locked, locked.centre, "review", decision="approve").status_code == 303
    assert _state(locked) == "approved"
    r = _post(locked, locked.centre, "review", decision="approve")
    assert r.status_code == 409 and 'data-code="review_settled"' in r.text


def test_r_pub_2_the_centre_marks_the_data_received_after_the_certificates(locked):
    assert _post(locked, locked.centre, "review", decision="approve").status_code == 303
    r = _post(locked, locked.centre, "report-received")
    assert r.status_code == 409 and 'data-code="certificates_not_issued"' in r.text and "R-PUB-2" in r.text
    issued = locked.client.post(f"/api/v1/batches/{locked.batch_id}/certificates", headers=locked.admin, json=CERT)
    assert issued.status_code == 201, issued.text
    page = locked.client.get(PAGE, headers=locked.centre).text
    assert issued.json()["reporting_deadline"] in page and "数据已收到" in page
    assert _post(locked, locked.centre, "report-received").status_code == 303
    body = locked.client.get(f"/api/v1/batches/{locked.batch_id}/review", headers=locked.admin).json()
    assert body["report"]["received_at"] is not None
    page = locked.client.get(f"{PAGE}?done=received", headers=locked.centre).text
    assert "已签收该批次上报数据" in page and "数据已收到" not in page.split(f'id="batch-{locked.batch_id}"')[1]


def test_r_inst_2_the_page_says_when_the_institutions_filing_blocks_its_exam_days(locked):
    url = f"/api/v1/institutions/{locked.institution_id}/filing"
    r = locked.client.post(url, headers=locked.centre, json={"action": "suspend", "reason": "监考安排不规范，整改"})
    assert r.status_code == 200, r.text
    section = locked.client.get(PAGE, headers=locked.centre).text.split(f'id="batch-{locked.batch_id}"')[1]
    assert 'data-filing="suspended"' in section and "R-INST-2" in section
