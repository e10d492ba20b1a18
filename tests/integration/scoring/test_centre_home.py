"""The centre's home shows its work first (issue #16: "the centre: reports and deadlines"; R-CERT-1,
R-PUB-2): the batches of its province awaiting review, the reports received against due, the
nearest reporting deadlines and each overdue report by institution and batch, counted by the
services behind /centre/reviews and /centre/reports; another province's centre sees none of it.

Found retaking the guide's screenshots: the centre's home showed four links and no deadline.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from examday.clock import CST
from examday.registry.models import Institution, Room, Staff
from tests import builders
from tests.integration.scoring.test_exports import AFTER_END, CERT
from tests.support import bearer

# 30 working days from CERT's issue date 2026-12-10 fall in late January 2027 (R-PUB-2).
AFTER_DEADLINE = datetime(2027, 2, 22, 9, 0, tzinfo=CST)


def _locked_batch(engine, institution_id: int, clock) -> int:
    """Another batch of the institution, already locked (its scoring is not what this test is about)."""
    with Session(engine) as db:
        inst = db.get(Institution, institution_id)
        assert inst is not None
        rooms = list(db.exec(select(Room).where(Room.institution_id == institution_id).order_by(col(Room.id))).all())
        proctors = [
            s for s in db.exec(select(Staff).where(Staff.institution_id == institution_id)) if "proctor" in s.roles
        ]
        b = builders.batch(
            db, inst, AFTER_END.date(), rooms[:2], proctors, status="locked", skill_room=rooms[2], now=clock.now()
        )
        db.commit()
        assert b.id is not None
        return b.id


def _section(html: str, sid: str) -> str:
    m = re.search(rf'<section class="card" id="{sid}"(.*?)</section>', html, re.S)
    assert m, sid
    return m.group(0)


def _batches(section: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-batch="(\d+)"', section)}


def test_r_pub_2_the_centres_home_shows_reviews_awaited_reports_received_and_overdue(sw, clock, world, engine):
    """R-CERT-1, R-PUB-2: one batch's data received, one overdue, one awaiting review; by province."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()
    received = sw.batch_id
    overdue = _locked_batch(engine, sw.institution_id, clock)
    awaiting = _locked_batch(engine, sw.institution_id, clock)
    r = sw.client.post(f"/api/v1/batches/{overdue}/review", json={"decision": "approve"}, headers=sw.centre)
    assert r.status_code == 201, r.text
    clock.at = datetime(2026, 12, 10, 9, 0, tzinfo=CST)
    for bid in (received, overdue):
        r = sw.client.post(f"/api/v1/batches/{bid}/certificates", headers=sw.admin, json=CERT)
        assert r.status_code == 201, r.text
    deadline = r.json()["reporting_deadline"]
    r = sw.client.post(f"/api/v1/batches/{received}/report-received", headers=sw.centre)
    assert r.status_code == 200, r.text

    # Before the deadline: both due, one received, the other's deadline the nearest; nothing overdue.
    home = sw.client.get("/", headers=sw.centre)
    assert home.status_code == 200
    reports = _section(home.text, "centre-reports")
    assert 'data-received="1" data-due="2"' in reports and 'id="centre-overdue"' not in reports
    assert _batches(reports) == {overdue} and deadline in reports

    clock.at = AFTER_DEADLINE
    page = sw.client.get("/", headers=sw.centre).text
    reviews, reports = _section(page, "centre-reviews"), _section(page, "centre-reports")
    assert 'data-awaiting="1"' in reviews and _batches(reviews) == {awaiting}
    assert f'href="/centre/reviews#batch-{awaiting}"' in reviews
    assert 'data-received="1" data-due="2"' in reports
    overdue_list = re.search(r'<ul id="centre-overdue">(.*?)</ul>', reports, re.S)
    assert overdue_list and _batches(overdue_list.group(0)) == {overdue}
    # Named with its institution and batch, linking to the batch on the review page.
    with Session(engine) as db:
        name = db.get(Institution, sw.institution_id).name
    assert name in overdue_list.group(0) and "电工" in overdue_list.group(0) and deadline in overdue_list.group(0)
    assert f'href="/centre/reviews#batch-{overdue}"' in overdue_list.group(0)
    assert received not in _batches(reports)

    # Another province's centre: the same home, none of these batches (examday.access).
    other = bearer(world.token("centre-sc", "centre", province="四川"))
    elsewhere = sw.client.get("/", headers=other).text
    assert 'data-awaiting="0"' in elsewhere and 'data-received="0" data-due="0"' in elsewhere
    assert not re.findall(r'data-batch="\d+"', elsewhere) and name not in elsewhere
