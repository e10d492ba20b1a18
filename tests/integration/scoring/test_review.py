"""The centre's review (复核) before certificates (R-CERT-1) and the reporting of a batch's data (R-PUB-2).

Issue #15: the office issued certificate numbers as soon as the batch was locked, and the
``issue_date`` could precede the lock. Now the centre of the institution's province reviews the
locked batch first; certificates only after its approval, dated not before it; the reporting
deadline runs 30 working days from the issue date on the current calendar, and the centre marks
the data received.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlmodel import Session, col, select

from examday.audit import AuditEntry
from examday.calendar import DEFAULT_CALENDAR
from examday.clock import CST
from tests.integration.scoring.test_exports import AFTER_END, CERT
from tests.notices import enter_notice, notice_of
from tests.support import assert_refusal, bearer


@pytest.fixture
def locked(sw, clock):
    """A locked batch the centre has not reviewed yet."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    return sw


def url(sw, tail: str) -> str:
    return f"/api/v1/batches/{sw.batch_id}/{tail}"


def certificates(sw, **over):
    return sw.client.post(url(sw, "certificates"), headers=sw.admin, json={**CERT, **over})


# The finding of issue #15, reproduced: right after the lock the office got 201 and numbers.
def test_r_cert_1_no_certificates_before_the_centre_reviews(locked):
    assert_refusal(certificates(locked), 409, "review_pending", "R-CERT-1")
    body = locked.client.get(url(locked, "review"), headers=locked.admin).json()
    assert body["state"] == "awaiting" and body["reviews"] == [] and body["report"] is None


def test_r_cert_1_the_office_cannot_approve_its_own_batch(locked, world):
    r = locked.client.post(url(locked, "review"), headers=locked.admin, json={"decision": "approve"})
    assert_refusal(r, 403, "forbidden")
    other = bearer(world.token("centre-sc", "centre", province="四川"))
    assert_refusal(
        locked.client.post(url(locked, "review"), headers=other, json={"decision": "approve"}), 403, "forbidden"
    )
    assert_refusal(
        locked.client.post(url(locked, "review"), headers=locked.scorer(0), json={"decision": "approve"}),
        403,
        "forbidden",
    )
    assert locked.client.get(url(locked, "review"), headers=locked.admin).json()["state"] == "awaiting"


def test_r_cert_1_the_installation_admin_may_review(locked, world):
    root = bearer(world.token("root", "admin"))
    r = locked.client.post(url(locked, "review"), headers=root, json={"decision": "approve"})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "approved"


def test_r_cert_1_no_review_before_the_lock(sw, world):
    sw.ready_for_publicity()
    assert_refusal(sw.review(), 409, "batch_not_locked", "R-CERT-1")


def test_r_cert_1_a_return_needs_reasons_and_holds_the_certificates(locked, engine):
    assert_refusal(locked.review("return"), 422, "review_reasons_required", "R-CERT-1")
    assert_refusal(locked.review("maybe"), 422, "review_decision_invalid", "R-CERT-1")
    r = locked.review("return", ["签到表扫描件缺页 the sign-in sheet scan misses a page"])
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "returned"
    refused = certificates(locked)
    assert_refusal(refused, 409, "review_pending", "R-CERT-1")
    assert refused.json()["detail"]["state"] == "returned"
    assert refused.json()["detail"]["reasons"] == ["签到表扫描件缺页 the sign-in sheet scan misses a page"]
    # The office reads the reasons; the scores stay sealed; the centre approves later.
    body = locked.client.get(url(locked, "review"), headers=locked.admin).json()
    assert [x["decision"] for x in body["reviews"]] == ["return"]
    approved = locked.approve()
    assert approved["state"] == "approved" and [x["decision"] for x in approved["reviews"]] == ["return", "approve"]
    assert_refusal(locked.review("return", ["again"]), 409, "review_settled", "R-CERT-1")
    assert certificates(locked).status_code == 201
    with Session(engine) as db:
        actions = [
            (e.action, json.loads(e.diff)["decision"])
            for e in db.exec(
                select(AuditEntry).where(AuditEntry.action == "batch.review").order_by(col(AuditEntry.seq))
            )
        ]
    assert actions == [("batch.review", "return"), ("batch.review", "approve")]


def test_r_cert_1_the_issue_date_is_not_before_the_approval(locked, clock):
    clock.at = datetime(2026, 12, 8, 10, 0, tzinfo=CST)
    locked.approve()
    r = certificates(locked, issue_date="2026-12-07")
    assert_refusal(r, 422, "issue_date_before_review", "R-CERT-1")
    assert r.json()["detail"]["approved_on"] == "2026-12-08"
    assert certificates(locked, issue_date="2026-12-08").status_code == 201


def test_r_pub_2_deadline_on_read_and_the_centre_marks_the_data_received(locked, client, world, clock):
    locked.approve()
    issued = certificates(locked).json()
    deadline = date.fromisoformat(issued["reporting_deadline"])
    assert DEFAULT_CALENDAR.working_days_between(date(2026, 12, 10), deadline) == 30
    # A holiday notice entered after the issue moves the deadline (R-CAL): computed on read.
    enter_notice(client, world, notice_of(2027, holidays=(date(2027, 1, 5),)))
    moved = locked.client.get(url(locked, "certificates"), headers=locked.centre).json()["reporting_deadline"]
    assert date.fromisoformat(moved) > deadline
    assert (
        locked.client.get(url(locked, "review"), headers=locked.admin).json()["report"]["reporting_deadline"] == moved
    )
    # Only the centre marks the data received, once.
    assert_refusal(locked.client.post(url(locked, "report-received"), headers=locked.admin), 403, "forbidden")
    r = locked.client.post(url(locked, "report-received"), headers=locked.centre)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["received_at"] is not None and r.json()["report"]["overdue"] is False
    assert_refusal(locked.client.post(url(locked, "report-received"), headers=locked.centre), 409, "report_received")


def test_r_pub_2_nothing_to_receive_before_the_certificates(locked):
    locked.approve()
    r = locked.client.post(url(locked, "report-received"), headers=locked.centre)
    assert_refusal(r, 409, "certificates_not_issued", "R-PUB-2")


def test_the_centre_lists_batches_awaiting_review_until_the_data_is_received(locked, world):
    centre = bearer(world.token("centre-jl", "centre", province="吉林"))
    listed = locked.client.get("/api/v1/centre/reviews", headers=centre).json()
    assert [(b["batch_id"], b["state"], b["rule"]) for b in listed] == [(locked.batch_id, "awaiting", "R-CERT-1")]
    other = bearer(world.token("centre-sc", "centre", province="四川"))
    assert locked.client.get("/api/v1/centre/reviews", headers=other).json() == []
    locked.review("return", ["补充督导报告 the supervision report is missing"])
    listed = locked.client.get("/api/v1/centre/reviews", headers=centre).json()
    assert [(b["state"], b["last_review"]["decision"]) for b in listed] == [("returned", "return")]
    locked.approve()
    certificates(locked)
    listed = locked.client.get("/api/v1/centre/reviews", headers=centre).json()
    assert [(b["state"], b["rule"], b["report"]["received_at"]) for b in listed] == [("approved", "R-PUB-2", None)]
    locked.client.post(url(locked, "report-received"), headers=centre)
    assert locked.client.get("/api/v1/centre/reviews", headers=centre).json() == []


def test_r_cert_1_the_supervisor_reads_the_review_and_a_scorer_does_not(locked, world):
    locked.approve()
    supervisor = bearer(world.token("sup", "supervisor", locked.institution_id))
    assert locked.client.get(url(locked, "review"), headers=supervisor).json()["state"] == "approved"
    assert_refusal(locked.client.get(url(locked, "review"), headers=locked.scorer(1)), 403, "forbidden")


def test_the_office_page_shows_the_review_and_the_reporting_deadline(locked):
    page_url = f"/office/batches/{locked.batch_id}/scores"
    page = locked.client.get(page_url, headers=locked.admin).text
    assert 'id="review" data-state="awaiting"' in page and "待评价中心复核" in page
    locked.review("return", ["督导报告未附 the supervision report is missing"])
    page = locked.client.get(page_url, headers=locked.admin).text
    assert 'data-state="returned"' in page and "督导报告未附" in page
    locked.approve()
    issued = certificates(locked).json()
    page = locked.client.get(page_url, headers=locked.admin).text
    assert 'data-state="approved"' in page
    assert f'<b id="reporting-deadline">{issued["reporting_deadline"]}</b>' in page
    assert f'<b id="issue-date">{issued["issue_date"]}</b>' in page
