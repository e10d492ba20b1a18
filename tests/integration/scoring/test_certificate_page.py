"""The office's certificates page (证书) and the public page's way to object (issue #16).

R-CERT-1: the page refuses as ``POST /api/v1/batches/{bid}/certificates`` does — before the
centre's approval (review_pending) nothing is issued — and keeps what was typed; the scores page
links to it once the centre has approved. R-FMT-CERT: the kind is preselected from the
institution's kind (an enterprise issues Y, others S) and a bad part of the number is named.
R-PUB-2: the numbers, the issue date and the reporting deadline as the API reads them.
R-PUB-1: the public page says until when, where and how to object.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from examday.clock import CST
from examday.registry.models import Institution, Room
from tests.integration.scoring.test_exports import AFTER_END

FORM = {"kind": "S", "institution_code": "0000", "site_serial": "000012", "issue_date": ""}


@pytest.fixture
def locked(sw, clock):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    return sw


def page(sw, tail: str = "") -> str:
    r = sw.client.get(f"/office/batches/{sw.batch_id}/certificates{tail}", headers={**sw.admin, "Accept": "text/html"})
    assert r.status_code == 200, r.text
    return r.text


def post(sw, **over):
    return sw.client.post(
        f"/office/batches/{sw.batch_id}/certificates/issue",
        data={**FORM, **over},
        headers={**sw.admin, "Accept": "text/html"},
        follow_redirects=False,
    )


def checked_kind(html: str) -> str:
    found = re.findall(r'name="kind" value="([YS])" checked', html)
    assert len(found) == 1, found
    return found[0]


def issued(sw):
    return sw.client.get(f"/api/v1/batches/{sw.batch_id}/certificates", headers=sw.admin)


def test_r_fmt_cert_the_kind_is_preselected_from_the_institutions_kind(locked, engine):
    assert checked_kind(page(locked)) == "S"  # a social training organisation
    with Session(engine) as db:
        inst = db.get(Institution, locked.institution_id)
        inst.kind = "enterprise"
        db.add(inst)
        db.commit()
    assert checked_kind(page(locked)) == "Y"  # 用人单位: Y


def test_r_cert_1_refused_on_the_page_before_the_centres_approval_and_nothing_issued(locked):
    scores = locked.client.get(f"/office/batches/{locked.batch_id}/scores", headers=locked.admin).text
    assert 'id="certificates-link"' not in scores  # linked only once the centre has approved
    r = post(locked, site_serial="000034")
    assert r.status_code == 409
    assert 'data-code="review_pending"' in r.text and '<code class="code">review_pending</code>' in r.text
    assert "评价中心尚未复核通过" in r.text and "R-CERT-1" in r.text
    assert 'value="000034"' in r.text  # what was typed stays
    assert issued(locked).json()["code"] == "certificates_not_issued"


def test_r_cert_1_after_approval_the_office_issues_on_the_page(locked, clock):
    locked.approve()
    scores = locked.client.get(f"/office/batches/{locked.batch_id}/scores", headers=locked.admin).text
    assert f'href="/office/batches/{locked.batch_id}/certificates" id="certificates-link"' in scores
    # R-FMT-CERT: a bad part is named in words, nothing issued.
    r = post(locked, site_serial="12")
    assert r.status_code == 422 and 'data-code="certificate_number_invalid"' in r.text
    assert "考点序号" in r.text and 'value="12"' in r.text
    assert issued(locked).status_code == 409

    r = post(locked)
    assert r.status_code == 303 and r.headers["location"].endswith("/certificates?done=issued")
    body = issued(locked).json()
    html = page(locked, "?done=issued")
    assert "证书编号已生成" in html
    today = clock.now().astimezone(CST).date().isoformat()
    assert body["issue_date"] == today and f'<b id="issue-date">{today}</b>' in html  # R-PUB-2
    assert f'<b id="reporting-deadline">{body["reporting_deadline"]}</b>' in html
    numbers = [c["number"] for c in body["certificates"]]
    assert numbers and all(n in html and n.startswith("S0000") for n in numbers)
    assert 'id="f-certificates"' not in html  # issued once: no second form
    assert post(locked).status_code == 409  # certificates_issued, as the API


def test_r_pub_1_the_public_page_says_until_when_where_and_how_to_object(sw, engine):
    sw.ready_for_publicity()
    window = sw.publish()
    with Session(engine) as db:
        db.add(Room(institution_id=sw.institution_id, code="A01", name="考务室", kind="affairs"))
        inst = db.get(Institution, sw.institution_id)
        inst.address = "吉林省长春市示范路1号"
        db.add(inst)
        db.commit()
    html = sw.client.get(f"/public/batches/{sw.batch_id}/publicity.html").text
    assert f'<b id="objection-until">{window["ends_on"]}</b>' in html
    place = re.search(r'id="objection-place">(.*?)</p>', html, re.S)
    assert place and "考务室（A01）" in place.group(1) and "吉林省长春市示范路1号" in place.group(1)
    assert "书面" in html and "准考证号" in html
    body = sw.client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert body["objections"]["until"] == window["ends_on"] and body["objections"]["open"] is True
