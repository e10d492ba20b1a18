"""The centre's dashboard of the reports received (issue #17, R-PUB-2, R-SUP-1, R-DISC-1)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

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
