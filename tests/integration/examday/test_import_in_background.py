"""A large XLSX candidate list imports in the background (issue #16; R-ID-1 all or nothing): the
page shows the rows read and refreshes itself, and any server process answers it; when done it
goes to the batch with the count imported, or shows the batch page with every bad row and nothing
imported. Only the account that started it reads it (R-PRIV-1). A CSV stays in the request."""

from __future__ import annotations

import csv
import io
import time

from litestar.testing import TestClient
from openpyxl import Workbook

from examday.plans import import_pages
from tests.integration.examday.plans_world import counts, csv_bytes, office
from tests.integration.examday.test_plans_pages import form
from tests.support import bearer


def xlsx(n: int, bad: dict[int, str] | None = None, start: int = 0) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(csv_bytes(n, start=start, bad=bad).decode("utf-8-sig"))):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def follow(client, url: str, headers) -> tuple[int, str, str]:
    """Poll the job's page until it leaves itself: (status, final URL, page)."""
    deadline = time.monotonic() + 120
    while True:
        r = client.get(url, headers=headers, follow_redirects=False)
        if r.status_code == 303:
            page = client.get(r.headers["location"], headers=headers)
            return page.status_code, r.headers["location"], page.text
        if r.status_code != 200 or 'id="progress-text"' not in r.text:
            return r.status_code, url, r.text
        assert "已读取" in r.text and 'http-equiv="refresh"' in r.text  # the rows read, refreshing
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_large_xlsx_imports_in_the_background_read_through_another_process(world, client, clock, settings):
    from examday.app import create_app

    o = office(world, clock)
    url = client.post("/office/batches/new", data=form(o), headers=o.headers, follow_redirects=False).headers[
        "location"
    ]
    bid = int(url.rsplit("/", 1)[1])
    content = xlsx(800)
    assert len(content) > import_pages.BACKGROUND_BYTES
    before = counts(world.engine)
    r = client.post(
        f"{url}/candidates",
        files={"file": ("名单.xlsx", content, "application/vnd.ms-excel")},
        headers=o.headers,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/office/batches/{bid}/candidates/import/")
    job = r.headers["location"]
    with TestClient(create_app(settings, clock)) as second:
        other = bearer(world.token("office-b", "admin", o.iid))
        assert second.get(job, headers=other).status_code == 404  # the starter's only (R-PRIV-1)
        status, where, page = follow(second, job, o.headers)
    assert status == 200 and where == f"/office/batches/{bid}?imported=800", page[-500:]
    assert "已导入 800 名考生" in page
    # An import job is no print job: its id on the tickets' path finds nothing.
    job_id = job.rsplit("/", 1)[1]
    assert client.get(f"/office/batches/{bid}/tickets/print/{job_id}", headers=o.headers).status_code == 404
    assert counts(world.engine)["candidates"] == before["candidates"] + 800


def test_a_large_xlsx_with_bad_rows_lists_them_and_imports_nothing(world, client, clock):
    o = office(world, clock)
    url = client.post("/office/batches/new", data=form(o), headers=o.headers, follow_redirects=False).headers[
        "location"
    ]
    before = counts(world.engine)
    content = xlsx(800, bad={7: "123", 700: ""})
    r = client.post(
        f"{url}/candidates",
        files={"file": ("名单.xlsx", content, "application/vnd.ms-excel")},
        headers=o.headers,
        follow_redirects=False,
    )
    assert r.status_code == 303
    status, _, page = follow(client, r.headers["location"], o.headers)
    assert status == 422
    assert "未导入任何考生" in page and "nothing was imported" in page
    assert "<td>8</td>" in page and "<td>701</td>" in page
    assert counts(world.engine)["candidates"] == before["candidates"]


def test_a_csv_and_a_small_xlsx_stay_in_the_request(world, client, clock):
    o = office(world, clock)
    url = client.post("/office/batches/new", data=form(o), headers=o.headers, follow_redirects=False).headers[
        "location"
    ]
    for name, content in (("名单.csv", csv_bytes(1000)), ("名单.xlsx", xlsx(5, start=5000))):
        r = client.post(f"{url}/candidates", files={"file": (name, content)}, headers=o.headers, follow_redirects=False)
        assert r.status_code == 303 and "?imported=" in r.headers["location"], (name, r.text[-300:])
    page = client.get(url, headers=o.headers).text
    assert 'id="import-form"' in page and "请稍候" in page  # the working state shown on submit
