"""Entered holiday notices through HTTP on SQLite and PostgreSQL (R-CAL):
an admin enters a year's official holidays and adjusted working days."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from examday.audit import AuditEntry
from examday.calendar_notices import CalendarNotice, load_calendar
from tests.support import assert_refusal, bearer


def counts(engine) -> tuple[int, int]:
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(CalendarNotice)).one(),
            db.exec(select(func.count()).select_from(AuditEntry)).one(),
        )


def last_action(engine) -> str:
    with Session(engine) as db:
        return db.exec(select(AuditEntry.action).order_by(AuditEntry.seq.desc())).first()


@pytest.fixture
def root(world):
    return bearer(world.token("root", "admin"))


NOTICE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12"],
    "workdays": ["2027-02-06", "2027-02-20"],
}


def test_entered_notice_makes_2027_official(world, client, root):
    iid = world.institution()
    office = bearer(world.token("office", "admin", iid))
    before = client.get("/api/v1/calendar/2027", headers=office).json()
    assert before["provisional"] is True and before["notice"] is None
    with Session(world.engine) as db:
        assert load_calendar(db).is_provisional(2027)
    r = client.post("/api/v1/calendar/notices", headers=root, json=NOTICE_2027)
    assert r.status_code == 201, r.text
    after = client.get("/api/v1/calendar/2027", headers=root).json()
    assert (after["provisional"], after["source"]) == (False, "entered")
    assert "2027-02-10" in after["holidays"] and after["workdays"] == ["2027-02-06", "2027-02-20"]
    assert after["notice"]["entered_by"] == "root"
    with Session(world.engine) as fresh:
        cal = load_calendar(fresh)
        assert cal.is_provisional(2027) is False
        assert cal.is_working_day(date(2027, 2, 6)) and not cal.is_working_day(date(2027, 2, 10))
        assert load_calendar(fresh) is cal  # cached until the next write
    assert last_action(world.engine) == "calendar.notice"


def test_bad_or_unauthorised_notices_change_nothing(world, client, root):
    """R-CAL: the calendar counts every institution's deadlines, so one institution's office may
    not enter a notice (it would move its own deadlines and everyone else's)."""
    iid = world.institution()
    toks = [
        bearer(world.token("u-centre", "centre", province="吉林")),
        bearer(world.token("u-p", "proctor", iid)),
        bearer(world.token("u-office", "admin", iid)),
    ]
    before = counts(world.engine)
    for tok in toks:
        assert_refusal(client.post("/api/v1/calendar/notices", headers=tok, json=NOTICE_2027), 403, "forbidden")
    assert_refusal(
        client.post("/api/v1/calendar/notices", headers=root, json={**NOTICE_2027, "holidays": ["2025-10-01"]}),
        422,
        "invalid_year_notice",
        "R-CAL",
    )
    assert_refusal(
        client.post("/api/v1/calendar/notices", headers=root, json={**NOTICE_2027, "workdays": ["2027-01-01"]}),
        422,
        "invalid_year_notice",
        "R-CAL",
    )
    assert_refusal(
        client.post("/api/v1/calendar/notices", headers=root, json={**NOTICE_2027, "holidays": ["2027-13-01"]}),
        422,
        "invalid_date",
        "R-CAL",
    )
    assert counts(world.engine) == before


def test_correcting_a_notice_replaces_it_and_the_cache_follows(world, client, root):
    assert client.post("/api/v1/calendar/notices", headers=root, json=NOTICE_2027).status_code == 201
    with Session(world.engine) as db:
        first = load_calendar(db)
    assert not first.is_working_day(date(2027, 2, 12))
    fixed = {**NOTICE_2027, "holidays": [d for d in NOTICE_2027["holidays"] if d != "2027-02-12"]}
    assert client.post("/api/v1/calendar/notices", headers=root, json=fixed).status_code == 201
    with Session(world.engine) as fresh:
        second = load_calendar(fresh)
        assert second is not first and second.is_working_day(date(2027, 2, 12))
        assert fresh.exec(select(func.count()).select_from(CalendarNotice)).one() == 1
    assert last_action(world.engine) == "calendar.notice_correct"
