"""The last filing day on the installation's calendar (R-PLAN-1, R-CAL): a holiday notice the
installation administrator enters after a plan was drafted moves the day, and filing obeys it."""

from __future__ import annotations

from datetime import date, datetime

from examday.clock import CST
from tests.integration.examday.plans_world import batch_row, office, ready
from tests.notices import enter_notice, notice_of
from tests.support import assert_refusal


def test_a_notice_entered_after_drafting_moves_the_last_filing_day_R_PLAN_1_R_CAL(world, client, clock):
    o = office(world, clock)
    bid = ready(client, o)  # exam 14 December 2026: ten working days after 30 November
    got = client.get(f"/api/v1/batches/{bid}", headers=o.headers).json()
    assert (got["exam_date"], got["latest_filing_date"]) == ("2026-12-14", "2026-11-30")
    # Monday 7 December becomes a day off: the tenth working day before the exam is Friday 27 November.
    enter_notice(client, world, notice_of(2026, holidays=(date(2026, 12, 7),)))
    assert client.get(f"/api/v1/batches/{bid}", headers=o.headers).json()["latest_filing_date"] == "2026-11-27"
    page = client.get(f"/office/batches/{bid}", headers=o.headers)
    assert page.status_code == 200 and "2026-11-27" in page.text
    clock.at = datetime(2026, 11, 30, 9, 0, tzinfo=CST)  # the last day on the packages' calendar
    body = assert_refusal(client.post(f"/api/v1/batches/{bid}/file", headers=o.headers), 422, "plan_rejected")
    late = {v["code"]: v for v in body["detail"]["violations"]}["filed_too_late"]
    assert late["rule"] == "R-PLAN-1" and late["detail"]["latest_filing_date"] == "2026-11-27"
    assert batch_row(world.engine, bid).status == "draft"
