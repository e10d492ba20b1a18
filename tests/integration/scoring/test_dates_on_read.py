"""Dates derived on read (R-CAL): a holiday notice the installation administrator enters after a
publicity window opened moves the window's end, the objection deadline and the auto-lock
(R-PUB-1), the plan's last filing day (R-PLAN-1) and the certificates' reporting deadline
(R-PUB-2), wherever they are shown or enforced. The supervision deadline (R-SUP-1):
tests/integration/proctor/test_supervision_notice.py."""

from __future__ import annotations

from datetime import date, datetime

from examday.clock import CST
from tests.integration.scoring.scoring_world import build
from tests.notices import enter_notice, notice_of
from tests.support import assert_refusal

EXAM = date(2027, 3, 1)  # a Monday in a year with no official notice in the packages: provisional


def at(clock, *args) -> None:
    clock.at = datetime(*args, tzinfo=CST)


def window(sw) -> dict:
    return sw.client.get(f"/public/batches/{sw.batch_id}/publicity").json()["publicity"]


def object_to(sw, candidate: int):
    return sw.client.post(
        f"/api/v1/batches/{sw.batch_id}/objections",
        headers=sw.admin,
        json={"candidate_id": candidate, "part": "skill", "reason": "考生对技能成绩有异议"},
    )


def test_a_notice_entered_after_publicity_opened_moves_every_date_R_CAL_R_PUB_1_R_PLAN_1(client, world, engine, clock):
    at(clock, 2027, 3, 1, 8, 0)
    sw = build(client, world, engine, clock, exam_day=EXAM)
    batch = f"/api/v1/batches/{sw.batch_id}"
    assert client.get(batch, headers=sw.admin).json()["latest_filing_date"] == "2027-02-15"
    at(clock, 2027, 3, 1, 17, 0)
    sw.ready_for_publicity()
    at(clock, 2027, 3, 2, 8, 30)
    p = sw.publish()
    # Tue 2, Wed 3, Thu 4, Fri 5, Mon 8 March on the provisional calendar.
    assert (p["starts_on"], p["ends_on"], p["lock_from"], p["provisional"]) == (
        "2027-03-02",
        "2027-03-08",
        "2027-03-09",
        True,
    )

    # The State Council's notice, entered on the window's second day, makes 3 and 4 March
    # (and 24 February, before the exam) days off: the window would hold 3 working days.
    at(clock, 2027, 3, 3, 10, 0)
    enter_notice(client, world, notice_of(2027, holidays=(date(2027, 2, 24), date(2027, 3, 3), date(2027, 3, 4))))

    # R-PUB-1: still 5 working days — Tue 2, Fri 5, Mon 8, Tue 9, Wed 10 — and no longer provisional.
    moved = window(sw)
    assert (moved["starts_on"], moved["ends_on"], moved["lock_from"], moved["provisional"]) == (
        "2027-03-02",
        "2027-03-10",
        "2027-03-11",
        False,
    )
    page = client.get(f"/office/batches/{sw.batch_id}/scores", headers=sw.admin).text
    assert "2027-03-10" in page and "2027-03-08" in page  # the end, and the one first announced
    html = client.get(f"/public/batches/{sw.batch_id}/publicity.html").text
    assert "2027-03-02 至 2027-03-10" in html
    # R-PLAN-1: the last filing day is the 10th working day before the exam on the same calendar.
    got = client.get(batch, headers=sw.admin).json()
    assert (got["latest_filing_date"], got["provisional_years"]) == ("2027-02-12", [])
    assert client.get(f"{batch}/check", headers=sw.admin).json()["latest_filing_date"] == "2027-02-12"

    # 9 March: publicity on the entered calendar. Nothing locks on its own, an objection is heard.
    at(clock, 2027, 3, 9, 10, 0)
    assert client.get(f"/public/batches/{sw.batch_id}/publicity").json()["status"] == "publicity"
    page = client.get(f"/office/batches/{sw.batch_id}/scores", headers=sw.admin).text
    assert "公示期已结束" not in page
    r = object_to(sw, sw.candidates[0])
    assert r.status_code == 201, r.text
    resolved = client.post(
        f"/api/v1/objections/{r.json()['id']}/resolve",
        headers=sw.admin,
        json={"decision": "rejected", "reason": "有据"},
    )
    assert resolved.status_code == 200, resolved.text
    body = assert_refusal(sw.lock(), 409, "publicity_not_over", "R-PUB-1")
    assert body["detail"]["violations"][0]["detail"] == {"ends_on": "2027-03-10", "lock_from": "2027-03-11"}

    # 11 March: the objection deadline has passed, and the first request locks the batch.
    at(clock, 2027, 3, 11, 8, 30)
    public = client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert public["status"] == "locked" and public["seal"]["trigger"] == "auto"
    assert public["publicity"]["ends_on"] == "2027-03-10"

    # R-PUB-2: the certificates' reporting deadline, 30 working days from the issue date, moves with a
    # corrected notice entered after the issue (Qingming, 5 April, is already off; 16 April is added).
    sw.approve()
    cert = {"kind": "Y", "institution_code": "0000", "site_serial": "000012", "issue_date": "2027-03-11"}
    issued = client.post(f"{batch}/certificates", headers=sw.admin, json=cert)
    assert issued.status_code == 201, issued.text
    assert issued.json()["reporting_deadline"] == "2027-04-23"
    enter_notice(
        client,
        world,
        notice_of(2027, holidays=(date(2027, 2, 24), date(2027, 3, 3), date(2027, 3, 4), date(2027, 4, 16))),
        username="root2",
    )
    assert client.get(f"{batch}/certificates", headers=sw.admin).json()["reporting_deadline"] == "2027-04-26"
    assert client.get(f"{batch}/review", headers=sw.admin).json()["report"]["reporting_deadline"] == "2027-04-26"
    # The dates of the window stay where the first notice put them: the correction touches April only.
    assert window(sw)["ends_on"] == "2027-03-10"


def test_an_adjusted_working_weekend_ends_the_window_earlier_R_CAL_R_PUB_1(client, world, engine, clock):
    at(clock, 2027, 3, 1, 8, 0)
    sw = build(client, world, engine, clock, exam_day=EXAM)
    at(clock, 2027, 3, 1, 17, 0)
    sw.ready_for_publicity()
    at(clock, 2027, 3, 2, 8, 30)
    assert sw.publish()["ends_on"] == "2027-03-08"
    # Saturday 6 March becomes a working day (调休): the fifth working day is that Saturday.
    enter_notice(client, world, notice_of(2027, workdays=(date(2027, 3, 6),)))
    assert (window(sw)["ends_on"], window(sw)["lock_from"]) == ("2027-03-06", "2027-03-07")
    at(clock, 2027, 3, 6, 12, 0)  # R-PUB-1: the last day of publicity is still publicity
    assert_refusal(sw.lock(), 409, "publicity_not_over", "R-PUB-1")
    at(clock, 2027, 3, 7, 9, 0)  # Sunday: the first request locks the batch, and no objection comes in after
    assert_refusal(object_to(sw, sw.candidates[0]), 409, "locked", "R-SCORE-3")
    public = client.get(f"/public/batches/{sw.batch_id}/publicity").json()
    assert public["status"] == "locked" and public["seal"]["trigger"] == "auto"
