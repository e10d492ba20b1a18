"""Score publicity: 5 working days (R-PUB-1, R-CAL), the public page (R-PRIV-1)."""

from __future__ import annotations

from datetime import date, datetime

from examday.clock import CST
from examday.identity import mask_id_number, mask_name
from tests.integration.scoring.scoring_world import build
from tests.support import assert_refusal


def at(clock, *args) -> None:
    clock.at = datetime(*args, tzinfo=CST)


def test_publicity_needs_every_score_final(sw):
    assert sw.rubric().status_code == 200 and sw.panel().status_code == 201
    for i in range(3):
        sw.enter(i, sw.candidates[0], 80)
    body = assert_refusal(
        sw.client.post(f"/api/v1/batches/{sw.batch_id}/publicity", headers=sw.admin), 409, "scores_not_final", "R-PUB-1"
    )
    assert body["detail"]["pending"] == 3 + 4  # three skill parts left, four theory scores not imported
    assert sw.batch_status() == "filed"


# R-PUB-1 + R-CAL: across National Day 2026 (1–7 October off, Saturday 10 October worked).
def test_publicity_end_across_a_holiday_with_an_adjusted_working_weekend(client, world, engine, clock):
    at(clock, 2026, 9, 28, 8, 0)
    sw = build(client, world, engine, clock, exam_day=date(2026, 9, 28))
    at(clock, 2026, 9, 28, 17, 0)  # scored once the day's parts are sat (R-SCORE-1)
    sw.ready_for_publicity()
    at(clock, 2026, 9, 30, 8, 30)  # before 09:00: 30 September counts
    p = sw.publish()
    # 30 Sep (1), 8 Oct (2), 9 Oct (3), Saturday 10 Oct (4, adjusted working day), Monday 12 Oct (5).
    assert (p["starts_on"], p["ends_on"], p["lock_from"]) == ("2026-09-30", "2026-10-12", "2026-10-13")
    assert p["provisional"] is False
    at(clock, 2026, 10, 12, 23, 0)
    assert_refusal(sw.lock(), 409, "publicity_not_over", "R-PUB-1")
    at(clock, 2026, 10, 13, 9, 0)
    assert sw.lock().status_code == 200


# R-PUB-1 + R-CAL: a Sunday that is an adjusted working day starts the publicity.
def test_publicity_put_up_on_a_friday_afternoon_starts_on_the_working_sunday(client, world, engine, clock):
    at(clock, 2026, 9, 17, 8, 0)
    sw = build(client, world, engine, clock, exam_day=date(2026, 9, 17))
    at(clock, 2026, 9, 17, 17, 0)  # scored once the day's parts are sat (R-SCORE-1)
    sw.ready_for_publicity()
    at(clock, 2026, 9, 18, 14, 0)  # afternoon: the first full day is Saturday 19, not a working day
    p = sw.publish()
    assert (p["starts_on"], p["ends_on"]) == ("2026-09-20", "2026-09-24")


# R-CAL: a year without an official notice makes the dates provisional, and nothing crashes.
def test_publicity_in_a_year_without_a_notice_is_provisional(client, world, engine, clock):
    at(clock, 2027, 3, 1, 8, 0)
    sw = build(client, world, engine, clock, exam_day=date(2027, 3, 1))
    at(clock, 2027, 3, 1, 17, 0)  # scored once the day's parts are sat (R-SCORE-1)
    sw.ready_for_publicity()
    at(clock, 2027, 3, 2, 8, 30)
    p = sw.publish()
    assert p["provisional"] is True and p["starts_on"] == "2027-03-02"


def test_publicity_starts_once(sw):
    sw.ready_for_publicity()
    sw.publish()
    assert_refusal(
        sw.client.post(f"/api/v1/batches/{sw.batch_id}/publicity", headers=sw.admin),
        409,
        "publicity_started",
        "R-PUB-1",
    )


def test_public_page_is_not_there_before_publicity(sw):
    assert sw.client.get(f"/public/batches/{sw.batch_id}/publicity").status_code == 404


# R-PUB-1 + R-PRIV-1: no login; ticket, masked name and ID, part scores, result.
def test_public_page_shows_masked_names_and_scores_without_login(sw, engine):
    from sqlmodel import Session

    from examday.plans.models import Candidate

    sw.ready_for_publicity()
    sw.publish()
    r = sw.client.get(f"/public/batches/{sw.batch_id}/publicity")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    with Session(engine) as db:
        people = {c.ticket_number: c for c in (db.get(Candidate, i) for i in sw.candidates)}
    first = body["candidates"][0]
    person = people[first["ticket_number"]]
    assert first["name"] == mask_name(person.name) and first["id_number"] == mask_id_number(person.id_number)
    assert first["parts"] == {"theory": 80.0, "skill": 82.0} and first["result"] == "pass"
    assert body["seal"] is None
    html = sw.client.get(f"/public/batches/{sw.batch_id}/publicity", headers={"accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    for c in people.values():
        assert c.id_number not in html.text and c.id_number not in r.text
        assert mask_id_number(c.id_number) in html.text
        if len(c.name) > 2:
            assert c.name not in html.text
    assert sw.client.get(f"/public/batches/{sw.batch_id}/publicity.html").text == html.text
