"""The centre's dashboard of the reports received (issue #17, R-PUB-2, R-SUP-1, R-DISC-1)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from examday.clock import CST
from tests.integration.scoring.test_exports import AFTER_END, CERT
from tests.integration.scoring.test_report_package import fetch, members, register, rezip, send, uscc_of
from tests.support import bearer


@pytest.fixture
def issued(sw, clock):
    """Locked, approved, certificates issued: the 30 working days of R-PUB-2 run."""
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    sw.approve()
    r = sw.client.post(f"/api/v1/batches/{sw.batch_id}/certificates", headers=sw.admin, json=CERT)
    assert r.status_code == 201, r.text
    return sw


def test_r_pub_2_a_late_report_and_a_refused_package_show_per_institution(issued, world, clock):
    centre = register(issued, world)
    package = fetch(issued).content
    files = members(package)
    files["results.csv"] += b" "
    assert send(issued, rezip(files), centre).status_code == 422
    clock.at = AFTER_END + timedelta(days=90)  # well past 30 working days from the issue date
    assert send(issued, package, centre).status_code == 201

    page = issued.client.get("/centre/reports", headers=centre)
    assert page.status_code == 200
    html = page.text
    uscc = uscc_of(issued)
    assert f'data-uscc="{uscc}"' in html and 'data-on-time="False"' in html
    assert "package_file_mismatch" in html and "逾期" in html

    xlsx = issued.client.get("/centre/reports.xlsx", headers=centre)
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content))["上报情况"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == uscc)
    # reported, on time, late, refused, blocked
    assert row[2:7] == (1, 0, 1, 1, 0)


def test_r_pub_2_on_time_and_blocked(issued, world, clock):
    centre = register(issued, world)
    files = members(fetch(issued).content)
    files["certificates.csv"] += b"x"
    assert send(issued, rezip(files), centre).status_code == 422
    ws = load_workbook(io.BytesIO(issued.client.get("/centre/reports.xlsx", headers=centre).content))["上报情况"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == uscc_of(issued))
    assert row[2:7] == (0, 0, 0, 1, 1)  # the only package refused: the batch is blocked
    assert send(issued, fetch(issued).content, centre).status_code == 201
    ws = load_workbook(io.BytesIO(issued.client.get("/centre/reports.xlsx", headers=centre).content))["上报情况"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == uscc_of(issued))
    assert row[2:7] == (1, 1, 0, 1, 0)


def test_another_provinces_centre_sees_none_of_it(issued, world):
    centre = register(issued, world)
    assert send(issued, fetch(issued).content, centre).status_code == 201
    other = bearer(world.token("centre-sc", "centre", None, province="四川"))
    page = issued.client.get("/centre/reports", headers=other)
    assert page.status_code == 200 and uscc_of(issued) not in page.text
    office = issued.client.get("/centre/reports", headers=issued.admin)
    assert uscc_of(issued) not in office.text  # an institution's office is no centre


def test_r_pub_2_tier_b_c_incidents_late_supervision_and_the_last_verification(client, world, engine, clock):
    """Issue #17, R-PUB-2 (with R-DISC-1, R-SUP-1): the centre's dashboard counts the incidents of
    tier (b) and (c) its packages report — not (a) — and the supervision reports filed after their 3
    working days, and shows each batch's last verification, on the page and in the XLSX."""
    from tests.integration.scoring.scoring_world import build
    from tests.integration.scoring.test_exam_day_outcomes import TODAY, _at, _desk, _proctors, _seat
    from tests.integration.scoring.test_report_package import file_supervision_report

    sw = build(client, world, engine, clock, n_candidates=4, exam_day=TODAY, admit=False)
    room, proctor = _seat(engine, sw), _proctors(engine, world, sw)
    kiosk = bearer(world.token("kiosk1", "kiosk", sw.institution_id))
    _at(clock, 8, 40)
    for cid in sw.candidates:
        _desk(client, sw, kiosk, cid)
    _at(clock, 9, 30)
    kinds = ("copying", "using_electronic_device", "disturbance")  # tiers (b), (c), (a)
    for cid, kind in zip(sw.candidates, kinds, strict=False):
        body = {"room_code": room[cid], "candidate_id": cid, "kind": kind, "description": "监考记录"}
        r = client.post(f"/api/v1/batches/{sw.batch_id}/incidents", json=body, headers=proctor[room[cid]])
        assert r.status_code == 201, r.text
    sw.sit(parts=("skill",))
    _at(clock, 14, 30)
    sw.ready_for_publicity()
    _at(clock, 17, 0)
    sw.publish()
    clock.at = datetime(2026, 12, 2, 10, 0, tzinfo=CST)  # due 2026-12-01, 3 working days after the exam
    file_supervision_report(sw, world)
    clock.at = datetime(2026, 12, 4, 9, 0, tzinfo=CST)
    assert sw.lock().status_code == 200
    sw.approve()

    centre = register(sw, world)
    package = fetch(sw).content
    exam_day = json.loads(members(package)["manifest.json"])["exam_day"]
    assert (exam_day["incidents"], exam_day["supervision_due"]) == ({"b": 1, "c": 1}, "2026-12-01")
    assert send(sw, package, centre).status_code == 201
    files = members(package)
    files["results.csv"] += b" "  # the same batch again, changed: its last verification is the refusal
    assert send(sw, rezip(files), centre).status_code == 422

    uscc = uscc_of(sw)
    html = sw.client.get("/centre/reports", headers=centre).text
    assert '<td class="tier-b">1</td><td class="tier-c">1</td><td class="late-supervision">1</td>' in html
    last = html.split(f'id="batch-{uscc}-{sw.batch_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="last-verification" data-status="refused"' in last and "package_file_mismatch" in last
    assert '<td class="blocked">0</td>' in html  # accepted once: not blocked

    book = load_workbook(io.BytesIO(sw.client.get("/centre/reports.xlsx", headers=centre).content))
    row = next(r for r in book["上报情况"].iter_rows(values_only=True) if r[0] == uscc)
    # reported, on time, late, refused, blocked, tier b, tier c, late supervision
    assert row[2:10] == (1, 1, 0, 1, 0, 1, 1, 1)
    (batch,) = [r for r in book["批次 batches"].iter_rows(min_row=2, values_only=True) if r[0] == uscc]
    assert batch[1] == sw.batch_id and batch[8:10] == ("refused", "package_file_mismatch")
